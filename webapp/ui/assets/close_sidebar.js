// Close the sidebar on a phone, once per request. Streamlit has no call to
// collapse its sidebar after the page has loaded, so this clicks the sidebar's
// own collapse control, only when the viewport is narrower than
// `phone_max_width_px` (where the sidebar covers the page) and it is open.
// Parameters (the JSON element just before this script):
//   {"phone_max_width_px": int, "request": int}  (a new request: a new element, run again)
(() => {
  const params = JSON.parse(document.currentScript.previousElementSibling.textContent);
  if (window.innerWidth >= params.phone_max_width_px) return;
  const bar = document.querySelector('section[data-testid="stSidebar"]');
  if (!bar || !bar.matches('[data-collapsed="false"]')) return;
  const close = bar.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (close) close.click();
})();
