"""The chat page's one script element: Copy (`clipboard`), where the view goes
(`scroll`) and what a screen reader hears of an answer (`announce`).

The scripts run in one element, drawn in a container that takes no room
(`styles.hidden_scripts`). The browser runs an element's scripts when the
element is new or changed: a run that asks for focus or a scroll gets an
element of its own (a fresh `request` id in its parameters), so it runs again
even when the same request comes twice; otherwise each run draws the same one.
"""

from __future__ import annotations

import uuid

import streamlit as st

from webapp.ui import announce, assets, clipboard, scroll, styles

SCRIPTS: tuple[str, ...] = (clipboard.SCRIPT, scroll.SCRIPT, announce.SCRIPT)


def page_script(
    *,
    copied_label: str,
    focus_input: bool,
    anchor: str | None,
    mark: bool = False,
    conversation: str = "",
    request: str | None = None,
) -> str:
    """The element's HTML: the scripts and their parameters (see `clipboard`,
    `scroll`); `request`, when given, makes the element differ from any other."""
    params: dict[str, object] = {
        **clipboard.params(copied_label),
        **announce.params(),
        **scroll.params(
            focus_input=focus_input, anchor=anchor, mark=mark, conversation=conversation
        ),
    }
    if request is not None:
        params["request"] = request
    return assets.script_html(SCRIPTS, params)


def draw(
    *,
    copied_label: str,
    focus_input: bool = False,
    anchor: str | None = None,
    mark: bool = False,
    conversation: str = "",
) -> None:
    """Draw the page's scripts (hidden) with this run's requests."""
    styles.hidden_scripts()
    fresh = uuid.uuid4().hex if focus_input or anchor else None
    with st.container(key=styles.SCRIPTS_KEY):
        st.html(
            page_script(
                copied_label=copied_label,
                focus_input=focus_input,
                anchor=anchor,
                mark=mark,
                conversation=conversation,
                request=fresh,
            ),
            unsafe_allow_javascript=True,
        )
