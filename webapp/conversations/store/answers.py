"""The store's side of answers generated in the background (`webapp.answers`).

`AnswerRepository`, behind `ConversationStore`: the rows a background worker and the pages
that follow it share, so every app process sees the same thing.

- A prompt is *queued*, then *claimed* (`claim_next`): under the
  conversation's lock, when no answer is in progress, the oldest queued
  prompt becomes a user message followed at once by an empty answer
  (`streaming`, `reply_to` = that prompt). So two tabs sending into one
  conversation get one answer each, in order, each right after its prompt.
  A send does both in one transaction (`send_prompt`), and a prompt with
  nothing before it goes straight to the messages; `enqueue_prompt` queues
  one alone.
- A generating answer proves it is alive with `heartbeat_at` (`save_progress`,
  about once a second whatever it waits for). One silent for longer than
  `STREAM_IDLE_AFTER` belonged to a process that died (kill -9, a deploy):
  `settle_stale` marks it `interrupted` with a plain reason, so it offers Retry.
- On PostgreSQL both saves NOTIFY `webapp.db.listen.ANSWER_SAVED` with the
  answer's id in their transaction, so followers on other processes re-read
  it at once (`webapp.answers.signals`); SQLite followers poll.
- `finish_answer` always lands for the worker that owns the answer (a
  finished answer is never thrown away), except over a `stopped` someone set
  with `stop_answer` (Stop pressed on another app process): theirs wins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from webapp.conversations import context as history
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store.database import (
    conversation_row,
    owned_message,
    to_conversation,
    to_message,
)
from webapp.db.listen import ANSWER_SAVED, notify, supports_notify
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M
from webapp.db.schema import queued_prompts as Q
from webapp.ui.i18n import N_, _

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from sqlalchemy.engine import Connection

    from webapp.conversations.model import Conversation, Message
    from webapp.conversations.store.database import Database, Owner

DEAD_WORKER_ERROR: Final = N_(
    "This answer stopped arriving: the app server generating it "
    "stopped (a restart or a crash). The part received is kept; retry "
    "to ask again."
)
# Statuses a worker's own saves may write over: its own `streaming`, and the
# `interrupted` of `settle_stale` set while it was in fact alive (its heartbeat
# could not land, e.g. a stalled database): a finished answer is still saved.
_OWNED = sa.or_(
    M.c.status == AnswerStatus.STREAMING,
    sa.and_(M.c.status == AnswerStatus.INTERRUPTED, M.c.error == DEAD_WORKER_ERROR),
)


@dataclass(frozen=True, slots=True)
class QueuedPrompt:
    """A prompt waiting for the answer before it to finish (shown as queued)."""

    id: str
    conversation_id: str
    position: int
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """An answer to generate now: its empty message and the prompt it answers
    (`queued_id`: the queued prompt it was, when it came from the queue)."""

    prompt: Message
    answer: Message
    queued_id: str | None = None
    # The conversation as the claim read it (its bot and options: what the
    # worker sends), so the worker need not read it again; None when unknown.
    conversation: Conversation | None = None
    # The latest messages before the answer, oldest first, when the claim
    # was asked to read them (`tail`): its context, read in the same transaction.
    tail: tuple[Message, ...] | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    """What `send_prompt` did with a prompt: `queued` (it waits, shown as
    queued) and `claim` (the answer started now, None when none did: one was
    in progress). With a claim, `own` says whether it answers this prompt
    (else an older one came first and this one is queued)."""

    queued: QueuedPrompt | None
    claim: Claim | None

    @property
    def own(self) -> bool:
        return self.claim is not None and self.queued is None


@dataclass(frozen=True, slots=True)
class _Due:
    """A locked conversation's state for starting an answer (`AnswerRepository._due`)."""

    free: bool  # no answer in progress
    seq: int  # the next message's seq
    prompt: Message | None  # the sent prompt left unanswered, if any


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """A generating (or finished) answer as another process sees it."""

    id: str
    conversation_id: str
    text: str
    status: AnswerStatus
    error: str | None
    waiting: str | None  # JSON written by the worker: what it waits for
    heartbeat_at: datetime | None


def queued_of_checked(conn: Connection, conversation_id: str) -> list[QueuedPrompt]:
    """`AnswerRepository.queued_prompts`' read for a conversation whose owner
    `conn` has just checked (`conversation_row`)."""
    rows = conn.execute(
        sa.select(Q).where(Q.c.conversation_id == conversation_id).order_by(Q.c.position)
    ).mappings()
    return [
        QueuedPrompt(
            id=r["id"],
            conversation_id=r["conversation_id"],
            position=r["position"],
            text=r["text"],
            created_at=r["created_at"],
        )
        for r in rows
    ]


def _last_position(conn: Connection, conversation_id: str) -> int | None:
    """The last queued prompt's position in the conversation (None: none queued)."""
    last: int | None = conn.execute(
        sa.select(sa.func.max(Q.c.position)).where(Q.c.conversation_id == conversation_id)
    ).scalar()
    return last


def _queue(
    conn: Connection, conversation_id: str, text: str, now: datetime, last: int | None
) -> QueuedPrompt:
    """Queue `text` after the prompt at position `last` (None: first), in the
    caller's transaction (the conversation locked)."""
    queued = QueuedPrompt(
        id=str(uuid.uuid4()),
        conversation_id=conversation_id,
        position=0 if last is None else last + 1,
        text=text,
        created_at=now,
    )
    conn.execute(
        sa.insert(Q).values(
            id=queued.id,
            conversation_id=conversation_id,
            position=queued.position,
            text=text,
            created_at=now,
        )
    )
    return queued


class AnswerRepository:
    """Queued prompts and the answers workers generate (owner-checked, see `database`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------ the queue

    def enqueue_prompt(self, owner: Owner, conversation_id: str, text: str) -> QueuedPrompt:
        """Keep a prompt (stripped, not blank) until its turn; ValueError when blank."""
        text = text.strip()
        if not text:
            raise ValueError(_("An empty message cannot be sent."))
        now = self.db.now()
        with self.db.write() as conn:
            conversation_row(conn, owner, conversation_id, lock=True)
            return _queue(conn, conversation_id, text, now, _last_position(conn, conversation_id))

    def queued_prompts(self, owner: Owner, conversation_id: str) -> list[QueuedPrompt]:
        """The conversation's queued prompts, in the order they will be answered."""
        with self.db.read() as conn:
            conversation_row(conn, owner, conversation_id)
            return queued_of_checked(conn, conversation_id)

    def cancel_queued(self, owner: Owner, queued_id: str) -> bool:
        """Drop a queued prompt (its Cancel); False when it was already answered or gone."""
        owned_ids = sa.select(C.c.id).where(C.c.owner == owner.username)
        with self.db.write() as conn:
            done = conn.execute(
                sa.delete(Q).where(Q.c.id == queued_id, Q.c.conversation_id.in_(owned_ids))
            )
            return bool(done.rowcount)

    def send_prompt(
        self, owner: Owner, conversation_id: str, text: str, *, tail: int | None = 0
    ) -> Sent:
        """A sent prompt, in one transaction: answered at once when nothing is
        in progress or due before it (the prompt and its empty answer are
        written), else queued, and the due answer claimed when none runs
        (`claim_next`: an unanswered prompt, the oldest queued one). The same
        as `enqueue_prompt` then `claim_next`, in one write instead of two.
        `tail`: the claim also reads the latest `tail` messages before its
        answer (None: all; 0: none) into `Claim.tail`, for the worker.
        ValueError when blank; ConversationNotFound when not `owner`'s."""
        text = text.strip()
        if not text:
            raise ValueError(_("An empty message cannot be sent."))
        now = self.db.now()
        with self.db.write() as conn:
            conv = conversation_row(conn, owner, conversation_id, lock=True)
            due = self._due(conn, conversation_id)
            waiting = _last_position(conn, conversation_id)
            if due.free and due.prompt is None and waiting is None:
                # Nothing before it: the prompt goes straight to the messages.
                prompt = self._insert(conn, conversation_id, due.seq, "user", text, now)
                started = self._start(
                    conn, conv, prompt, due.seq + 1, now, None, new_prompt=True, tail=tail
                )
                return Sent(None, started)
            queued = _queue(conn, conversation_id, text, now, waiting)
            claim = self._claim_due(conn, conv, due, now, take_queued=True, tail=tail)
            if claim is not None and claim.queued_id == queued.id:
                return Sent(None, claim)  # it was the only one waiting
            return Sent(queued, claim)

    # ------------------------------------------------------------ claiming

    def claim_next(
        self, owner: Owner, conversation_id: str, *, take_queued: bool = True
    ) -> Claim | None:
        """Start the next answer of a conversation, if one is due and none is running.

        Due: the last message is a prompt without an answer (a Retry, an edit);
        else, with `take_queued`, the oldest queued prompt, which becomes a
        message first. The empty answer (`streaming`, heartbeat now) is written
        in the same transaction. None when an answer is in progress or nothing
        is due.
        """
        now = self.db.now()
        with self.db.write() as conn:
            # Locked: its title below is still this one when the prompt is saved.
            conv = conversation_row(conn, owner, conversation_id, lock=True)
            due = self._due(conn, conversation_id)
            return self._claim_due(conn, conv, due, now, take_queued=take_queued)

    def _due(self, conn: Connection, conversation_id: str) -> _Due:
        """Whether an answer of the conversation is in progress, its next
        message's seq, and the prompt left unanswered (if any), read in the
        caller's transaction (the conversation locked)."""
        busy = conn.execute(
            sa.select(M.c.id).where(
                M.c.conversation_id == conversation_id, M.c.status == AnswerStatus.STREAMING
            )
        ).first()
        last_row = (
            conn.execute(
                sa.select(M)
                .where(M.c.conversation_id == conversation_id)
                .order_by(M.c.seq.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        seq = 0 if last_row is None else last_row["seq"] + 1
        unanswered = (
            to_message(last_row)
            if last_row is not None
            and last_row["role"] == "user"
            and last_row["status"] == AnswerStatus.COMPLETE  # not an imported prompt never sent
            else None
        )
        return _Due(free=busy is None, seq=seq, prompt=unanswered)

    def _claim_due(
        self,
        conn: Connection,
        conv: sa.RowMapping,
        due: _Due,
        now: datetime,
        *,
        take_queued: bool,
        tail: int | None = 0,
    ) -> Claim | None:
        """`claim_next`'s writes, in the caller's transaction (`tail`: see `send_prompt`)."""
        if not due.free:
            return None
        conversation_id = conv["id"]
        seq = due.seq
        queued_id = None
        if due.prompt is not None:
            prompt = due.prompt
        elif take_queued:
            queued = (
                conn.execute(
                    sa.select(Q)
                    .where(Q.c.conversation_id == conversation_id)
                    .order_by(Q.c.position)
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if queued is None:
                return None
            queued_id = queued["id"]
            conn.execute(sa.delete(Q).where(Q.c.id == queued_id))
            prompt = self._insert(conn, conversation_id, seq, "user", queued["text"], now)
            seq += 1
        else:
            return None
        return self._start(
            conn, conv, prompt, seq, now, queued_id, new_prompt=queued_id is not None, tail=tail
        )

    def _start(
        self,
        conn: Connection,
        conv: sa.RowMapping,
        prompt: Message,
        seq: int,
        now: datetime,
        queued_id: str | None,
        *,
        new_prompt: bool,
        tail: int | None = 0,
    ) -> Claim:
        """The empty answer to `prompt` at `seq` (streaming, heartbeat now); the
        conversation's `updated_at`, and its title from a `new_prompt` (just
        written) when it has none: the first prompt names it. `tail`: see
        `send_prompt`."""
        conversation_id = conv["id"]
        changes: dict[str, object] = {"updated_at": now}
        if new_prompt and not conv["title"]:
            changes["title"] = history.make_title(prompt.text)
        answer = self._insert(conn, conversation_id, seq, "assistant", "", now, reply_to=prompt.id)
        conn.execute(sa.update(C).where(C.c.id == conversation_id).values(**changes))
        conversation = to_conversation({**conv, **changes})
        before = None
        if tail != 0:
            stmt = sa.select(M).where(M.c.conversation_id == conversation_id, M.c.seq < seq)
            stmt = stmt.order_by(M.c.seq.desc())
            rows = conn.execute(stmt if tail is None else stmt.limit(tail)).mappings().all()
            before = tuple(to_message(r) for r in reversed(rows))
        return Claim(
            prompt=prompt,
            answer=answer,
            queued_id=queued_id,
            conversation=conversation,
            tail=before,
        )

    def _insert(
        self,
        conn: Connection,
        conversation_id: str,
        seq: int,
        role: str,
        text: str,
        now: datetime,
        *,
        reply_to: str | None = None,
    ) -> Message:
        values: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "conversation_id": conversation_id,
            "seq": seq,
            "role": role,
            "text": text,
            "status": AnswerStatus.STREAMING if role == "assistant" else AnswerStatus.COMPLETE,
            "error": None,
            "created_at": now,
            "updated_at": now,
            "reply_to": reply_to,
            "heartbeat_at": now if role == "assistant" else None,
        }
        conn.execute(sa.insert(M).values(**values))
        return to_message(values)

    # ------------------------------------------------------- a worker's saves

    def save_progress(
        self, owner: Owner, message_id: str, text: str, waiting: str | None = None
    ) -> AnswerStatus | None:
        """A worker's save about once a second: the text so far and a heartbeat.

        Lands while the answer is the worker's (see `_OWNED`; an answer marked
        dead while its worker lived is taken back). Returns the status now in
        the row (`stopped`: someone pressed Stop elsewhere, stop generating),
        or None when the answer is gone (deleted in another tab).
        """
        now = self.db.now()
        where = owned_message(owner, message_id)
        with self.db.write() as conn:
            conn.execute(
                sa.update(M)
                .where(where, _OWNED)
                .values(
                    text=text,
                    status=AnswerStatus.STREAMING,
                    heartbeat_at=now,
                    updated_at=now,
                    waiting=waiting,
                )
            )
            self._saved(conn, message_id)
            status = conn.execute(sa.select(M.c.status).where(where)).scalar()
            return None if status is None else AnswerStatus(status)

    def finish_answer(
        self,
        owner: Owner,
        message_id: str,
        text: str,
        status: AnswerStatus,
        error: str | None = None,
    ) -> bool:
        """The worker's last save, with the final status; False when it did not land
        (the answer was deleted, or stopped by someone, whose text stays)."""
        now = self.db.now()
        with self.db.write() as conn:
            done = conn.execute(
                sa.update(M)
                .where(owned_message(owner, message_id), _OWNED)
                .values(
                    text=text,
                    status=status,
                    error=error,
                    updated_at=now,
                    heartbeat_at=None,
                    waiting=None,
                )
            )
            self._saved(conn, message_id)
            return bool(done.rowcount)

    def _saved(self, conn: Connection, message_id: str) -> None:
        """Tell followers on other processes (PostgreSQL: sent on commit)."""
        if supports_notify(self.db.engine):
            notify(conn, ANSWER_SAVED, message_id)

    def stop_answer(self, owner: Owner, message_id: str, keep_chars: int | None = None) -> bool:
        """Stop pressed where no worker of this process generates the answer.

        Marks it `stopped`, keeping its first `keep_chars` characters (what the
        member saw) when given. Its worker, on another process, sees the status
        at its next save and stops. False when it was no longer generating.
        """
        now = self.db.now()
        where = owned_message(owner, message_id)
        with self.db.write() as conn:
            row = conn.execute(sa.select(M.c.text).where(where, _OWNED)).first()
            if row is None:
                return False
            text = row[0] if keep_chars is None else row[0][: max(keep_chars, 0)]
            conn.execute(
                sa.update(M)
                .where(where)
                .values(
                    status=AnswerStatus.STOPPED,
                    text=text,
                    updated_at=now,
                    heartbeat_at=None,
                    waiting=None,
                )
            )
            return True

    # ------------------------------------------------------------- reading

    def answer_row(self, owner: Owner, message_id: str) -> AnswerRow | None:
        """An answer as it stands in the database (following another process's worker)."""
        with self.db.read() as conn:
            row = (
                conn.execute(sa.select(M).where(owned_message(owner, message_id)))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return AnswerRow(
            id=row["id"],
            conversation_id=row["conversation_id"],
            text=row["text"],
            status=AnswerStatus(row["status"]),
            error=row["error"],
            waiting=row["waiting"],
            heartbeat_at=row["heartbeat_at"],
        )

    def settle_stale(
        self,
        owner: Owner,
        conversation_id: str,
        idle_for: timedelta,
        *,
        alive: Collection[str] = (),
    ) -> int:
        """Mark answers whose worker went silent for `idle_for` as `interrupted`
        (with `DEAD_WORKER_ERROR`, so they offer Retry); `alive`: ids generated in
        this process, never touched. Returns how many changed."""
        now = self.db.now()
        with self.db.write() as conn:
            conversation_row(conn, owner, conversation_id)
            last_sign = sa.func.coalesce(M.c.heartbeat_at, M.c.updated_at, M.c.created_at)
            stmt = sa.update(M).where(
                M.c.conversation_id == conversation_id,
                M.c.status == AnswerStatus.STREAMING,
                last_sign <= now - idle_for,
            )
            if alive:
                stmt = stmt.where(M.c.id.not_in(list(alive)))
            done = conn.execute(
                stmt.values(
                    status=AnswerStatus.INTERRUPTED,
                    error=DEAD_WORKER_ERROR,
                    updated_at=now,
                    heartbeat_at=None,
                    waiting=None,
                )
            )
            return int(done.rowcount)

    def generating(self, owner: Owner, conversation_id: str) -> Iterator[str]:
        """Ids of the conversation's answers in progress (normally at most one)."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(M.c.id).where(
                    M.c.conversation_id == conversation_id, M.c.status == AnswerStatus.STREAMING
                )
            ).all()
        return iter([r[0] for r in rows])
