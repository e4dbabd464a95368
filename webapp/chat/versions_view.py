"""The chat page's widgets for versions: the `< 2/3 >` switch and the edit box.

`chat_view.render_message` calls `render_tools` under each message of the
chat (and `render_edit_box` in place of a prompt being edited); the page
calls `prepare` once per run, before the messages are drawn, so every bubble
reads the same map. Changes go through `webapp.chat.versions` from callbacks.
"""

from __future__ import annotations

import logging

import streamlit as st

from webapp.auth.guard import member_action, view_action
from webapp.backend import get_store
from webapp.chat import answer_view as answers_view
from webapp.chat import busy as answer_busy
from webapp.chat import open_chat as chat
from webapp.chat import versions
from webapp.chat.notice import NOTICE_AREA
from webapp.conversations.model import Message
from webapp.conversations.store import ConversationNotFound, VersionNotFound, Versions
from webapp.ui import flash, styles
from webapp.ui.i18n import N_, _
from webapp.ui.member import current_member
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

PREVIOUS_HELP = N_("Previous version")
NEXT_HELP = N_("Next version")
EDIT_LABEL = N_("Edit message")
EDIT_HELP = N_("Edit this message: a new branch starts here; the old one stays as a version.")


def _opened() -> chat.OpenChat | None:
    found: chat.OpenChat | None = st.session_state.get(Keys.CHAT_OPEN)
    return found


def _notify(text: str) -> None:
    flash.flash(NOTICE_AREA, text, "error")


# ------------------------------------------------------------- callbacks


@member_action(NOTICE_AREA)
def switch_to(message_id: str, by: int) -> None:
    """A `<` or `>` click: show the previous (-1) or next (+1) version, saved."""
    opened = _opened()
    if opened is None or answer_busy.refused():
        return
    try:
        versions.switch(get_store(), current_member(), opened, message_id, by)
    except ConversationNotFound:
        _notify(_("That conversation no longer exists."))
    except VersionNotFound as err:
        _notify(
            _("{problem} The conversation was changed elsewhere; it is shown as it is now.").format(
                problem=err
            )
        )
    except ValueError as err:  # BranchBusy
        _notify(str(err))
    except chat.DATABASE_ERRORS:
        _notify(chat.DATABASE_READ_ONLY)


@view_action
def start_edit(message_id: str, text: str) -> None:
    """Open the edit box in place of a prompt, holding its text (not while an
    answer is being written here: `answer_busy`)."""
    if answer_busy.refused():
        return
    st.session_state[Keys.CHAT_EDITING] = message_id
    st.session_state[Keys.CHAT_EDIT_TEXT] = text


@view_action
def cancel_edit() -> None:
    st.session_state.pop(Keys.CHAT_EDITING, None)


@member_action(NOTICE_AREA)
def send_edit() -> None:
    """Save the edit as a new branch and start its answer (the old branch stays)."""
    opened = _opened()
    message_id = st.session_state.pop(Keys.CHAT_EDITING, None)
    text = st.session_state.get(Keys.CHAT_EDIT_TEXT, "")
    if opened is None or not isinstance(message_id, str):
        return
    member = current_member()
    done: list[bool] = []

    def edit() -> None:
        versions.edit_prompt(get_store(), member, opened, message_id, text)
        done.append(True)

    answers_view.answer_after(edit)
    if not done:  # refused (the notice says why): the box stays open with the text
        st.session_state[Keys.CHAT_EDITING] = message_id


# ---------------------------------------------------------------- drawing


def prepare(opened: chat.OpenChat) -> None:
    """Read this run's versions of the shown messages (one or two small reads);
    a database that cannot be read shows no switch rather than an error."""
    found: dict[str, Versions] = {}
    try:
        found = versions.versions_of(get_store(), current_member(), opened)
    except ConversationNotFound:
        pass
    except chat.DATABASE_ERRORS as err:
        log.warning("Could not read versions: %s", err)
    st.session_state[Keys.CHAT_VERSIONS] = (opened.key, found)
    # The switch's and Edit's labels are for screen readers; on screen the icons say it.
    styles.version_labels_hidden()


def _versions(message: Message) -> Versions | None:
    opened = _opened()
    stored = st.session_state.get(Keys.CHAT_VERSIONS)
    if opened is None or not stored or stored[0] != opened.key:
        return None
    found: Versions | None = stored[1].get(message.id)
    return found


def editing(message: Message) -> bool:
    """Whether this prompt is being edited (its bubble shows the edit box)."""
    return bool(message.id) and st.session_state.get(Keys.CHAT_EDITING) == message.id


def render_edit_box(message: Message) -> None:
    """The edit box in place of the prompt: Send starts a new branch, Cancel keeps all."""
    with st.form(key="chat_edit_form", border=False):
        st.text_area(_("Edit your message"), key=Keys.CHAT_EDIT_TEXT)
        row = st.container(horizontal=True)
        row.form_submit_button(_("Send"), key="chat_edit_send", type="primary", on_click=send_edit)
        row.form_submit_button(_("Cancel"), key="chat_edit_cancel", on_click=cancel_edit)


def render_tools(message: Message) -> None:
    """Under a message: `< 2/3 >` when it has versions, and Edit on a sent prompt.

    Small tertiary buttons (Tab reaches them, Enter presses them; each says
    what it does on hover), disabled at either end; while an answer is being
    generated in the conversation all are disabled and say so on hover
    (`answer_busy.BUSY_HELP`)."""
    opened = _opened()
    if opened is None or not message.id:
        return
    found = _versions(message)
    waiting = answer_busy.busy(opened)
    editable = versions.can_edit(opened, message) or (
        waiting and versions.is_sent_prompt(opened, message)
    )
    if found is None and not editable:
        return
    # Beside the message's time and Copy (the caller's horizontal line).
    row = st.container(
        horizontal=True,
        vertical_alignment="center",
        gap="small",
        width="content",
        key=f"{styles.VERSIONS_KEY_PREFIX}{message.id}",
    )
    if found is not None:
        idle = versions.can_switch(opened)
        row.button(
            _(PREVIOUS_HELP),
            icon=":material/chevron_left:",
            key=f"chat_version_prev_{message.id}",
            type="tertiary",
            help=_(answer_busy.BUSY_HELP) if waiting else _(PREVIOUS_HELP),
            disabled=not idle or found.step(-1) is None,
            on_click=switch_to,
            args=(message.id, -1),
        )
        row.caption(found.label, width="content")
        row.button(
            _(NEXT_HELP),
            icon=":material/chevron_right:",
            key=f"chat_version_next_{message.id}",
            type="tertiary",
            help=_(answer_busy.BUSY_HELP) if waiting else _(NEXT_HELP),
            disabled=not idle or found.step(1) is None,
            on_click=switch_to,
            args=(message.id, 1),
        )
    if editable:
        row.button(
            _(EDIT_LABEL),
            icon=":material/edit:",
            key=f"chat_edit_{message.id}",
            type="tertiary",
            help=_(answer_busy.BUSY_HELP) if waiting else _(EDIT_HELP),
            disabled=waiting,
            on_click=start_edit,
            args=(message.id, message.text),
        )
