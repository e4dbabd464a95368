"""The History sidebar's actions on the member's conversations (no widgets)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from webapp.conversations import context as history
from webapp.conversations.context import Conversation
from webapp.conversations.store import ConversationStore, Owner

if TYPE_CHECKING:
    from webapp.chat.open_chat import OpenChat


def history_sections(
    store: ConversationStore,
    member: Owner,
    query: str | None = None,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> list[tuple[str, list[Conversation]]]:
    """The member's conversations for the sidebar: searched, grouped, pinned on top."""
    return history.group_conversations(
        store.list_conversations(member, query or None), now=now, tz=tz
    )


def rename(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    conversation_id: str,
    title: str,
) -> None:
    """Rename one of the member's conversations (ValueError for a blank title)."""
    conv = store.rename(member, conversation_id, title)
    if opened is not None and opened.id == conversation_id:
        opened.conversation = conv


def set_pinned(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    conversation_id: str,
    pinned: bool,
) -> None:
    conv = store.set_pinned(member, conversation_id, pinned)
    if opened is not None and opened.id == conversation_id:
        opened.conversation = conv


def delete(store: ConversationStore, member: Owner, conversation_id: str) -> None:
    """Delete one of the member's conversations (the page asked for confirmation)."""
    store.delete_conversation(member, conversation_id)


def import_file(store: ConversationStore, member: Owner, data: bytes) -> Conversation:
    """A new conversation from a JSON export; ConversationImportError (with a
    plain reason) when the file is not one, and then nothing is written."""
    return store.import_conversation(member, data)


def export_markdown(store: ConversationStore, member: Owner, conversation_id: str) -> str:
    return store.export_markdown(member, conversation_id)


def export_json(store: ConversationStore, member: Owner, conversation_id: str) -> str:
    """The JSON download: the shown path, and the other versions (they import back)."""
    return store.export_json(member, conversation_id, versions=True)
