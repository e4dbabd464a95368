"""While an answer is being written in the open conversation, the controls
that would change its branch or start another answer wait for it.

As in ChatGPT: Edit, the version switch `< 2/3 >`, Regenerate, Retry, Send
(an imported prompt) and Answer it are greyed out while an answer streams in
this conversation, with a tooltip (`BUSY_HELP`); Copy stays usable. A click
that raced the answer's start (a page drawn before it started: the send run,
another tab) reaches the callback anyway, so every such callback asks
`refused()` first: it reads the conversation again from the store and, with
an answer in progress, leaves everything as it is and says so (`BUSY_NOTICE`)
instead of starting a competing answer or switching the branch under it.

Drawing asks `busy(opened)`: the run's own read of the conversation.
"""

from __future__ import annotations

import logging

import streamlit as st

from webapp.backend import get_answers, get_store
from webapp.chat import open_chat as chat
from webapp.chat.notice import NOTICE_AREA
from webapp.conversations.store import ConversationNotFound
from webapp.ui import flash
from webapp.ui.i18n import N_, _
from webapp.ui.member import current_member
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

BUSY_HELP = N_("Available when the answer is done")
BUSY_NOTICE = N_(
    "An answer is being written in this conversation: this waits until "
    "it is done (or stopped). Nothing was changed."
)


def busy(opened: chat.OpenChat | None) -> bool:
    """Whether an answer is being generated in `opened` as this run read it."""
    return opened is not None and opened.generating is not None


def refused() -> bool:
    """For a callback that would change the branch or start an answer: True,
    with a notice for the next run, when an answer is being generated in the
    open conversation now (read again from the store, so a click made on a
    page drawn before the answer started is caught too).

    False when there is none, and when the conversation cannot be read
    (deleted, a database error): the action itself then says why it fails.
    """
    opened: chat.OpenChat | None = st.session_state.get(Keys.CHAT_OPEN)
    if opened is None or opened.is_draft:
        return False
    member = current_member()
    try:
        chat.refresh(get_store(), member, opened, alive=get_answers().alive_ids())
    except ConversationNotFound:
        return False
    except chat.DATABASE_ERRORS as err:
        log.warning("Could not read the conversation before a change: %s", err)
        return False
    if opened.generating is None:
        return False
    flash.flash(NOTICE_AREA, _(BUSY_NOTICE))
    return True
