"""A message's small line under its text: its time, and Copy in one click.

- `time_label`: when a message was written, on the member's clock (the
  browser's zone, `st.context.timezone`, as History uses): "14:05" today,
  "28 Nov 14:05" this year, "28 Nov 2025 14:05" before; the full date and zone
  in its tooltip.
- `tools_html`: one `st.html` element per message (no widget, no rerun): the
  time, and a Copy button that puts the message's raw text (as typed, or the
  answer's Markdown source) on the clipboard and says "Copied". The text
  travels base64-encoded in a data attribute, so no text a bot writes can
  break out of it or be altered by the HTML sanitiser (DOMPurify).
- `page_script`: the page's one script (event delegation on the document,
  installed once): copies on click (the Clipboard API; a hidden text area and
  `execCommand("copy")` where that API is refused, as on plain HTTP), puts the
  cursor in the message box when asked, and keeps a message in view after
  "Show earlier" or a find.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
from datetime import UTC, datetime, tzinfo
from typing import Final, Literal

import streamlit as st

COPY_LABEL: Final = "Copy text"
COPIED_LABEL: Final = "Copied"
CHAT_INPUT_SELECTOR: Final = '[data-testid="stChatInputTextArea"]'
SCRIPTS_KEY: Final = "chat_scripts"  # the hidden container the scripts live in

# Material "content_copy" from the icon font Streamlit itself bundles and serves
# (no fetch from elsewhere; the HTML sanitiser drops inline SVG).
_COPY_ICON: Final = (
    '<span class="ablt-copy-icon" aria-hidden="true" translate="no">content_copy</span>'
)

TOOLS_STYLE: Final = (
    "<style>"
    ".ablt-tools { display: flex; align-items: center; gap: 0.5rem; min-height: 1.5rem;"
    " font-size: 0.8rem; color: var(--st-text-color, inherit); opacity: 0.65; }"
    ".ablt-tools:hover, .ablt-tools:focus-within { opacity: 1; }"
    ".ablt-copy { display: inline-flex; align-items: center; gap: 0.25rem; border: 0;"
    " background: transparent; color: inherit; cursor: pointer; padding: 0.1rem 0.25rem;"
    " border-radius: 0.25rem; font: inherit; }"
    ".ablt-copy:hover { background: rgba(128, 128, 128, 0.15); }"
    ".ablt-copy:focus-visible { outline: 2px solid currentColor; }"
    ".ablt-copy-icon { font-family: 'Material Symbols Rounded'; font-weight: 400;"
    " font-size: 1rem; line-height: 1; font-feature-settings: 'liga'; user-select: none;"
    " white-space: nowrap; direction: ltr; }"
    ".ablt-tools time { user-select: none; }"
    # The narrow sidebar button keeps its label; its help names the shortcut.
    ".st-key-chat_new kbd { display: none; }"
    f".st-key-{SCRIPTS_KEY} {{ display: none; }}"
    # Streamlit's own Stop (top right, while a run is on) would only freeze the
    # page: the answer goes on in its worker. The answer's Stop (and Esc) stops it.
    '[data-testid="stStatusWidget"] button { display: none; }'
    ".ablt-current-match { outline: 2px solid #f5a623; outline-offset: 4px;"
    " border-radius: 0.5rem; }"
    "</style>"
)


def time_label(when: datetime, tz: tzinfo | None, *, now: datetime | None = None) -> str:
    """`when` as a short clock reading in `tz` (UTC when None): "14:05" on the
    same local day as `now`, "28 Nov 14:05" in the same year, else with the year.
    A naive `when` is taken as UTC (the store's times are UTC)."""
    zone = tz or UTC
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(zone)
    today = (now or datetime.now(UTC)).astimezone(zone)
    clock = f"{local:%H:%M}"
    if local.date() == today.date():
        return clock
    day = f"{local.day} {local:%b}"
    if local.year == today.year:
        return f"{day} {clock}"
    return f"{day} {local.year} {clock}"


def full_time(when: datetime, tz: tzinfo | None) -> str:
    """`when` in full, for the tooltip: "2026-11-30 14:05 CET" (UTC when `tz` is None)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(tz or UTC)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def encode_text(text: str) -> str:
    """The raw text as base64 of its UTF-8 bytes (what the copy button carries)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def tools_html(
    *,
    message_id: str,
    when: datetime | None,
    tz: tzinfo | None,
    copy_text: str | None,
    note: str = "",
    now: datetime | None = None,
) -> str:
    """The line under a message: its time (when known), an optional plain-text
    `note` (e.g. "Imported"), and Copy when `copy_text` is given. Every value
    is escaped; `message_id` marks the line so scripts can find its message."""
    parts = [f'<div class="ablt-tools" data-ablt-msg="{html.escape(message_id)}">']
    if when is not None:
        stamp = when if when.tzinfo else when.replace(tzinfo=UTC)
        parts.append(
            f'<time datetime="{html.escape(stamp.astimezone(UTC).isoformat())}" '
            f'title="{html.escape(full_time(stamp, tz))}">'
            f"{html.escape(time_label(stamp, tz, now=now))}</time>"
        )
    if note:
        parts.append(f'<span class="ablt-note">{html.escape(note)}</span>')
    if copy_text is not None:
        parts.append(
            f'<button type="button" class="ablt-copy" data-ablt-copy="{encode_text(copy_text)}" '
            f'aria-label="{COPY_LABEL}" title="{COPY_LABEL}">{_COPY_ICON}'
            '<span class="ablt-copy-done" aria-live="polite"></span></button>'
        )
    parts.append("</div>")
    return "".join(parts)


_PAGE_SCRIPT: Final = """
<script>
(() => {
  const w = window;
  if (!w.__abltChatTools) {
    w.__abltChatTools = true;
    const decode = (b64) => new TextDecoder().decode(
      Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
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
      const text = decode(button.dataset.abltCopy);
      let ok = false;
      try { await navigator.clipboard.writeText(text); ok = true; }
      catch (e) { ok = fallbackCopy(text); }
      const done = button.querySelector(".ablt-copy-done");
      if (done) done.textContent = ok ? "COPIED" : "Copy failed";
      clearTimeout(button.__abltTimer);
      button.__abltTimer = setTimeout(() => { if (done) done.textContent = ""; }, 2500);
    });
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
          && event.target.matches && event.target.matches('INPUT')) sent();
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
  const conversation = CONVERSATION;
  if (conversation !== w.__abltConversation) {
    // Another conversation (or this one opened again): start at its newest message.
    w.__abltConversation = conversation;
    w.__abltStick = true;
    w.__abltFollow();
  }
  const settled = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !app || app.getAttribute("data-test-script-state") === "notRunning";
  };
  const focus = FOCUS;
  if (focus) {
    let tries = 0;
    const go = () => {
      const box = document.querySelector('INPUT');
      if (box && !box.disabled) { box.focus(); return; }
      if (++tries < 200) setTimeout(go, 50);
    };
    go();
  }
  const anchor = ANCHOR;
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
</script>
"""


def page_script(
    *, focus_input: bool, anchor: str | None, mark: bool = False, conversation: str = ""
) -> str:
    """The page's script: copy handling and keeping the newest message in view
    (installed once per page), plus this run's requests: the cursor into the
    message box; the message `anchor` (an id) kept in view, outlined as the
    current match when `mark`. A new `conversation` (any string naming the one
    shown) starts at its newest message."""
    anchor_js = json.dumps({"id": anchor, "mark": mark}) if anchor else "null"
    return (
        _PAGE_SCRIPT.replace("FOCUS", "true" if focus_input else "false")
        .replace("CONVERSATION", json.dumps(conversation))
        .replace("ANCHOR", anchor_js)
        .replace("COPIED", COPIED_LABEL)
        .replace("INPUT", CHAT_INPUT_SELECTOR)
    )


def render_page_tools(
    *,
    focus_input: bool = False,
    anchor: str | None = None,
    mark: bool = False,
    conversation: str = "",
) -> None:
    """Draw the style and the script in a hidden container (they take no room).

    A run that asks for focus or a scroll, or shows another `conversation`,
    gets a script of its own (a fresh element, so the browser runs it again);
    otherwise the same one each run."""
    st.html(TOOLS_STYLE)
    with st.container(key=SCRIPTS_KEY):
        body = page_script(
            focus_input=focus_input, anchor=anchor, mark=mark, conversation=conversation
        )
        if focus_input or anchor:
            body += f"<!-- {uuid.uuid4().hex} -->"
        st.html(body, unsafe_allow_javascript=True)


def render_tools(
    message_id: str,
    when: datetime | None,
    tz: tzinfo | None,
    copy_text: str | None,
    *,
    width: Literal["stretch", "content"] = "stretch",
) -> None:
    """Draw a message's line (`tools_html`) inside its bubble; a page call.
    `width="content"` leaves room beside it in a horizontal container."""
    st.html(tools_html(message_id=message_id, when=when, tz=tz, copy_text=copy_text), width=width)


IMPORTED_ICON: Final = ":material/upload_file:"


def imported_label(imported_at: datetime | None, tz: tzinfo | None) -> str | None:
    """ "Imported 30 Nov 2026" for a conversation imported from a file (the day on
    the member's clock), None for one made here."""
    if imported_at is None:
        return None
    stamp = imported_at if imported_at.tzinfo else imported_at.replace(tzinfo=UTC)
    local = stamp.astimezone(tz or UTC)
    return f"Imported {local.day} {local:%b} {local.year}"


def render_imported_badge(imported_at: datetime | None, tz: tzinfo | None) -> None:
    """The chat header's mark on an imported conversation (nothing otherwise)."""
    label = imported_label(imported_at, tz)
    if label and imported_at is not None:
        st.badge(
            label,
            icon=IMPORTED_ICON,
            color="gray",
            help=f"Imported {full_time(imported_at, tz)}; its dates are the file's.",
        )
