// Where the chat's view goes: it follows the newest message, goes to a message
// asked for (outlined when it is a find's match), and puts the cursor in the
// message box when asked. The listeners are installed once per page; the
// requests are this run's.
// Parameters (the JSON element just before this script):
//   {"focus_input": bool, "anchor": {"id": str, "mark": bool} | null, "conversation": str}
(() => {
  const params = JSON.parse(document.currentScript.previousElementSibling.textContent);
  const w = window;
  const INPUT = '[data-testid="stChatInputTextArea"]';
  if (!w.__abltFollowInstalled) {
    w.__abltFollowInstalled = true;
    // Keep the newest message in view, as Streamlit does for a chat whose message
    // box it pins itself (ours is drawn by the conversation's fragment, which
    // turns that off): the view follows new text while the reader is at the
    // bottom; scrolling up lets go, scrolling back down holds again.
    const scroller = () => document.querySelector('[data-testid="stMain"]');
    const nearBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    w.__abltStick = true;
    let lastTop = 0;
    document.addEventListener("scroll", (event) => {
      const el = scroller();
      if (!el || event.target !== el) return;
      if (nearBottom(el)) w.__abltStick = true;
      else if (el.scrollTop < lastTop - 2) w.__abltStick = false;
      lastTop = el.scrollTop;
    }, true);
    let queued = false;
    w.__abltFollow = () => {
      // Only on the page that drew this script: another page (Bots, Statistics)
      // opens at its top. Streamlit names the new page in the URL first.
      if (queued || location.pathname !== w.__abltChatPath) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        const el = scroller();
        if (el && w.__abltStick) { el.scrollTop = el.scrollHeight; lastTop = el.scrollTop; }
      });
    };
    new MutationObserver(w.__abltFollow).observe(document.body,
      { subtree: true, childList: true, characterData: true });
    // Sending goes to the newest message, wherever the reader had scrolled
    // (as in ChatGPT): the prompt and its answer are what they look at next.
    const sent = () => { w.__abltStick = true; w.__abltFollow(); };
    document.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing
          && event.target.matches && event.target.matches(INPUT)) sent();
    }, true);
    document.addEventListener("click", (event) => {
      if (event.target.closest && event.target.closest(
        '[data-testid="stChatInputSubmitButton"]')) sent();
    }, true);
  }
  if (location.pathname !== w.__abltChatPath) {
    // Back from another page: start at the newest message again.
    w.__abltChatPath = location.pathname;
    w.__abltConversation = undefined;
  }
  const conversation = params.conversation;
  if (conversation !== w.__abltConversation) {
    // Another conversation (or this one opened again): start at its newest message.
    w.__abltConversation = conversation;
    w.__abltStick = true;
    w.__abltFollow();
  }
  // Streamlit's run has ended (its app root says so).
  const settled = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !app || app.matches('[data-test-script-state="notRunning"]');
  };
  if (params.focus_input) {
    let tries = 0;
    const go = () => {
      const box = document.querySelector(INPUT);
      if (box && !box.disabled) { box.focus(); return; }
      if (++tries < 200) setTimeout(go, 50);
    };
    go();
  }
  const anchor = params.anchor;
  if (!anchor || !anchor.mark) {
    // The outline marks the match just found, until the next run.
    document.querySelectorAll(".ablt-current-match")
      .forEach((el) => el.classList.remove("ablt-current-match"));
  }
  if (anchor) {
    w.__abltStick = false;  // the reader asked for this message: stay with it
    let tries = 0;
    let userMoved = false;
    const stop = () => { userMoved = true; };
    w.addEventListener("wheel", stop, { once: true, passive: true });
    w.addEventListener("touchmove", stop, { once: true, passive: true });
    w.addEventListener("keydown", stop, { once: true });
    const keep = () => {
      if (userMoved) return;
      const line = document.querySelector(`[data-ablt-msg="${CSS.escape(anchor.id)}"]`);
      const bubble = line && line.closest('[data-testid="stChatMessage"]');
      if (bubble) {
        document.querySelectorAll(".ablt-current-match")
          .forEach((el) => el.classList.remove("ablt-current-match"));
        if (anchor.mark) bubble.classList.add("ablt-current-match");
        bubble.scrollIntoView({ block: anchor.mark ? "center" : "start" });
      }
      if (++tries < 100 && !(bubble && settled() && tries > 4)) setTimeout(keep, 50);
    };
    keep();
  }
})();
