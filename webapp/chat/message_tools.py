"""A message's small line under its text: its time, and Copy in one click.

- `time_label`: when a message was written, on the member's clock (the
  browser's zone, `st.context.timezone`, as History uses): "14:05" today,
  "28 Nov 14:05" this year, "28 Nov 2025 14:05" before; the full date and zone
  in its tooltip.
- `tools_html`: one `st.html` element per message (no widget, no rerun): the
  time, and a Copy button that puts the message's raw text (as typed, or the
  answer's Markdown source) on the clipboard and says "Copied"
  (`webapp.ui.clipboard`).
- `render_page_tools`: the page's one script (`webapp.ui.chat_scripts`):
  copies on click, puts the cursor in the message box when asked, and keeps a
  message in view after "Show earlier" or a find (`webapp.ui.scroll`).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, tzinfo
from typing import Final, Literal

import streamlit as st

from webapp.imports.model import SOURCE_NAMES, Source
from webapp.limits import BOT_MODEL_MAX_CHARS
from webapp.text import literal as md
from webapp.text.graphemes import cut_graphemes
from webapp.ui import chat_scripts, clipboard, scroll, styles
from webapp.ui.i18n import N_, _

COPY_LABEL: Final = N_("Copy text")
COPIED_LABEL: Final = N_("Copied")


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
    parts = [f'<div class="ablt-tools" {scroll.MESSAGE_ATTRIBUTE}="{html.escape(message_id)}">']
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
        parts.append(clipboard.copy_button_html(copy_text, label=COPY_LABEL))
    parts.append("</div>")
    return "".join(parts)


def render_page_tools(
    *,
    focus_input: bool = False,
    anchor: str | None = None,
    mark: bool = False,
    conversation: str = "",
) -> None:
    """Draw the tools' style and the page's script (hidden: they take no room).

    A run that asks for focus or a scroll, or shows another `conversation`,
    gets a script of its own (a fresh element, so the browser runs it again);
    otherwise the same one each run (`webapp.ui.chat_scripts`)."""
    styles.message_tools()
    chat_scripts.draw(
        copied_label=_(COPIED_LABEL),
        focus_input=focus_input,
        anchor=anchor,
        mark=mark,
        conversation=conversation,
    )


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


def origin_label(source: str | None, model: str | None) -> str | None:
    """ "Imported from ChatGPT, gpt-4o" for a conversation from another app
    (`webapp.imports`), as plain text; None for one made here or in aBLT Chat."""
    if not source or source == Source.ABLT:
        return None
    label = _("Imported from {source}").format(source=SOURCE_NAMES.get(source, source))
    return f"{label}, {cut_graphemes(model, BOT_MODEL_MAX_CHARS)}" if model else label


def render_imported_badge(
    imported_at: datetime | None,
    tz: tzinfo | None,
    source: str | None = None,
    model: str | None = None,
) -> None:
    """The chat header's mark on an imported conversation (nothing otherwise):
    where it came from and its original model when another app's."""
    label = imported_label(imported_at, tz)
    if label and imported_at is not None:
        origin = origin_label(source, model)
        st.badge(
            md.escape(origin) if origin else label,
            icon=IMPORTED_ICON,
            color="gray",
            help=_("Imported {time}; its dates are the file's.").format(
                time=full_time(imported_at, tz)
            ),
        )
