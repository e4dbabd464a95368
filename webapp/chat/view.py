"""The chat page's widgets: bubbles and their controls, exports, notices.

The sidebar (New chat, History, Import, the account) is `webapp.history.sidebar`; the
chat's header (bot picker, options and their chips) is `webapp.chat.header`.

Rendering only: every change goes through `webapp.chat.open_chat` (which talks to the
store) from a widget callback, so it lands before the run that shows it.
Callbacks find the member (`webapp.ui.member.current_member`) and the open conversation in
session state; what they have to say is flashed (`webapp.ui.flash`) under
`notice.NOTICE_AREA`, shown by the conversation's next run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from webapp import render
from webapp.auth.guard import member_action, view_action
from webapp.backend import get_store
from webapp.bots.avatars import USER_AVATAR
from webapp.chat import answer_view as answers_view
from webapp.chat import changes, message_tools, versions_view
from webapp.chat import open_chat as chat
from webapp.chat.notice import NOTICE_AREA
from webapp.conversations import context as history
from webapp.conversations.context import Message
from webapp.conversations.store import ConversationNotFound
from webapp.feedback import view as feedback_view
from webapp.ui import flash
from webapp.ui import page as ui
from webapp.ui.i18n import N_, _
from webapp.ui.member import current_member
from webapp.ui.state import Keys

SYSTEM_AVATAR = ":material/tune:"
SYSTEM_CAPTION = N_(
    ":material/tune: System message: not shown to the bot as a "
    "question; it is sent as an instruction with each prompt."
)
COPY_HELP = message_tools.COPY_LABEL


# ------------------------------------------------------------- callbacks


def opened_chat() -> chat.OpenChat | None:
    """The conversation the chat page has open (for callbacks), or None."""
    return st.session_state.get(Keys.CHAT_OPEN)


_opened = opened_chat


def guarded(action: Callable[[], Any]) -> None:
    """Run a change; a conversation gone meanwhile (another tab) is a notice."""
    try:
        action()
    except ConversationNotFound:
        flash.flash(NOTICE_AREA, _("That conversation no longer exists."), "error")
    except ValueError as err:
        flash.flash(NOTICE_AREA, str(err), "error")


@member_action(NOTICE_AREA)
def retry() -> None:
    opened = _opened()
    if opened is not None:
        answers_view.answer_after(
            lambda: changes.prepare_retry(get_store(), current_member(), opened)
        )


@member_action(NOTICE_AREA)
def regenerate() -> None:
    opened = _opened()
    if opened is not None:
        answers_view.answer_after(
            lambda: changes.prepare_regenerate(get_store(), current_member(), opened)
        )


@view_action
def start_edit() -> None:
    """Edit last message: its edit box opens in place (`versions_view`)."""
    opened = _opened()
    prompt = chat.last_prompt(opened) if opened else None
    if prompt is not None:
        versions_view.start_edit(prompt.id, prompt.text)  # refused mid-answer there


@member_action(NOTICE_AREA)
def send_unsent() -> None:
    """The member sends an imported prompt that was never sent (its Send button)."""
    opened = _opened()
    if opened is not None:
        answers_view.answer_after(
            lambda: changes.send_unsent(get_store(), current_member(), opened)
        )


@view_action
def show_earlier() -> None:
    opened = _opened()
    if opened is not None:
        if opened.messages:
            # The message read first so far stays where it is (not a jump to the top).
            st.session_state[Keys.CHAT_SCROLL_ANCHOR] = (opened.messages[0].id, False)
        chat.show_earlier(opened)


# ------------------------------------------------------------- times


def member_timezone() -> ZoneInfo | None:
    """The browser's time zone, so "Today" is the member's today."""
    return ui.member_timezone()


def local_time(when: datetime, tz: tzinfo | None) -> str:
    """`when` as the member reads a clock: "2026-11-30 14:05" in their zone
    (the browser's), with the zone's abbreviation; UTC when it is unknown."""
    shown = when.astimezone(tz or UTC)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname() or ''}".rstrip()


# ---------------------------------------------------------------- the chat


def render_exports(member: Any, opened: chat.OpenChat) -> None:
    """Download buttons whose files are built only when clicked (no per-run export)."""
    if opened.is_draft:
        return
    store, conv_id = get_store(), opened.id
    with st.popover(_("Export"), icon=":material/download:"):
        st.download_button(
            _("Markdown"),
            data=lambda: chat.export_markdown(store, member, conv_id),
            file_name=history.export_filename(opened.conversation, "md"),
            mime="text/markdown",
            key="chat_export_md",
            on_click="ignore",
            icon=":material/description:",
        )
        st.download_button(
            _("JSON (can be imported again)"),
            data=lambda: chat.export_json(store, member, conv_id),
            file_name=history.export_filename(opened.conversation, "json"),
            mime="application/json",
            key="chat_export_json",
            on_click="ignore",
            icon=":material/data_object:",
        )


def avatar_for_role(role: str, bot_avatar: str) -> str:
    """The bubble's avatar: the bot's for answers, distinct ones for you and for system messages."""
    return {"assistant": bot_avatar, "system": SYSTEM_AVATAR}.get(role, USER_AVATAR)


def render_option_notes(opened: chat.OpenChat) -> None:
    """Stored options set aside on opening (outside today's limits), said once per run."""
    for note in opened.conversation.option_notes:
        st.info(note, icon=":material/tune:")


def render_message(message: Message, avatar: str, *, is_last: bool, editable: bool = False) -> None:
    """One bubble; `editable` (the chat page, not a shared copy) adds its
    versions switch and Edit, and the edit box in place of a prompt being edited."""
    with st.chat_message(message.role, avatar=avatar):
        if editable and versions_view.editing(message):
            versions_view.render_edit_box(message)
            return
        if message.role == "system":
            st.caption(_(SYSTEM_CAPTION))
        if message.text:
            show_text(message)
        if history.is_unsent_prompt(message):
            st.caption(
                _(":material/upload_file: {unsent_note}").format(unsent_note=history.UNSENT_NOTE)
            )
            if is_last:
                st.button(
                    _("Send"), key="chat_send_unsent", icon=":material/send:", on_click=send_unsent
                )
        elif message.status == history.AnswerStatus.STOPPED:
            st.caption(
                _(
                    ":material/stop_circle: Stopped: this is the part received before "
                    "you stopped it."
                )
            )
        elif message.status in history.RETRYABLE_STATUSES:
            text = message.error or chat.INTERRUPTED_MESSAGE
            ui.error_box(text, retry_key="chat_retry" if is_last else None, on_retry=retry)
        # One line under the text: its time on the member's clock, Copy in one
        # click (a real button), then `< 2/3 >` and Edit where they apply.
        line = st.container(horizontal=True, vertical_alignment="center", gap="small")
        with line:
            message_tools.render_tools(
                message.id or f"draft-{message.seq}",
                message.created_at,
                member_timezone(),
                message.text if chat.can_copy(message) else None,
                width="content",
            )
            if editable:
                versions_view.render_tools(message)
                feedback_view.render_controls(message)  # thumbs: complete answers only


def show_text(message: Message) -> None:
    """A message's text as written: a prompt (or a system message, which a
    person wrote too) exactly as typed, an answer (or the welcome) as its
    Markdown, one element per block, as it was streamed."""
    if message.role in ("user", "system"):
        st.markdown(render.prompt_html(message.text), unsafe_allow_html=True)
        return
    for block in answer_blocks(message.text):
        st.markdown(block, unsafe_allow_html=True)


@functools.lru_cache(maxsize=256)
def answer_blocks(text: str) -> tuple[str, ...]:
    """`render.answer_blocks(text)`, kept for the next run: every run draws the
    saved messages again (the whole page after each answer), and the same text
    always renders the same (a pure function of the text: parsing, sanitising).
    Keyed by the text itself, so an edited or regenerated answer is new."""
    return tuple(render.answer_blocks(text))


def restore_prompt() -> None:
    """Before the message box is drawn: a prompt that could not be sent goes back in it."""
    back = st.session_state.pop(Keys.CHAT_PROMPT_BACK, None)
    if back:
        input_key, text = back
        st.session_state[input_key] = text


def show_send_problem() -> None:
    problem = st.session_state.pop(Keys.CHAT_SEND_PROBLEM, None)
    if problem:
        st.error(problem, icon=":material/database:")


def render_last_controls(opened: chat.OpenChat) -> None:
    """Regenerate the last answer (the old one stays as a version); edit the last
    prompt (its edit box opens in place, `versions_view`)."""
    row = st.container(horizontal=True)
    if chat.can_regenerate(opened):
        row.button(
            _("Regenerate"),
            key="chat_regenerate",
            icon=":material/refresh:",
            type="tertiary",
            on_click=regenerate,
        )
    if chat.last_prompt(opened) is not None and not chat.awaiting_answer(opened):
        row.button(
            _("Edit last message"),
            key="chat_edit",
            icon=":material/edit:",
            type="tertiary",
            on_click=start_edit,
        )
