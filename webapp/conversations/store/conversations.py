"""`ConversationRepository`: the members' conversations as a whole.

Creating, reading, listing (paged for the History: `HistoryCursor`),
renaming, pinning, saving options, deleting, and the export and import of a
conversation with its messages and versions.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.conversations import context as history
from webapp.conversations.context import ImportedConversation
from webapp.conversations.model import KIND_ARENA, AnswerStatus, Conversation, Message, Role
from webapp.conversations.options import ConversationOptions
from webapp.conversations.store.branches import BranchRepository
from webapp.conversations.store.database import (
    ConversationNotFound,
    Database,
    Owner,
    check,
    conversation_row,
    owned,
    to_conversation,
    to_message,
)
from webapp.conversations.transcripts import imported_last_activity
from webapp.db import schema
from webapp.db.engine import like_pattern
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M
from webapp.ui.i18n import _

# What an import from another app records on each conversation (v14).
ORIGIN_COLUMNS: Final = ("import_id", "import_source", "original_model")

DEFAULT_LIST_LIMIT: Final = 200
ANY_FOLDER: Final = "*"  # `listing(folder=...)`: in a folder or not (None: in none)


@dataclass(frozen=True, slots=True)
class HistoryCursor:
    """Where a page of the History ended: its last row's place in the order
    (pinned first, then latest activity first, then id). Pass it as `after`
    to get the rows that come next, however many rows share a timestamp."""

    pinned: bool
    updated_at: datetime
    id: str

    @classmethod
    def after(cls, conversation: Conversation) -> HistoryCursor:
        """The cursor just past `conversation` (a listed row)."""
        return cls(conversation.pinned, conversation.updated_at, conversation.id)


def _past(cursor: HistoryCursor) -> sa.ColumnElement[bool]:
    """Rows after `cursor` in the order `pinned DESC, updated_at DESC, id ASC`."""
    later = sa.or_(
        C.c.updated_at < cursor.updated_at,
        sa.and_(C.c.updated_at == cursor.updated_at, C.c.id > cursor.id),
    )
    same_pin = sa.and_(C.c.pinned == cursor.pinned, later)
    # Past a pinned row come the rest of the pinned ones, then every unpinned one.
    return sa.or_(C.c.pinned.is_(False), same_pin) if cursor.pinned else same_pin


class ConversationRepository:
    """The members' conversations (owner-checked, see `database`)."""

    def __init__(self, db: Database, branches: BranchRepository) -> None:
        self.db = db
        self.branches = branches

    def create(
        self,
        owner: Owner,
        bot_slug: str,
        bot_name: str = "",
        options: ConversationOptions | None = None,
        title: str | None = None,
        *,
        kind: str = history.KIND_CHAT,
        parent_id: str | None = None,
        position: int = 0,
        temporary: bool = False,
        opening: Sequence[tuple[Role, str]] = (),
    ) -> Conversation:
        """A new conversation; without a title, the first prompt names it.
        `temporary`: a temporary chat, never listed (`store.organise`).
        `opening`: its first messages, (role, text) in order, complete, written
        in the same transaction (a new chat's welcome, saved with its first send).

        `kind`, `parent_id` and `position` make comparisons (`webapp.compare`):
        a column's parent must be one of the owner's comparisons
        (`ConversationNotFound` otherwise). ValueError without a bot."""
        if not bot_slug.strip():
            raise ValueError(_("A conversation needs a bot."))
        now = self.db.now()
        values: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "owner": owner.username,
            "owner_user_id": owner.user_id,
            "bot_slug": bot_slug,
            "bot_name": bot_name,
            "title": history.clean_title(title) if title is not None else "",
            "options": (options or ConversationOptions()).model_dump_json(),
            "created_at": now,
            "updated_at": now,
            "pinned": False,
            "kind": kind,
            "parent_id": parent_id,
            "position": position,
            "temporary": temporary,
        }
        for role, _text in opening:
            check(role)
        prompts = [text for role, text in opening if role == "user"]
        if not values["title"] and prompts:
            values["title"] = history.make_title(prompts[0])
        with self.db.write() as conn:
            if parent_id is not None:
                conversation_row(conn, owner, parent_id)  # theirs, or not found
            conn.execute(sa.insert(C).values(**values))
            if opening:
                conn.execute(
                    sa.insert(M),
                    [
                        {
                            "id": str(uuid.uuid4()),
                            "conversation_id": values["id"],
                            "seq": seq,
                            "role": role,
                            "text": text,
                            "status": AnswerStatus.COMPLETE,
                            "error": None,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for seq, (role, text) in enumerate(opening)
                    ],
                )
            return to_conversation(conversation_row(conn, owner, values["id"]))

    def get(self, owner: Owner, conversation_id: str) -> Conversation:
        """One of the member's conversations, or ConversationNotFound."""
        with self.db.read() as conn:
            return to_conversation(conversation_row(conn, owner, conversation_id))

    def listing(
        self,
        owner: Owner,
        query: str | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        *,
        after: HistoryCursor | None = None,
        folder: str | None = ANY_FOLDER,
        archived: bool | None = False,
        tags: Sequence[str] = (),
    ) -> list[Conversation]:
        """The member's conversations, pinned first, then newest activity first
        (then by id), at most `limit`; with `after`, those that come after it.

        `query` matches titles and message text, case-insensitively (Unicode
        too, on both databases). `folder`: a folder's id, None for those in
        no folder, `ANY_FOLDER` for all. `archived`: False for those in
        History, True for the archived ones, None for both. `tags`: each one
        must be on the conversation. Temporary chats are never listed.
        """
        # A comparison's columns are listed through their comparison.
        # An arena battle is shown on the Arena page only (its bots are blind), and
        # an evaluation run's answers on the Evaluations page only.
        stmt = sa.select(C).where(
            C.c.owner == owner.username,
            C.c.parent_id.is_(None),
            C.c.temporary.is_(False),
            C.c.kind.not_in((KIND_ARENA, history.KIND_EVALUATION)),
        )
        if folder is None:
            stmt = stmt.where(C.c.folder_id.is_(None))
        elif folder != ANY_FOLDER:
            stmt = stmt.where(C.c.folder_id == folder)
        if archived is not None:
            stmt = stmt.where(
                C.c.archived_at.is_not(None) if archived else C.c.archived_at.is_(None)
            )
        if tags:
            wanted = set(tags)
            tagged = (
                sa.select(schema.conversation_tags.c.conversation_id)
                .where(
                    schema.conversation_tags.c.owner == owner.username,
                    schema.conversation_tags.c.tag.in_(wanted),
                )
                .group_by(schema.conversation_tags.c.conversation_id)
                .having(sa.func.count() == len(wanted))
            )
            stmt = stmt.where(C.c.id.in_(tagged))
        needle = (query or "").strip()
        if needle:
            pattern = schema.fold(sa.literal(like_pattern(needle)))
            in_messages = (
                sa.select(M.c.id)
                .where(M.c.conversation_id == C.c.id, schema.fold(M.c.text).like(pattern, "\\"))
                .exists()
            )
            stmt = stmt.where(sa.or_(schema.fold(C.c.title).like(pattern, "\\"), in_messages))
        if after is not None:
            stmt = stmt.where(_past(after))
        stmt = stmt.order_by(C.c.pinned.desc(), C.c.updated_at.desc(), C.c.id).limit(limit)
        with self.db.read() as conn:
            return [to_conversation(r) for r in conn.execute(stmt).mappings()]

    def rename(self, owner: Owner, conversation_id: str, title: str) -> Conversation:
        """Give a conversation the member's own title (one line, not blank)."""
        return self._update(owner, conversation_id, title=history.clean_title(title))

    def set_pinned(self, owner: Owner, conversation_id: str, pinned: bool) -> Conversation:
        """Pin to the top of the sidebar, or unpin."""
        return self._update(owner, conversation_id, pinned=pinned)

    def update_options(
        self, owner: Owner, conversation_id: str, options: ConversationOptions
    ) -> Conversation:
        """Save changed chat settings so the conversation reopens with them."""
        return self._update(owner, conversation_id, options=options.model_dump_json())

    def _update(self, owner: Owner, conversation_id: str, **values: Any) -> Conversation:
        with self.db.write() as conn:
            done = conn.execute(sa.update(C).where(owned(owner, conversation_id)).values(**values))
            if done.rowcount != 1:
                raise ConversationNotFound()
            return to_conversation(conversation_row(conn, owner, conversation_id))

    def delete(self, owner: Owner, conversation_id: str) -> None:
        """Delete a conversation and its messages (a comparison: its columns too)."""
        with self.db.write() as conn:
            if delete_owned(conn, owner, [conversation_id]) != 1:
                raise ConversationNotFound()

    def mark_opened(self, owner: Owner, conversation_id: str) -> None:
        """Record that its member opened it now (retention counts from the later
        of this and its last change); its place in the History does not move.
        Written at most once a minute per conversation."""
        now = self.db.now()
        with self.db.write() as conn:
            conn.execute(
                sa.update(C)
                .where(
                    owned(owner, conversation_id),
                    sa.or_(C.c.opened_at.is_(None), C.c.opened_at < now - timedelta(minutes=1)),
                )
                .values(opened_at=now)
            )

    # ------------------------------------------------------- export/import

    def export_json(self, owner: Owner, conversation_id: str, *, versions: bool = False) -> str:
        """The conversation in the versioned JSON export format: the shown path,
        and with `versions` the other versions too (not for share links)."""
        conv, msgs = self._load_all(owner, conversation_id)
        extra = self.branches.exported(owner, conversation_id, msgs) if versions else ()
        return history.export_json(conv, msgs, extra)

    def export_markdown(self, owner: Owner, conversation_id: str) -> str:
        """The conversation as a readable Markdown transcript."""
        conv, msgs = self._load_all(owner, conversation_id)
        return history.export_markdown(conv, msgs)

    def _load_all(self, owner: Owner, conversation_id: str) -> tuple[Conversation, list[Message]]:
        with self.db.read() as conn:
            conv = to_conversation(conversation_row(conn, owner, conversation_id))
            rows = conn.execute(
                sa.select(M).where(M.c.conversation_id == conv.id).order_by(M.c.seq)
            ).mappings()
            return conv, [to_message(r) for r in rows]

    def import_conversation(
        self,
        owner: Owner,
        data: ImportedConversation | str | bytes,
        *,
        origin: Mapping[str, str | None] | None = None,
    ) -> Conversation:
        """A NEW conversation owned by `owner` from an export, in one transaction.

        Raw input is validated first (`history.ConversationImportError` on a
        bad file); a failure writes nothing. Messages are stored as
        `history.settle_imported` says: answers that were still streaming come
        back `interrupted`, and a last prompt without an answer is marked
        unsent, so opening the import never sends anything by itself.
        `origin`: the `import_id`, `import_source` and `original_model` of an
        import from another app (`webapp.imports`).
        """
        parsed = data if isinstance(data, ImportedConversation) else history.parse_import(data)
        now = self.db.now()
        conv_id = str(uuid.uuid4())
        rows = [
            {
                "id": str(uuid.uuid4()),
                "conversation_id": conv_id,
                "seq": seq,
                "role": msg.role,
                "text": msg.text,
                "status": msg.status,
                "error": msg.error,
                "created_at": msg.created_at,
                "updated_at": msg.created_at,
            }
            for seq, msg in enumerate(history.settle_imported(parsed.messages))
        ]
        with self.db.write() as conn:
            self._insert_imported(conn, owner, conv_id, parsed, now, origin or {})
            if rows:
                conn.execute(sa.insert(M), rows)
            self.branches.insert_imported(
                conn, conv_id, [str(r["id"]) for r in rows], parsed.versions
            )
            return to_conversation(conversation_row(conn, owner, conv_id))

    @staticmethod
    def _insert_imported(
        conn: Connection,
        owner: Owner,
        conv_id: str,
        parsed: ImportedConversation,
        now: datetime,
        origin: Mapping[str, str | None],
    ) -> None:
        info = parsed.conversation
        conn.execute(
            sa.insert(C).values(
                id=conv_id,
                owner=owner.username,
                owner_user_id=owner.user_id,
                bot_slug=info.bot_slug,
                bot_name=info.bot_name,
                title=info.title,
                options=info.options.model_dump_json(),
                # The file's dates, not the import's: a copy made today of a
                # conversation from May is still May's in the History.
                created_at=info.created_at,
                updated_at=imported_last_activity(parsed),
                pinned=info.pinned,
                imported_at=now,
                **{key: origin.get(key) for key in ORIGIN_COLUMNS if origin.get(key)},
            )
        )


def delete_owned(conn: Connection, owner: Owner, conversation_ids: Collection[str]) -> int:
    """Delete those of `conversation_ids` that are `owner`'s, with their
    messages, versions, tags and share links (a comparison: its columns too),
    in the caller's transaction; returns how many of the listed ones went."""
    if not conversation_ids:
        return 0
    ids = list(conversation_ids)
    # Messages first: correct even where foreign keys are not enforced.
    owned_ids = sa.select(C.c.id).where(
        C.c.owner == owner.username,
        sa.or_(C.c.id.in_(ids), C.c.parent_id.in_(ids)),
    )
    conn.execute(sa.delete(M).where(M.c.conversation_id.in_(owned_ids)))
    for table in (schema.message_versions, schema.conversation_tags):
        conn.execute(sa.delete(table).where(table.c.conversation_id.in_(owned_ids)))
    # Its share links go with it: a deleted conversation is shown to nobody.
    conn.execute(sa.delete(schema.shares).where(schema.shares.c.conversation_id.in_(owned_ids)))
    conn.execute(sa.delete(C).where(C.c.owner == owner.username, C.c.parent_id.in_(ids)))
    done = conn.execute(sa.delete(C).where(C.c.owner == owner.username, C.c.id.in_(ids)))
    return int(done.rowcount)


@dataclass(frozen=True, slots=True)
class _ByName:
    username: str
    user_id: int = 0


def delete_whole(conn: Connection, owner: str, conversation_id: str) -> bool:
    """Delete the conversation `conversation_id` of the member named `owner`
    with everything that hangs on it (`delete_owned`), inside the caller's
    transaction, so it goes whole or stays whole. False when the member has
    no such conversation."""
    return delete_owned(conn, _ByName(owner), [conversation_id]) == 1
