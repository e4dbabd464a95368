// The page's language and direction, and each message's own direction.
// Sets the html element's lang and dir (Arabic: "rtl", the whole page mirrored),
// and gives the text of every chat message and the message box dir="auto",
// so an Arabic answer reads right to left in an English page and vice versa.
// Parameters (the JSON element just before this script):
//   {"lang": "de-DE" | ..., "dir": "ltr" | "rtl"}
(() => {
  const params = JSON.parse(document.currentScript.previousElementSibling.textContent);
  const root = document.documentElement;
  root.lang = params.lang;
  root.dir = params.dir;
  const texts =
    '[data-testid="stChatMessageContent"] [data-testid="stMarkdownContainer"]:not([dir]),' +
    '[data-testid="stChatInput"] textarea:not([dir])';
  const mark = () => {
    for (const node of document.querySelectorAll(texts)) node.setAttribute("dir", "auto");
  };
  mark();
  if (!window.abltDirectionObserver) {
    window.abltDirectionObserver = new MutationObserver(mark);
    window.abltDirectionObserver.observe(document.body, { childList: true, subtree: true });
  }
})();
