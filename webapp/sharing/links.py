"""Read-only share links: a conversation shown to the team as it was when shared.

Sharing takes a snapshot, in the JSON export format (`webapp.conversations.context`), so
messages added later are never shown through the link. The link carries an
unguessable token (`secrets.token_urlsafe`, 128 bits); any logged-in member
can open it (the app's login gate keeps everyone else out), nobody can change
the conversation through it, and "Copy into my chats" imports the snapshot as
a new conversation of the reader's own.

A snapshot holds what the reader sees, nothing hidden: the owner's system
instruction and the library entry the conversation came from
(`PRIVATE_OPTIONS`) are left out when it is taken, and out of every snapshot
opened (ones stored by older versions still carry them), so a copy neither
keeps them nor sends them with the reader's prompts.

The owner lists and revokes their links. A revoked link, an unknown one and
one whose conversation was deleted all raise the same `ShareNotAvailable`, so
a token's fate cannot be probed.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from webapp.conversations import context as history
from webapp.conversations.context import Conversation, ImportedConversation
from webapp.conversations.store import ConversationStore, Owner
from webapp.db.schema import shares as S
from webapp.ui.i18n import N_, _

log = logging.getLogger(__name__)

TOKEN_BYTES: Final = 16  # 128 bits: not guessable, short enough for a URL
SHARE_PARAM: Final = "share"  # the query parameter that carries the token
NOT_AVAILABLE: Final = N_(
    "This shared conversation is not available. The link may be "
    "mistyped, or its owner stopped sharing it."
)

# Options a share never hands over: the page does not show them, and the
# sharer never agreed to give them away (the other options travel with the copy).
PRIVATE_OPTIONS: Final = ("system_instruction", "library_prompt_id")


class ShareNotAvailable(LookupError):
    """Unknown, revoked or deleted: the reader is told the same plain thing."""

    def __init__(self, message: str = NOT_AVAILABLE) -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class ShareLink:
    """One share link as its owner sees it in their list."""

    token: str
    owner: str
    conversation_id: str
    title: str
    message_count: int  # messages in the snapshot
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class SharedSnapshot:
    """What a reader sees: who shared it, when, and the messages of then."""

    link: ShareLink
    conversation: ImportedConversation  # the snapshot, validated like an import


def share_path(token: str) -> str:
    """The app-relative URL of a share link (the Shared page with its token)."""
    return f"/shared?{SHARE_PARAM}={token}"


def _same_snapshot(a: str, b: str) -> bool:
    """Whether two exports hold the same conversation (the time of export aside)."""
    try:
        first, second = json.loads(a), json.loads(b)
    except ValueError:
        return False
    if not isinstance(first, dict) or not isinstance(second, dict):
        return False
    first.pop("exported_at", None)
    second.pop("exported_at", None)
    return bool(first == second)


def without_private_options(snapshot: str) -> str:
    """An export (JSON text, `ConversationStore.export_json`) with the
    `PRIVATE_OPTIONS` emptied; ValueError when it is not JSON."""
    data = json.loads(snapshot)
    options = data.get("conversation", {}).get("options")
    if isinstance(options, dict):
        options.update(dict.fromkeys(PRIVATE_OPTIONS))
    return json.dumps(data, ensure_ascii=False, indent=2)


def _private_options_dropped(snapshot: ImportedConversation) -> ImportedConversation:
    info = snapshot.conversation
    options = info.options.model_copy(update=dict.fromkeys(PRIVATE_OPTIONS))
    return snapshot.model_copy(
        update={"conversation": info.model_copy(update={"options": options})}
    )


class ShareLinks:
    """Share links in the conversation store's database (every app process
    sees the same links at once)."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    @staticmethod
    def _to_link(row: Mapping[Any, Any]) -> ShareLink:
        return ShareLink(
            token=row["token"],
            owner=row["owner"],
            conversation_id=row["conversation_id"],
            title=row["title"],
            message_count=row["message_count"],
            created_at=row["created_at"],
            revoked_at=row["revoked_at"],
        )

    def share(self, owner: Owner, conversation_id: str) -> ShareLink:
        """A link to a snapshot of one of `owner`'s conversations as it is now:
        the active link to this same snapshot when there is one (sharing an
        unchanged conversation twice gives one link, not two that look alike),
        else a new one. ConversationNotFound when it is not theirs; ValueError
        when it has nothing to show yet (a draft has no id)."""
        snapshot = without_private_options(self._store.export_json(owner, conversation_id))
        conversation: Conversation = self._store.get_conversation(owner, conversation_id)
        if conversation.temporary:
            raise ValueError(_("A temporary chat cannot be shared: keep it first."))
        count = len(history.parse_import(snapshot).messages)
        if count == 0:
            raise ValueError(_("There is nothing to share yet: send a message first."))
        active = (
            sa.select(S)
            .where(
                S.c.owner == owner.username,
                S.c.conversation_id == conversation_id,
                S.c.revoked_at.is_(None),
            )
            .order_by(S.c.created_at.desc())
        )
        with self._store.transaction() as conn:
            for row in conn.execute(active).mappings():
                if _same_snapshot(row["snapshot"], snapshot):
                    return self._to_link(row)
        values: dict[str, Any] = {
            "token": secrets.token_urlsafe(TOKEN_BYTES),
            "owner": owner.username,
            "conversation_id": conversation_id,
            "title": conversation.title,
            "snapshot": snapshot,
            "message_count": count,
            "created_at": self._store.now(),
            "revoked_at": None,
        }
        with self._store.transaction(write=True) as conn:
            conn.execute(sa.insert(S).values(**values))
        return self._to_link(values)

    def owned(self, owner: Owner) -> list[ShareLink]:
        """`owner`'s links, newest first, revoked ones included (marked)."""
        stmt = sa.select(S).where(S.c.owner == owner.username).order_by(S.c.created_at.desc())
        with self._store.transaction() as conn:
            return [self._to_link(r) for r in conn.execute(stmt).mappings()]

    def open(self, token: str) -> SharedSnapshot:
        """The snapshot behind an active link, for any logged-in member;
        ShareNotAvailable for an unknown, revoked or deleted one."""
        stmt = sa.select(S).where(S.c.token == token, S.c.revoked_at.is_(None))
        with self._store.transaction() as conn:
            row = conn.execute(stmt).mappings().first() if token else None
        if row is None:
            raise ShareNotAvailable()
        try:
            snapshot = history.parse_import(row["snapshot"])
        except history.ConversationImportError as err:
            # Written under other limits than today's: unreadable now, never a crash.
            log.warning("A shared snapshot could not be read: %s", err)
            raise ShareNotAvailable() from err
        return SharedSnapshot(self._to_link(row), _private_options_dropped(snapshot))

    def revoke(self, owner: Owner, token: str) -> None:
        """Stop sharing: the link shows "not available" from now on. Only the
        owner can; anyone else gets ShareNotAvailable."""
        with self._store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(S)
                .where(S.c.token == token, S.c.owner == owner.username, S.c.revoked_at.is_(None))
                .values(revoked_at=self._store.now())
            )
        if done.rowcount != 1:
            raise ShareNotAvailable()

    def copy_into(self, reader: Owner, token: str) -> Conversation:
        """A new conversation of `reader`'s own from the snapshot (the
        original is untouched); ShareNotAvailable as `open`."""
        snapshot = self.open(token)
        return self._store.import_conversation(reader, snapshot.conversation)
