"""The chat's notices: one shown once (`NOTICE_AREA`), one held until the member acts.

Shown once (`webapp.ui.flash` under `NOTICE_AREA`): what a callback has to say
("That conversation no longer exists", an import's result, a busy refusal).

Held: "that conversation does not exist".

`chat.choose_open` says why it opened a new chat instead of the one asked for
(a `/?conversation=<id>` that is unknown or another member's, a conversation
deleted in another tab). Shown once, it vanished at the next run: the login
cookie's own rerun a moment after a new tab opens, or the run a same-tab visit
makes. So the notice is tied to the chat it was given with (its
`OpenChat.key`): it is shown on every run while that chat is the open one, and
goes when the member acts: Dismiss, New chat, another conversation opened, or
a first prompt sent (the draft then gets an id, hence another key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import streamlit as st

from webapp.auth.guard import view_action
from webapp.ui import flash
from webapp.ui.i18n import _
from webapp.ui.state import Keys

DISMISS_LABEL = "Dismiss"
# The chat page's notices shown once (`webapp.ui.flash`): a callback flashes
# them here, the conversation's next run shows them.
NOTICE_AREA = "chat"


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


@dataclass(frozen=True)
class HeldNotice:
    """`text` (an error for the member), shown while the chat keyed `chat_key` is open."""

    chat_key: str
    text: str


def still_shown(held: HeldNotice | None, opened: _Keyed | None) -> bool:
    """Whether `held` is still for the open chat (the member has not moved on)."""
    return held is not None and opened is not None and held.chat_key == opened.key


def hold(text: str, opened: _Keyed | None) -> None:
    """Keep `text` on screen while `opened` stays the open chat (a page call)."""
    if opened is None:
        # No chat to tie it to (no bots): shown once, as before.
        flash.flash(NOTICE_AREA, text, "error")
        return
    st.session_state[Keys.CHAT_HELD_NOTICE] = HeldNotice(opened.key, text)


@view_action
def dismiss() -> None:
    """The notice's Dismiss button (a callback)."""
    st.session_state.pop(Keys.CHAT_HELD_NOTICE, None)


def show(opened: _Keyed | None) -> None:
    """Draw the held notice if it is still for the open chat; forget it otherwise."""
    held: HeldNotice | None = st.session_state.get(Keys.CHAT_HELD_NOTICE)
    if not still_shown(held, opened):
        st.session_state.pop(Keys.CHAT_HELD_NOTICE, None)
        return
    assert held is not None
    row = st.container(horizontal=True, vertical_alignment="center", key="chat_held_notice")
    with row:
        st.error(held.text, icon=":material/link_off:", width="stretch")
        st.button(_(DISMISS_LABEL), key="chat_notice_dismiss", on_click=dismiss, type="tertiary")
