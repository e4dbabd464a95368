"""Changes to the open chat: send a prompt, Retry, Regenerate, its options.

Each saves to the store first and reads the shown tail again
(`open_chat.refresh`); the answer itself is started by `webapp.answers`. No
widgets here: the chat page's callbacks (`webapp.chat.view`,
`webapp.chat.answer_view`) call these. Editing a prompt is
`webapp.chat.versions.edit_prompt` (a new branch, the old one kept).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from webapp.chat.open_chat import (
    DATABASE_ERRORS,
    PROMPT_NOT_SAVED,
    OpenChat,
    can_regenerate,
    can_retry,
    refresh,
    unsent_prompt,
)
from webapp.conversations.context import ConversationOptions, Message
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore, Owner
from webapp.ui.i18n import _

log = logging.getLogger(__name__)


class SendFailed(Exception):
    """A send stopped before anything went to the API; the message is for the user."""


def send_prompt(store: ConversationStore, member: Owner, opened: OpenChat, prompt: str) -> Message:
    """Save the user's prompt (a draft is saved first, welcome included).

    Runs before anything is sent, so the prompt is never lost. A database that
    refuses the write raises `SendFailed`: nothing was sent, the caller keeps
    the text for the user to send again.
    """
    text = prompt.strip()
    if not text:
        raise ValueError(_("An empty message cannot be sent."))
    try:
        save_draft(store, member, opened)
        saved = store.append_message(member, opened.id, "user", text)
        refresh(store, member, opened)
    except DATABASE_ERRORS as err:
        log.warning("Could not save a prompt: %s", err)
        raise SendFailed(PROMPT_NOT_SAVED) from err
    return saved


def save_draft(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """Save a draft conversation (its welcome included) so a prompt can join it.

    Database errors propagate (the caller says the prompt was not sent).
    """
    if not opened.is_draft:
        return
    conv = opened.conversation
    opened.conversation = store.create_conversation(
        member,
        conv.bot_slug,
        conv.bot_name,
        conv.options,
        temporary=conv.temporary,
        opening=[(message.role, message.text) for message in opened.messages],
    )


def set_options(
    store: ConversationStore, member: Owner, opened: OpenChat, options: ConversationOptions
) -> None:
    """Keep changed options with the conversation, so reopening it continues alike."""
    if options == opened.conversation.options:
        return
    if opened.is_draft:
        opened.conversation = replace(opened.conversation, options=options)
    else:
        opened.conversation = store.update_options(member, opened.id, options)


def send_unsent(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """The member sends the imported prompt: it becomes a sent prompt awaiting its answer."""
    prompt = unsent_prompt(opened)
    if prompt is None:
        return
    store.update_message(member, prompt.id, status=AnswerStatus.COMPLETE, error="")
    refresh(store, member, opened)


def _drop_from(store: ConversationStore, member: Owner, opened: OpenChat, seq: int) -> None:
    store.delete_messages_from(member, opened.id, seq)
    refresh(store, member, opened)


def prepare_retry(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """Drop the failed answer so the prompt before it is the one to answer again."""
    if can_retry(opened) and opened.last is not None:
        _drop_from(store, member, opened, opened.last.seq)


def prepare_regenerate(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """Keep the last answer as a version (`webapp.chat.versions`) and take it off the
    shown path, so its prompt is answered afresh."""
    if can_regenerate(opened) and opened.last is not None:
        store.shelve_from(member, opened.id, opened.last.seq)
        refresh(store, member, opened)
