"""`MessageRepository`: the shown path of a conversation, one message per `seq`.

Reading a slice of it (`page`), appending (the first user message names an
untitled conversation), saving an edit of a message, and dropping its tail
(Retry). Versions kept off the path are `webapp.conversations.store.branches`'.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.conversations import context as history
from webapp.conversations.model import AnswerStatus, Message, Role
from webapp.conversations.store.branches import BranchBusy
from webapp.conversations.store.database import (
    Database,
    MessageNotFound,
    Owner,
    check,
    conversation_row,
    owned,
    owned_message,
    to_message,
)
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M
from webapp.ui.i18n import _

MAX_PAGE: Final = 1000


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


def check_page_limit(limit: int | None) -> None:
    """ValueError for a page `limit` outside 1..`MAX_PAGE` (None: all is fine)."""
    if limit is not None and not 0 < limit <= MAX_PAGE:
        raise ValueError(_("limit must be between 1 and {max_page}.").format(max_page=MAX_PAGE))


def page_of_checked(
    conn: Connection,
    conversation_id: str,
    limit: int | None = None,
    before_seq: int | None = None,
) -> MessagePage:
    """`MessageRepository.page`'s reads for a conversation whose owner `conn`
    has just checked (`conversation_row`): the caller's one owner check serves
    the whole read. `limit` is not checked here."""
    total = conn.execute(
        sa.select(sa.func.count()).select_from(M).where(M.c.conversation_id == conversation_id)
    ).scalar_one()
    stmt = sa.select(M).where(M.c.conversation_id == conversation_id)
    if before_seq is not None:
        stmt = stmt.where(M.c.seq < before_seq)
    if limit is None:
        rows = conn.execute(stmt.order_by(M.c.seq)).mappings().all()
    else:
        rows = conn.execute(stmt.order_by(M.c.seq.desc()).limit(limit)).mappings().all()
        rows = list(reversed(rows))
    return MessagePage([to_message(r) for r in rows], total)


class MessageRepository:
    """The messages of the members' conversations (owner-checked, see `database`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def page(
        self,
        owner: Owner,
        conversation_id: str,
        limit: int | None = None,
        before_seq: int | None = None,
    ) -> MessagePage:
        """The latest `limit` messages (all when None) before `before_seq`.

        Reads only the rows it returns, newest first through the
        (conversation_id, seq) index, so the tail of a 5,000-message
        conversation costs the same as a short one. ValueError for a `limit`
        outside 1..`MAX_PAGE`.
        """
        check_page_limit(limit)
        with self.db.read() as conn:
            conversation_row(conn, owner, conversation_id)
            return page_of_checked(conn, conversation_id, limit, before_seq)

    def all(self, owner: Owner, conversation_id: str) -> list[Message]:
        """Every message, oldest first (exports; the page should use `page`)."""
        return self.page(owner, conversation_id).messages

    def append(
        self,
        owner: Owner,
        conversation_id: str,
        role: Role,
        text: str,
        status: AnswerStatus = AnswerStatus.COMPLETE,
        error: str | None = None,
    ) -> Message:
        """Add a message at the end; the first user message names an untitled
        conversation. Bumps the conversation to the top of the sidebar.
        ValueError for an unknown role or status."""
        check(role, status)
        now = self.db.now()
        with self.db.write() as conn:
            conv = conversation_row(conn, owner, conversation_id, lock=True)
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
            return to_message(values)

    def update(
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
        writer can stop. Final statuses always land. `MessageNotFound` when
        the message is not in one of the owner's conversations.
        """
        check(status=status)
        values: dict[str, Any] = {"updated_at": self.db.now()}
        if text is not None:
            values["text"] = text
        if status is not None:
            values["status"] = status
        if error is not None:
            values["error"] = error
        where = owned_message(owner, message_id)
        with self.db.write() as conn:
            stmt = sa.update(M).where(where)
            if status == AnswerStatus.STREAMING:
                stmt = stmt.where(M.c.status == AnswerStatus.STREAMING)
            conn.execute(stmt.values(**values))
            row = conn.execute(sa.select(M).where(where)).mappings().first()
            if row is None:
                raise MessageNotFound()
            return to_message(row)

    def delete_from(self, owner: Owner, conversation_id: str, seq: int) -> int:
        """Drop messages with `seq` and after (Retry of a failed answer); returns
        how many went. `BranchBusy` (nothing dropped) while one of them is an
        answer still being generated: a click made on a page drawn before that
        answer started must not delete it under its worker."""
        with self.db.write() as conn:
            conversation_row(conn, owner, conversation_id, lock=True)
            owned_ids = sa.select(C.c.id).where(owned(owner, conversation_id))
            doomed = sa.and_(M.c.conversation_id.in_(owned_ids), M.c.seq >= seq)
            streaming = M.c.status == AnswerStatus.STREAMING
            if conn.execute(sa.select(M.c.id).where(doomed, streaming)).first():
                raise BranchBusy()
            return conn.execute(sa.delete(M).where(doomed)).rowcount
