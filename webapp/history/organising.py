"""Organising the member's conversations from the History (issue 26), no widgets:
folders, tags, archive, bulk actions and temporary chats.

Each function takes the store and the member and calls the store's
`organise` repository (`webapp.conversations.store.organise`), so another
member's folder or conversation is never touched; the sidebar's callbacks
(`webapp.history.organise_view`) call these and show their plain messages.
"""

from __future__ import annotations

import contextlib
import io
import logging
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Final

from webapp.conversations import context as history
from webapp.conversations.store import ConversationNotFound, ConversationStore, Folder, Owner

if TYPE_CHECKING:
    from webapp.chat.open_chat import OpenChat

log = logging.getLogger(__name__)

EXPORT_ZIP_NAME: Final = "ablt-chat-conversations.zip"


def _reread(store: ConversationStore, member: Owner, opened: OpenChat | None) -> None:
    """The open conversation's header again (its folder, archive mark, ...)."""
    if opened is not None and opened.id:
        with contextlib.suppress(ConversationNotFound):  # deleted: a new chat opens
            opened.conversation = store.get_conversation(member, opened.id)


# ------------------------------------------------------------------ folders


def create_folder(
    store: ConversationStore, member: Owner, name: str, parent_id: str | None = None
) -> Folder:
    """A new folder (ValueError with a plain reason; FolderNotFound)."""
    return store.organise.create_folder(member, name, parent_id or None)


def rename_folder(store: ConversationStore, member: Owner, folder_id: str, name: str) -> Folder:
    return store.organise.rename_folder(member, folder_id, name)


def delete_folder(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    folder_id: str,
    *,
    delete_conversations: bool,
) -> int:
    """Delete a folder (and its subfolders); their conversations go to "no
    folder" or are deleted. Returns how many conversations it concerned."""
    done = store.organise.delete_folder(
        member, folder_id, delete_conversations=delete_conversations
    )
    _reread(store, member, opened)
    return done


def move(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    conversation_ids: Collection[str],
    folder_id: str | None,
) -> int:
    """File conversations in a folder (None or "": in no folder)."""
    done = store.organise.move(member, conversation_ids, folder_id or None)
    _reread(store, member, opened)
    return done


# ------------------------------------------------------------------ tags


def set_tags(
    store: ConversationStore, member: Owner, conversation_id: str, tags: Sequence[str]
) -> list[str]:
    """A conversation's tags become `tags` (ValueError past the limit)."""
    return store.organise.set_tags(member, conversation_id, tags)


def add_tags(
    store: ConversationStore, member: Owner, conversation_ids: Collection[str], tags: Sequence[str]
) -> int:
    return store.organise.add_tags(member, conversation_ids, tags)


# ------------------------------------------------------------------ archive


def archive(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    conversation_ids: Collection[str],
) -> int:
    done = store.organise.archive(member, conversation_ids)
    _reread(store, member, opened)
    return done


def restore(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    conversation_ids: Collection[str],
) -> int:
    done = store.organise.restore(member, conversation_ids)
    _reread(store, member, opened)
    return done


def archive_folder(
    store: ConversationStore, member: Owner, opened: OpenChat | None, folder_id: str
) -> int:
    done = store.organise.archive_folder(member, folder_id)
    _reread(store, member, opened)
    return done


def start_of_day(day: date, tz: tzinfo) -> datetime:
    """00:00 of `day` in the member's time zone, as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=tz)


def archive_older_than(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    day: date,
    tz: tzinfo | None,
) -> int:
    """Archive everything last active before `day` began (in the member's
    zone; UTC when it is not known)."""
    done = store.organise.archive_older_than(member, start_of_day(day, tz or UTC))
    _reread(store, member, opened)
    return done


# ------------------------------------------------------------------ bulk


def delete_many(store: ConversationStore, member: Owner, conversation_ids: Collection[str]) -> int:
    """Delete several conversations (the page asked once, with their count)."""
    return store.organise.delete_many(member, conversation_ids)


def export_zip(store: ConversationStore, member: Owner, conversation_ids: Sequence[str]) -> bytes:
    """A zip of the conversations' JSON exports (with their versions; each
    imports back), one file per conversation; those gone meanwhile are left out."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for conversation_id in conversation_ids:
            try:
                conversation = store.get_conversation(member, conversation_id)
                text = store.export_json(member, conversation_id, versions=True)
            except ConversationNotFound:
                continue
            name = history.export_filename(conversation, "json")
            stem, n = name.removesuffix(".json"), 1
            while name in used:  # two with one title on one day
                n += 1
                name = f"{stem}-{n}.json"
            used.add(name)
            bundle.writestr(name, text)
    return buffer.getvalue()


# ------------------------------------------------------------------ temporary chats


def keep(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """ "Keep this conversation": the temporary chat becomes an ordinary one."""
    if opened.id:
        opened.conversation = store.organise.keep(member, opened.id)
    else:  # not saved yet: it will be saved as an ordinary one
        opened.conversation = replace(opened.conversation, temporary=False)


def leave_temporary(
    store: ConversationStore, member: Owner, left: OpenChat | None, shown: OpenChat | None
) -> bool:
    """Delete the temporary chat `left` when this run shows another
    conversation (`shown`); True when one was deleted. Database errors
    propagate (the sweep deletes it later: `sweep_temporaries`)."""
    if left is None or not left.id or not left.conversation.temporary:
        return False
    if shown is not None and shown.id == left.id:
        return False
    return store.organise.discard_temporary(member, left.id)
