"""Rendering helpers shared by the pages: badges, the API health, error boxes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from webapp import backend
from webapp.auth.guard import view_action
from webapp.text import literal as md
from webapp.ui import styles
from webapp.ui.i18n import N_, _

API_DOWN_MESSAGE = N_(
    "The aBLT API is not answering right now. Pages still open, but "
    "chats, bots and statistics may fail until it is back."
)


def member_timezone() -> ZoneInfo | None:
    """The browser's time zone (`st.context.timezone`), so "today" is the
    member's today; None when the browser did not say or named no real zone."""
    name = st.context.timezone
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def hide_cookie_component() -> None:
    """Keep the invisible login cookie component from pushing the page down
    (`webapp.ui.styles.hide_cookie_component`); with the accessibility sheet
    every page needs (`webapp.ui.styles.accessible`)."""
    styles.hide_cookie_component()
    styles.accessible()


DEMO_NOTE = N_(
    "Answers come from the built-in aBLT emulator, not the real API. "
    "Set ABLT_BEARER_TOKEN to use aBLT."
)


def api_down_notice() -> None:
    """The same news in the page itself, so nobody misses it; with a Retry."""
    with st.container(border=True):
        st.warning(_(API_DOWN_MESSAGE), icon=":material/cloud_off:")
        st.button(_("Retry"), key="ui_api_down_retry", on_click=retry_health)


@view_action
def retry_health() -> None:
    """Retry: forget the cached health, so this run asks the API again
    (`webapp.backend.retry_health`; marked here, where no import cycle follows)."""
    backend.retry_health()


def error_box(
    message: str,
    *,
    retry_key: str | None = None,
    on_retry: Callable[..., Any] | None = None,
    args: tuple[Any, ...] = (),
    retry_label: str = "Retry",
) -> None:
    """A plain-words error, with a Retry button when a retry makes sense.

    `message` is drawn as text, never Markdown (`webapp.text.literal.escape`):
    it may carry the API's own words (an error's detail) or a stored error."""
    st.error(md.escape(message), icon=":material/error:")
    if retry_key is not None:
        st.button(retry_label, key=retry_key, on_click=on_retry, args=args, type="primary")
