"""One way to show a notice once: an action flashes it, the next run shows it.

Widget callbacks run before the script and cannot draw, so what they have to
say ("Saved", "That conversation no longer exists") is kept in the session
under the area that will show it ("chat", "team", "compare", ...) and drawn
by that area's `show` on the next run, then dropped. A newer notice for the
same area replaces an older one that was never shown.

    flash("team", "Alice is now an admin.", "success")   # in a callback
    show("team")                                           # in the page, once
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import streamlit as st

from webapp.ui.state import Keys

Kind = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """`text` (Markdown, with stored values already escaped) of `kind`."""

    kind: Kind
    text: str


def _pending() -> dict[str, Notice]:
    notices = st.session_state.get(Keys.FLASH)
    if not isinstance(notices, dict):
        notices = {}
        st.session_state[Keys.FLASH] = notices
    return notices


def flash(area: str, text: str, kind: Kind = "info") -> None:
    """Keep `text` for `area`'s next `show` (replacing one not shown yet)."""
    _pending()[area] = Notice(kind, text)


def peek(area: str) -> Notice | None:
    """The notice waiting for `area`, left in place."""
    return _pending().get(area)


def take(area: str) -> Notice | None:
    """The notice waiting for `area`, removed (the caller draws it)."""
    return _pending().pop(area, None)


def show(area: str) -> Notice | None:
    """Draw `area`'s waiting notice, if any, once; returns what was drawn."""
    notice = take(area)
    if notice is not None:
        draw = {"success": st.success, "warning": st.warning, "error": st.error}
        draw.get(notice.kind, st.info)(notice.text)
    return notice
