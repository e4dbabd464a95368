"""What the store's repositories share: one engine, its transactions, the
owner check, the rows turned into models, and the store's errors.

Every repository call takes the member and puts the owner into the SQL itself,
so a conversation id from another member (guessed, pasted, or left in a stale
session) matches no row. "Does not exist" and "not yours" raise the same
`ConversationNotFound`, so ids cannot be probed.

Transactions are short and one per call. On SQLite, writes start with
`BEGIN IMMEDIATE` so two processes queue on the busy timeout instead of
failing half-way through a read-then-write; on PostgreSQL the conversation
row is locked (`FOR UPDATE`) before appending, so sequence numbers never clash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from webapp.conversations import context as history
from webapp.conversations.model import ROLES, STATUSES, AnswerStatus, Conversation, Message
from webapp.conversations.options import options_from_stored
from webapp.db import migrations
from webapp.db.engine import make_engine, reading
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M

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


class Database:
    """One engine (its connection pool) and one clock, shared by the repositories.

    Opening upgrades the schema (`webapp.db.migrations`); a failed upgrade
    closes the pool again and raises. Thread-safe.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self._clock = clock or (lambda: datetime.now(UTC))
        self.engine: Engine = make_engine(url)
        try:
            with self.write() as conn:
                migrations.upgrade(conn)
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        """Close the pool's connections (tests, shutdown)."""
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One short read (`webapp.db.engine.reading`: no transaction on PostgreSQL)."""
        with reading(self.engine) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One short write transaction (on SQLite it queues: `BEGIN IMMEDIATE`)."""
        with self.engine.connect() as conn:
            conn.execution_options(ablt_write=True)
            with conn.begin():
                yield conn

    def now(self) -> datetime:
        """The store's clock (UTC; tests may set it)."""
        return self._clock()


# ---------------------------------------------------------------- owner checks


def owned(owner: Owner, conversation_id: str) -> sa.ColumnElement[bool]:
    """The conversation `conversation_id`, if it is `owner`'s."""
    return sa.and_(C.c.id == conversation_id, C.c.owner == owner.username)


def owned_message(owner: Owner, message_id: str) -> sa.ColumnElement[bool]:
    """The message `message_id`, if it is in one of `owner`'s conversations."""
    owned_ids = sa.select(C.c.id).where(C.c.owner == owner.username)
    return sa.and_(M.c.id == message_id, M.c.conversation_id.in_(owned_ids))


def conversation_row(
    conn: Connection, owner: Owner, conversation_id: str, *, lock: bool = False
) -> RowMapping:
    """The owner's conversation row (locked `FOR UPDATE` with `lock`), or
    `ConversationNotFound`."""
    stmt = sa.select(C).where(owned(owner, conversation_id))
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise ConversationNotFound()
    return row


# ---------------------------------------------------------------- rows -> models


def to_conversation(row: Mapping[Any, Any]) -> Conversation:
    """A `conversations` row as a `Conversation`.

    Never raises on a stored option outside today's limits: it is set aside
    with a note (the page shows it), so the conversation opens."""
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
        opened_at=row.get("opened_at"),
        import_id=row.get("import_id"),
        import_source=row.get("import_source"),
        original_model=row.get("original_model"),
        folder_id=row.get("folder_id"),
        archived_at=row.get("archived_at"),
        temporary=bool(row.get("temporary", False)),
    )


def to_message(row: Mapping[Any, Any]) -> Message:
    """A `messages` row (or the values just inserted) as a `Message`."""
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


def check(role: str | None = None, status: str | None = None) -> None:
    """ValueError for a role or status the model does not know."""
    if role is not None and role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; expected one of {sorted(ROLES)}.")
    if status is not None and status not in STATUSES:
        known = sorted(s.value for s in STATUSES)
        raise ValueError(f"Unknown status {status!r}; expected one of {known}.")
