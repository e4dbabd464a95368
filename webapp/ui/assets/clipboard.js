// Copy in one click: a button carrying `data-ablt-copy` (its text, percent-encoded
// where it must be: see clipboard.py) puts that text on the clipboard and says so in
// its `.ablt-copy-done`. One listener on the document, installed once.
// Parameters (the JSON element just before this script): {"copied_label": str}.
(() => {
  const params = JSON.parse(document.currentScript.previousElementSibling.textContent);
  const w = window;
  w.__abltCopiedLabel = params.copied_label;
  if (w.__abltChatTools) return;
  w.__abltChatTools = true;
  // Where the Clipboard API is refused (as on plain HTTP): a hidden text area
  // and execCommand("copy").
  const fallbackCopy = (text) => {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok;
  };
  document.addEventListener("click", async (event) => {
    const button = event.target.closest && event.target.closest("button[data-ablt-copy]");
    if (!button) return;
    const text = decodeURIComponent(button.dataset.abltCopy);
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; }
    catch (e) { ok = fallbackCopy(text); }
    const done = button.querySelector(".ablt-copy-done");
    if (done) done.textContent = ok ? w.__abltCopiedLabel : "Copy failed";
    clearTimeout(button.__abltTimer);
    button.__abltTimer = setTimeout(() => { if (done) done.textContent = ""; }, 2500);
  });
})();
