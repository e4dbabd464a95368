// Screen readers hear an answer once, not word by word (announce.py). One
// polite live region (role="status", out of sight) says "started" when an
// answer's Stop appears, a status line (waiting for a slot, rate limited) when
// its kind changes (not every second of a countdown), and the whole answer
// once its Stop has gone. One observer, installed once; labels from the
// latest run. Parameters: {"started_label": str, "done_label": str,
// "stop_key": str}.
(() => {
  const params = JSON.parse(document.currentScript.previousElementSibling.textContent);
  const w = window;
  w.__abltAnnounce = params;
  if (w.__abltAnnouncer) return;
  w.__abltAnnouncer = true;
  const region = document.createElement("div");
  region.id = "ablt-live";
  region.className = "ablt-sr-only";
  region.setAttribute("role", "status");
  region.setAttribute("aria-live", "polite");
  region.setAttribute("aria-atomic", "true");
  // The words go in a closed shadow root: screen readers read it (it is in the
  // accessibility tree), but a search of the page's text (Ctrl+F, a test's
  // get_by_text) finds each sentence once, in the chat, not again in here.
  const voice = region.attachShadow({ mode: "closed" });
  document.body.appendChild(region);
  const say = (text) => {
    if (!text) return;
    voice.textContent = text;
    (w.__abltAnnounced = w.__abltAnnounced || []).push(text);
  };
  const BUBBLE = '[data-testid="stChatMessageContent"][aria-label="Chat message from assistant"]';
  // A bubble's words: its text and notes, not its tools (time, Copy, buttons).
  const wordsOf = (bubble) => {
    const copy = bubble.cloneNode(true);
    copy.querySelectorAll('.ablt-tools, button, time, [role=radiogroup], [data-testid="stIconMaterial"]')
      .forEach((e) => e.remove());
    return copy.textContent.replace(/\s+/g, " ").trim();
  };
  let running = false;
  let lastStatus = "";
  const check = () => {
    const p = w.__abltAnnounce;
    const stop = document.querySelector(`.st-key-${p.stop_key}`);
    if (stop && !running) {
      running = true;
      lastStatus = "";
      say(p.started_label);
    }
    if (stop) {
      // The status line beside Stop: said when its words change, numbers aside.
      const row = stop.closest('[data-testid="stHorizontalBlock"]') || stop.parentElement;
      const caption = row && row.querySelector('[data-testid="stCaptionContainer"]');
      if (caption) caption.setAttribute("role", "status");
      const line = caption ? caption.textContent.trim() : "";
      const kind = line.replace(/[0-9]+/g, "#");
      if (line && kind !== lastStatus) {
        lastStatus = kind;
        say(line);
      }
      return;
    }
    if (running) {
      const app = document.querySelector('[data-testid="stApp"]');
      if (app && app.getAttribute("data-test-script-state") === "running") return;
      running = false;
      const bubbles = document.querySelectorAll(BUBBLE);
      const last = bubbles[bubbles.length - 1];
      if (last) say(`${p.done_label} ${wordsOf(last)}`);
    }
  };
  let pending = null;
  new MutationObserver(() => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; check(); }, 250);
  }).observe(document.body, { childList: true, subtree: true, attributes: true,
    attributeFilter: ["data-test-script-state"] });
})();
