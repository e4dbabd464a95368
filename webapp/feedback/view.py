"""Feedback's widgets: thumbs under an answer, its reasons, and Satisfaction.

- Under every complete answer of the chat page (`webapp.chat.view`): Streamlit's
  `st.feedback("thumbs")`, the member's own choice (shown to them only), and
  once given a "Reason" popover: tags (`REASONS`) and a comment. Changing the
  thumbs changes the feedback; clearing it takes it back.

The Statistics page's Satisfaction section is `webapp.feedback.satisfaction_view`
(kept apart: it needs pandas and altair, which the chat page does not load).

Every callback is a `member_action` (the member re-read when it runs).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import streamlit as st

from webapp.auth.guard import member_action
from webapp.backend import get_store
from webapp.chat import open_chat as chat
from webapp.chat.notice import NOTICE_AREA
from webapp.conversations.model import AnswerStatus, Message
from webapp.conversations.store import MessageNotFound
from webapp.feedback.store import COMMENT_MAX_CHARS, REASONS, Feedback, FeedbackStore
from webapp.ui import flash
from webapp.ui.i18n import _
from webapp.ui.member import current_member
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

FLASH_AREA: Final = NOTICE_AREA  # the chat page's notices
THUMBS_UP: Final = 1  # st.feedback("thumbs"): 0 is down, 1 is up


def get_feedback() -> FeedbackStore:
    return FeedbackStore(get_store())


def thumbs_key(message_id: str) -> str:
    return f"feedback_thumbs_{message_id}"


def reasons_key(message_id: str) -> str:
    return f"feedback_reasons_{message_id}"


def comment_key(message_id: str) -> str:
    return f"feedback_comment_{message_id}"


# ------------------------------------------------------------- callbacks


_TOAST_KEY = "feedback_toast"  # (text, icon) said by the next drawing of the controls


def _say_later(text: str, icon: str) -> None:
    # The thumbs live in the conversation's fragment: a callback of a fragment's
    # widget may not draw (Streamlit warns), so the controls' next drawing says it.
    st.session_state[_TOAST_KEY] = (text, icon)


@member_action(FLASH_AREA)
def give_thumbs(message_id: str) -> None:
    """The thumbs changed: keep them (reasons given before stay), or take the
    feedback back when they were cleared."""
    value = st.session_state.get(thumbs_key(message_id))
    member, store = current_member(), get_feedback()
    try:
        if value is None:
            store.clear(member, message_id)
            _say_later(_("Your feedback on this answer is taken back."), ":material/undo:")
        else:
            before = store.mine(member, [message_id]).get(message_id)
            store.give(
                member,
                message_id,
                value == THUMBS_UP,
                before.reasons if before else (),
                before.comment if before else "",
            )
            # A filled thumb is easy to miss: say it was kept, and what may follow.
            if value == THUMBS_UP:
                _say_later(_("Thanks: marked as a good answer."), ":material/thumb_up:")
            else:
                _say_later(
                    _("Thanks: marked as a poor answer. Add a reason if you like."),
                    ":material/thumb_down:",
                )
    except MessageNotFound as err:
        flash.flash(FLASH_AREA, str(err), "error")
    except chat.DATABASE_ERRORS:
        flash.flash(FLASH_AREA, _("Your feedback could not be saved; try again."), "error")


@member_action(FLASH_AREA)
def save_reasons(message_id: str) -> None:
    """Keep the reasons and the comment with the member's thumbs."""
    state, member, store = st.session_state, current_member(), get_feedback()
    try:
        before = store.mine(member, [message_id]).get(message_id)
        if before is None:
            flash.flash(FLASH_AREA, _("Give a thumbs up or down first."), "error")
            return
        store.give(
            member,
            message_id,
            before.thumbs_up,
            state.get(reasons_key(message_id)) or [],
            state.get(comment_key(message_id)) or "",
        )
        flash.flash(FLASH_AREA, _("Thanks: your feedback is saved."), "success")
    except MessageNotFound as err:
        flash.flash(FLASH_AREA, str(err), "error")
    except chat.DATABASE_ERRORS:
        flash.flash(FLASH_AREA, _("Your feedback could not be saved; try again."), "error")


# ---------------------------------------------------------------- drawing


def answer_ids(messages: Sequence[Message]) -> set[str]:
    """The ids of the saved answers among `messages` (a window of the shown
    path, oldest first): assistant messages that answer a prompt, not the
    bot's welcome (an assistant message before any prompt)."""
    found = set()
    for index, message in enumerate(messages):
        if message.role != "assistant" or not message.id:
            continue
        before = messages[index - 1] if index else None
        if (before is not None and before.role == "user") or (before is None and message.seq > 0):
            found.add(message.id)
    return found


@dataclass(frozen=True, slots=True)
class Shown:
    """What `prepare` read for this run: the answers that get thumbs, and the
    member's own feedback on them."""

    answers: frozenset[str] = frozenset()
    mine: dict[str, Feedback] = field(default_factory=dict)


def prepare(opened: chat.OpenChat) -> None:
    """Read the member's own feedback on the shown answers once per run (one
    read); a database that cannot be read shows the thumbs empty."""
    ids = answer_ids(opened.messages)
    # Thumbs go under complete answers only (`render_controls`): a new chat's
    # first answer, still being written, needs no read.
    rated = sorted(
        m.id for m in opened.messages if m.id in ids and m.status == AnswerStatus.COMPLETE
    )
    mine: dict[str, Feedback] = {}
    if rated:
        try:
            mine = get_feedback().mine(current_member(), rated)
        except chat.DATABASE_ERRORS as err:
            log.warning("Could not read feedback: %s", err)
    st.session_state[Keys.FEEDBACK_MINE] = Shown(frozenset(ids), mine)


def render_controls(message: Message) -> None:
    """The thumbs under a complete answer (not a streaming, failed or stopped
    one, nor the welcome), and "Reason" once the member gave them."""
    said = st.session_state.pop(_TOAST_KEY, None)
    if said:
        st.toast(said[0], icon=said[1])
    shown = st.session_state.get(Keys.FEEDBACK_MINE)
    if not isinstance(shown, Shown) or message.id not in shown.answers:
        return
    if message.status != AnswerStatus.COMPLETE:
        return
    given = shown.mine.get(message.id)
    default = None if given is None else int(given.thumbs_up)
    value = st.feedback(
        "thumbs",
        key=thumbs_key(message.id),
        default=default,
        on_change=give_thumbs,
        args=(message.id,),
    )
    if value is None:
        return
    with st.popover(_("Reason"), icon=":material/rate_review:", type="tertiary"):
        st.pills(
            _("What was wrong?") if value != THUMBS_UP else _("Anything to note?"),
            REASONS,
            format_func=_,
            selection_mode="multi",
            default=list(given.reasons) if given else None,
            key=reasons_key(message.id),
        )
        st.text_input(
            _("Comment (only you see it; admins see totals)"),
            value=given.comment if given else "",
            max_chars=COMMENT_MAX_CHARS,
            key=comment_key(message.id),
        )
        st.button(
            _("Save"),
            key=f"feedback_save_{message.id}",
            on_click=save_reasons,
            args=(message.id,),
        )
