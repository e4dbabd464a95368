"""Closing Streamlit's sidebar from the server (`assets/close_sidebar.js`).

Streamlit has no call to collapse its sidebar after the page has loaded
(`st.set_page_config(initial_sidebar_state=...)` acts on the first load), so a
small script clicks the sidebar's own collapse control, only when the viewport
is narrower than the given width (where the sidebar covers the page) and the
sidebar is open. Wider screens keep it open.
"""

from __future__ import annotations

from typing import Final

import streamlit as st

from webapp.ui import assets

SCRIPT: Final = "close_sidebar.js"


def close_script(request: int, *, phone_max_width_px: int) -> str:
    """The script's HTML for the `request`-th ask (each ask a new element, so the
    browser runs it again)."""
    return assets.script_html(
        [SCRIPT], {"phone_max_width_px": phone_max_width_px, "request": request}
    )


def close_below(request: int, *, phone_max_width_px: int) -> None:
    """Close the sidebar in the browser if it is open and the viewport is narrower
    than `phone_max_width_px`. Drawn as the sidebar's last element, so that no
    element after it changes place (and state) between runs."""
    st.sidebar.html(
        close_script(request, phone_max_width_px=phone_max_width_px),
        unsafe_allow_javascript=True,
    )
