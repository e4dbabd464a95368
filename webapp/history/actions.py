"""The History sidebar's actions on the member's conversations (no widgets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Final

from webapp.conversations import context as history
from webapp.conversations.context import Conversation
from webapp.conversations.store import ANY_FOLDER, ConversationStore, HistoryCursor, Owner

if TYPE_CHECKING:
    from webapp.chat.open_chat import OpenChat


HISTORY_PAGE: Final = 30  # rows read from the database at a time


@dataclass(frozen=True, slots=True)
class HistoryList:
    """The History's first rows, grouped (Pinned, Today, Yesterday, Previous 7
    days, Older; pinned on top), and whether older ones exist past them."""

    sections: list[tuple[str, list[Conversation]]]
    more: bool


def load_history(
    store: ConversationStore,
    member: Owner,
    query: str | None = None,
    *,
    rows: int = HISTORY_PAGE,
    now: datetime | None = None,
    tz: tzinfo | None = None,
    folder: str | None = ANY_FOLDER,
    archived: bool | None = False,
    tags: Sequence[str] = (),
) -> HistoryList:
    """The member's first `rows` conversations for the sidebar, searched (titles
    and messages), grouped, pinned on top; `more` when older ones exist.
    `folder`, `archived` and `tags` filter as `ConversationStore.list_conversations`
    says (default: everything in History, whatever its folder).

    Read a page at a time, each starting after the last row of the one before
    (keyset pagination: `HistoryCursor`), so any number of conversations is
    reachable and rows sharing a timestamp are neither skipped nor repeated.
    Database errors propagate.
    """
    found: list[Conversation] = []
    after: HistoryCursor | None = None
    more = False
    while len(found) < rows:
        want = min(HISTORY_PAGE, rows - len(found))
        page = store.list_conversations(
            member,
            query or None,
            want + 1,
            after=after,
            folder=folder,
            archived=archived,
            tags=tags,
        )
        found.extend(page[:want])
        if len(page) <= want:
            break
        more = len(found) >= rows
        after = HistoryCursor.after(found[-1])
    return HistoryList(history.group_conversations(found, now=now, tz=tz), more)


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
