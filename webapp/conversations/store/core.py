"""`ConversationStore`: members' conversations in SQLite or PostgreSQL.

Every method takes the member and puts the owner into the SQL itself, so a
conversation id from another member (guessed, pasted, or left in a stale
session) matches no row. "Does not exist" and "not yours" raise the same
`ConversationNotFound`, so ids cannot be probed.

Transactions are short and one per call. On SQLite, writes start with
`BEGIN IMMEDIATE` so two processes queue on the busy timeout instead of
failing half-way through a read-then-write; on PostgreSQL the conversation
row is locked (`FOR UPDATE`) before appending, so sequence numbers never clash.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from webapp.conversations import context as history
from webapp.conversations.context import (
    ROLES,
    STATUSES,
    AnswerStatus,
    Conversation,
    ImportedConversation,
    Message,
    Role,
)
from webapp.conversations.options import ConversationOptions, options_from_stored
from webapp.conversations.store.answers import AnswerRows
from webapp.conversations.store.branches import BranchBusy, BranchRows
from webapp.conversations.transcripts import imported_last_activity
from webapp.db import migrations, schema
from webapp.db.engine import DEFAULT_DB_URL, ENV_DB_URL, db_url_from_env, like_pattern, make_engine
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M

DEFAULT_LIST_LIMIT: Final = 200
MAX_PAGE: Final = 1000
# A streaming answer not saved for this long belongs to a dead stream. Writers
# save at least once a second (a save without new text is a heartbeat), so
# this leaves a generous margin for a slow first byte.
STREAM_IDLE_AFTER: Final = timedelta(seconds=10)


class Owner(Protocol):
    """The member a call acts for; `webapp.auth.gate.Member` fits."""

    @property
    def username(self) -> str: ...

    @property
    def user_id(self) -> int: ...


class StoreError(Exception):
    """Base of the store's own errors."""


class ConversationNotFound(StoreError, LookupError):
    """No such conversation for this member (missing, deleted, or someone else's)."""

    def __init__(self, message: str = "Conversation not found.") -> None:
        super().__init__(message)


class MessageNotFound(ConversationNotFound):
    """No such message in any of this member's conversations."""

    def __init__(self, message: str = "Message not found.") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class MessagePage:
    """A slice of a conversation, oldest first, with the full count for paging."""

    messages: list[Message]
    total: int

    @property
    def has_earlier(self) -> bool:
        """Whether a "show earlier" control makes sense."""
        return bool(self.messages) and self.messages[0].seq > 0 and self.total > len(self.messages)

    @property
    def first_seq(self) -> int | None:
        """Pass as `before_seq` to load the page before this one."""
        return self.messages[0].seq if self.messages else None


class ConversationStore(AnswerRows, BranchRows):
    """Members' conversations and messages behind a small, owner-checked API.

    Create one per process (e.g. with `st.cache_resource`) and share it: it is
    thread-safe and holds the connection pool. Opening upgrades the schema.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url or db_url_from_env()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.engine = make_engine(self.url)
        try:
            self._migrate()
        except BaseException:
            self.engine.dispose()
            raise

    # ----------------------------------------------------------- lifecycle

    def close(self) -> None:
        """Close the pool's connections (tests, shutdown)."""
        self.engine.dispose()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The database's schema version (the latest after opening)."""
        with self._read() as conn:
            return migrations.current_version(conn)

    def _migrate(self) -> None:
        with self._write() as conn:
            migrations.upgrade(conn)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(ablt_write=True)
            with conn.begin():
                yield conn

    def _now(self) -> datetime:
        return self._clock()

    def transaction(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        """One short transaction on this store's database, for the stores of
        other features that share it (the prompt library, share links).
        `write=True` queues writers on SQLite (`BEGIN IMMEDIATE`)."""
        return self._write() if write else self._read()

    def now(self) -> datetime:
        """The store's clock (UTC; tests may set it)."""
        return self._clock()

    # ------------------------------------------------------------- helpers

    @staticmethod
    def _owned(owner: Owner, conversation_id: str) -> sa.ColumnElement[bool]:
        return sa.and_(C.c.id == conversation_id, C.c.owner == owner.username)

    def _conversation_row(
        self, conn: Connection, owner: Owner, conversation_id: str, *, lock: bool = False
    ) -> RowMapping:
        stmt = sa.select(C).where(self._owned(owner, conversation_id))
        if lock:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).mappings().first()
        if row is None:
            raise ConversationNotFound()
        return row

    @staticmethod
    def _to_conversation(row: Mapping[Any, Any]) -> Conversation:
        # Never raises on a stored option outside today's limits: it is set
        # aside with a note (the page shows it), so the conversation opens.
        options, notes = options_from_stored(row["options"])
        return Conversation(
            id=row["id"],
            owner=row["owner"],
            owner_user_id=row["owner_user_id"],
            bot_slug=row["bot_slug"],
            bot_name=row["bot_name"],
            title=row["title"] or history.DEFAULT_TITLE,
            options=options,
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            pinned=bool(row["pinned"]),
            option_notes=notes,
            kind=row["kind"],
            parent_id=row["parent_id"],
            position=row["position"],
            voted_id=row["voted_id"],
            imported_at=row.get("imported_at"),
        )

    @staticmethod
    def _to_message(row: Mapping[Any, Any]) -> Message:
        return Message(
            id=row["id"],
            conversation_id=row["conversation_id"],
            seq=row["seq"],
            role=row["role"],
            text=row["text"],
            status=AnswerStatus(row["status"]),
            error=row["error"],
            created_at=row["created_at"],
            updated_at=row["updated_at"] or row["created_at"],
        )

    @staticmethod
    def _check(role: str | None = None, status: str | None = None) -> None:
        if role is not None and role not in ROLES:
            raise ValueError(f"Unknown role {role!r}; expected one of {sorted(ROLES)}.")
        if status is not None and status not in STATUSES:
            raise ValueError(f"Unknown status {status!r}; expected one of {sorted(STATUSES)}.")

    # -------------------------------------------------------- conversations

    def create_conversation(
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
    ) -> Conversation:
        """A new, empty conversation; without a title, the first prompt names it.

        `kind`, `parent_id` and `position` make comparisons (`webapp.compare`):
        a column's parent must be one of the owner's comparisons."""
        if not bot_slug.strip():
            raise ValueError("A conversation needs a bot.")
        now = self._now()
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
        }
        with self._write() as conn:
            if parent_id is not None:
                self._conversation_row(conn, owner, parent_id)  # theirs, or not found
            conn.execute(sa.insert(C).values(**values))
            return self._to_conversation(self._conversation_row(conn, owner, values["id"]))

    def get_conversation(self, owner: Owner, conversation_id: str) -> Conversation:
        """One of the member's conversations, or ConversationNotFound."""
        with self._read() as conn:
            return self._to_conversation(self._conversation_row(conn, owner, conversation_id))

    def list_conversations(
        self, owner: Owner, query: str | None = None, limit: int = DEFAULT_LIST_LIMIT
    ) -> list[Conversation]:
        """The member's conversations, pinned first, then newest activity first.

        `query` matches titles and message text, case-insensitively (Unicode
        too, on both databases).
        """
        # A comparison's columns are listed through their comparison.
        stmt = sa.select(C).where(C.c.owner == owner.username, C.c.parent_id.is_(None))
        needle = (query or "").strip()
        if needle:
            pattern = schema.fold(sa.literal(like_pattern(needle)))
            in_messages = (
                sa.select(M.c.id)
                .where(M.c.conversation_id == C.c.id, schema.fold(M.c.text).like(pattern, "\\"))
                .exists()
            )
            stmt = stmt.where(sa.or_(schema.fold(C.c.title).like(pattern, "\\"), in_messages))
        stmt = stmt.order_by(C.c.pinned.desc(), C.c.updated_at.desc(), C.c.id).limit(limit)
        with self._read() as conn:
            return [self._to_conversation(r) for r in conn.execute(stmt).mappings()]

    def rename(self, owner: Owner, conversation_id: str, title: str) -> Conversation:
        """Give a conversation the member's own title (one line, not blank)."""
        return self._update_conversation(owner, conversation_id, title=history.clean_title(title))

    def set_pinned(self, owner: Owner, conversation_id: str, pinned: bool) -> Conversation:
        """Pin to the top of the sidebar, or unpin."""
        return self._update_conversation(owner, conversation_id, pinned=pinned)

    def update_options(
        self, owner: Owner, conversation_id: str, options: ConversationOptions
    ) -> Conversation:
        """Save changed chat settings so the conversation reopens with them."""
        return self._update_conversation(owner, conversation_id, options=options.model_dump_json())

    def _update_conversation(
        self, owner: Owner, conversation_id: str, **values: Any
    ) -> Conversation:
        with self._write() as conn:
            done = conn.execute(
                sa.update(C).where(self._owned(owner, conversation_id)).values(**values)
            )
            if done.rowcount != 1:
                raise ConversationNotFound()
            return self._to_conversation(self._conversation_row(conn, owner, conversation_id))

    def delete_conversation(self, owner: Owner, conversation_id: str) -> None:
        """Delete a conversation and its messages (a comparison: its columns too)."""
        with self._write() as conn:
            # Messages first: correct even where foreign keys are not enforced.
            owned = sa.select(C.c.id).where(
                C.c.owner == owner.username,
                sa.or_(C.c.id == conversation_id, C.c.parent_id == conversation_id),
            )
            conn.execute(sa.delete(M).where(M.c.conversation_id.in_(owned)))
            conn.execute(
                sa.delete(schema.message_versions).where(
                    schema.message_versions.c.conversation_id.in_(owned)
                )
            )
            # Its share links go with it: a deleted conversation is shown to nobody.
            conn.execute(sa.delete(schema.shares).where(schema.shares.c.conversation_id.in_(owned)))
            conn.execute(
                sa.delete(C).where(C.c.owner == owner.username, C.c.parent_id == conversation_id)
            )
            if conn.execute(sa.delete(C).where(self._owned(owner, conversation_id))).rowcount != 1:
                raise ConversationNotFound()

    # ------------------------------------------------------------- messages

    def messages(
        self,
        owner: Owner,
        conversation_id: str,
        limit: int | None = None,
        before_seq: int | None = None,
    ) -> MessagePage:
        """The latest `limit` messages (all when None) before `before_seq`.

        Reads only the rows it returns, newest first through the
        (conversation_id, seq) index, so the tail of a 5,000-message
        conversation costs the same as a short one.
        """
        if limit is not None and not 0 < limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}.")
        with self._read() as conn:
            self._conversation_row(conn, owner, conversation_id)
            total = conn.execute(
                sa.select(sa.func.count())
                .select_from(M)
                .where(M.c.conversation_id == conversation_id)
            ).scalar_one()
            stmt = (
                sa.select(M)
                .join(C, C.c.id == M.c.conversation_id)
                .where(self._owned(owner, conversation_id))
            )
            if before_seq is not None:
                stmt = stmt.where(M.c.seq < before_seq)
            if limit is None:
                rows = conn.execute(stmt.order_by(M.c.seq)).mappings().all()
            else:
                rows = conn.execute(stmt.order_by(M.c.seq.desc()).limit(limit)).mappings().all()
                rows = list(reversed(rows))
            return MessagePage([self._to_message(r) for r in rows], total)

    def all_messages(self, owner: Owner, conversation_id: str) -> list[Message]:
        """Every message, oldest first (exports; the page should use `messages`)."""
        return self.messages(owner, conversation_id).messages

    def append_message(
        self,
        owner: Owner,
        conversation_id: str,
        role: Role,
        text: str,
        status: AnswerStatus = AnswerStatus.COMPLETE,
        error: str | None = None,
    ) -> Message:
        """Add a message at the end; the first user message names an untitled
        conversation. Bumps the conversation to the top of the sidebar."""
        self._check(role, status)
        now = self._now()
        with self._write() as conn:
            conv = self._conversation_row(conn, owner, conversation_id, lock=True)
            last = conn.execute(
                sa.select(sa.func.max(M.c.seq)).where(M.c.conversation_id == conversation_id)
            ).scalar()
            values: dict[str, Any] = {
                "id": str(uuid.uuid4()),
                "conversation_id": conversation_id,
                "seq": 0 if last is None else last + 1,
                "role": role,
                "text": text,
                "status": status,
                "error": error,
                "created_at": now,
                "updated_at": now,
            }
            conn.execute(sa.insert(M).values(**values))
            changes: dict[str, Any] = {"updated_at": now}
            if role == "user" and not conv["title"]:
                changes["title"] = history.make_title(text)
            conn.execute(sa.update(C).where(C.c.id == conversation_id).values(**changes))
            return self._to_message(values)

    def update_message(
        self,
        owner: Owner,
        message_id: str,
        *,
        text: str | None = None,
        status: AnswerStatus | None = None,
        error: str | None = None,
    ) -> Message:
        """Save a growing answer (status `streaming`) or finalise one.

        A `streaming` save only lands while the message is still streaming: if
        another tab or process already marked it `interrupted`, the save is
        ignored and the returned message shows the status that won, so the
        writer can stop. Final statuses always land.
        """
        self._check(status=status)
        values: dict[str, Any] = {"updated_at": self._now()}
        if text is not None:
            values["text"] = text
        if status is not None:
            values["status"] = status
        if error is not None:
            values["error"] = error
        owned_ids = sa.select(C.c.id).where(C.c.owner == owner.username)
        where = sa.and_(M.c.id == message_id, M.c.conversation_id.in_(owned_ids))
        with self._write() as conn:
            stmt = sa.update(M).where(where)
            if status == AnswerStatus.STREAMING:
                stmt = stmt.where(M.c.status == AnswerStatus.STREAMING)
            conn.execute(stmt.values(**values))
            row = conn.execute(sa.select(M).where(where)).mappings().first()
            if row is None:
                raise MessageNotFound()
            return self._to_message(row)

    def delete_messages_from(self, owner: Owner, conversation_id: str, seq: int) -> int:
        """Drop messages with `seq` and after (Retry of a failed answer); returns
        how many went. `BranchBusy` (nothing dropped) while one of them is an
        answer still being generated: a click made on a page drawn before that
        answer started must not delete it under its worker."""
        with self._write() as conn:
            self._conversation_row(conn, owner, conversation_id, lock=True)
            owned = sa.select(C.c.id).where(self._owned(owner, conversation_id))
            doomed = sa.and_(M.c.conversation_id.in_(owned), M.c.seq >= seq)
            if conn.execute(
                sa.select(M.c.id).where(doomed, M.c.status == AnswerStatus.STREAMING)
            ).first():
                raise BranchBusy()
            return conn.execute(sa.delete(M).where(doomed)).rowcount

    def mark_streaming_as_interrupted(
        self,
        owner: Owner,
        conversation_id: str,
        *,
        idle_for: timedelta | None = None,
    ) -> int:
        """Turn answers left `streaming` (a reload, a crash) into `interrupted`.

        With `idle_for` (e.g. `STREAM_IDLE_AFTER`), only answers not saved for
        that long change, so a stream still running in another tab or process
        is left alone. Returns how many changed.
        """
        now = self._now()
        with self._write() as conn:
            self._conversation_row(conn, owner, conversation_id)
            owned = sa.select(C.c.id).where(self._owned(owner, conversation_id))
            stmt = sa.update(M).where(
                M.c.conversation_id.in_(owned), M.c.status == AnswerStatus.STREAMING
            )
            if idle_for is not None:
                stmt = stmt.where(
                    sa.func.coalesce(M.c.updated_at, M.c.created_at) <= now - idle_for
                )
            return conn.execute(
                stmt.values(status=AnswerStatus.INTERRUPTED, updated_at=now)
            ).rowcount

    # ------------------------------------------------------- export/import

    def export_json(self, owner: Owner, conversation_id: str, *, versions: bool = False) -> str:
        """The conversation in the versioned JSON export format: the shown path,
        and with `versions` the other versions too (not for share links)."""
        conv, msgs = self._load_all(owner, conversation_id)
        extra = self.exported_versions(owner, conversation_id, msgs) if versions else ()
        return history.export_json(conv, msgs, extra)

    def export_markdown(self, owner: Owner, conversation_id: str) -> str:
        """The conversation as a readable Markdown transcript."""
        conv, msgs = self._load_all(owner, conversation_id)
        return history.export_markdown(conv, msgs)

    def _load_all(self, owner: Owner, conversation_id: str) -> tuple[Conversation, list[Message]]:
        with self._read() as conn:
            conv = self._to_conversation(self._conversation_row(conn, owner, conversation_id))
            rows = conn.execute(
                sa.select(M).where(M.c.conversation_id == conv.id).order_by(M.c.seq)
            ).mappings()
            return conv, [self._to_message(r) for r in rows]

    def import_conversation(
        self, owner: Owner, data: ImportedConversation | str | bytes
    ) -> Conversation:
        """A NEW conversation owned by `owner` from an export, in one transaction.

        Raw input is validated first (`history.ConversationImportError` on a
        bad file); a failure writes nothing. Messages are stored as
        `history.settle_imported` says: answers that were still streaming come
        back `interrupted`, and a last prompt without an answer is marked
        unsent, so opening the import never sends anything by itself.
        """
        parsed = data if isinstance(data, ImportedConversation) else history.parse_import(data)
        info = parsed.conversation
        now = self._now()
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
        with self._write() as conn:
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
                )
            )
            if rows:
                conn.execute(sa.insert(M), rows)
            self._import_versions(conn, conv_id, [str(r["id"]) for r in rows], parsed.versions)
            return self._to_conversation(self._conversation_row(conn, owner, conv_id))

    def __repr__(self) -> str:
        return f"ConversationStore({sa.make_url(self.url).render_as_string(hide_password=True)!r})"


__all__: Sequence[str] = [
    "DEFAULT_DB_URL",
    "ENV_DB_URL",
    "STREAM_IDLE_AFTER",
    "ConversationNotFound",
    "ConversationStore",
    "MessageNotFound",
    "MessagePage",
    "Owner",
    "StoreError",
    "db_url_from_env",
]
