"""Budget holds: what answers admitted but not yet finished reserve of their
member's monthly budget, in the `budget_holds` table (migration v12).

Without them the check came first and the answer later, with nothing counted
for answers in flight: five browsers pressing Enter at once with 20 words
left all passed the check. Now `webapp.budgets.check.BudgetGate` checks and
writes the hold in one transaction serialised per member (`member_lock`),
across threads and app processes, so the next check counts it.

A hold's life:

- **Admitted** (`reserve`): one row per admission ticket, `answer_id` NULL,
  its estimate in words (`estimate_words`: the conversation's `max_words`,
  else `BOT_DEFAULT_ANSWER_WORDS`). It counts until `expires_at` (the
  ticket's life, `webapp.answers.admission.TICKET_TTL`).
- **Answer started** (`bind`): the row takes the answer's id and its
  conversation's estimate; a further answer started with the same ticket (a
  comparison's columns) gets a row of its own. A bound hold counts while its
  answer is `streaming` with a live heartbeat, at the larger of the estimate
  and the text so far (plus its prompt); the answer itself is then left out
  of the local count, so nothing is counted twice.
- **Ended**: once the answer's final save lands (complete, stopped, failed,
  interrupted) or its row is gone, the hold no longer counts and the
  answer's own words do: the switch is one row's status, so there is no gap
  and no double count. `release_answer` deletes it; `release_ticket` lets an
  unused ticket's hold lapse at once; `sweep` deletes what no longer counts.
  A worker that died leaves a heartbeat that goes stale (`STREAM_IDLE_AFTER`):
  its hold stops counting then, so a hold never leaks.

Functions taking a `Connection` run inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.answers.admission import TICKET_TTL
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import STREAM_IDLE_AFTER
from webapp.db.schema import budget_holds as H
from webapp.db.schema import messages as M

# What an answer is expected to weigh when its conversation sets no
# `max_words`: the aBLT API states no default length (ablt-api.md), so this
# is a long chat answer's length, above the 300 words the options widget
# proposes (`webapp.limits.MAX_WORDS_DEFAULT`).
BOT_DEFAULT_ANSWER_WORDS: Final = 500
_LOCK_NAMESPACE: Final = b"ablt-budget-hold:"


def estimate_words(max_words: int | None) -> int:
    """An answer's estimate in words: its `max_words`, else the bot default."""
    return max_words if max_words is not None and max_words > 0 else BOT_DEFAULT_ANSWER_WORDS


def member_lock(username: str) -> int:
    """The PostgreSQL advisory lock key that serialises one member's budget
    checks (a signed 64-bit integer, the same in every process)."""
    digest = hashlib.blake2b(_LOCK_NAMESPACE + username.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True, slots=True)
class Held:
    """A hold that counts now: `words` estimated; for a bound hold the
    answer's text so far and its prompt's text (both '' for an unbound one)."""

    id: str
    answer_id: str | None
    words: int
    answer_text: str
    prompt_text: str


def counting(conn: Connection, username: str, now: datetime) -> list[Held]:
    """The member's holds that count at `now`, read in one statement (one
    snapshot: a hold bound meanwhile is seen once, bound or not)."""
    prompt = M.alias("held_prompt")
    stmt = (
        sa.select(H.c.id, H.c.answer_id, H.c.words, M.c.text, prompt.c.text)
        .select_from(
            H.outerjoin(M, M.c.id == H.c.answer_id).outerjoin(prompt, prompt.c.id == M.c.reply_to)
        )
        .where(
            H.c.owner == username,
            sa.or_(
                sa.and_(H.c.answer_id.is_(None), H.c.expires_at > now),
                sa.and_(
                    M.c.status == AnswerStatus.STREAMING,
                    M.c.heartbeat_at > now - STREAM_IDLE_AFTER,
                ),
            ),
        )
    )
    return [
        Held(str(hid), aid, int(words), answer or "", asked or "")
        for hid, aid, words, answer, asked in conn.execute(stmt)
    ]


def reserve(conn: Connection, ticket: str, username: str, words: int, now: datetime) -> None:
    """Write the hold of a ticket just admitted (in the check's transaction)."""
    conn.execute(
        sa.insert(H).values(
            id=str(uuid.uuid4()),
            ticket=ticket,
            owner=username,
            answer_id=None,
            words=words,
            created_at=now,
            expires_at=now + timedelta(seconds=TICKET_TTL),
        )
    )


def bind(conn: Connection, ticket: str, answer_id: str, words: int, now: datetime) -> bool:
    """An answer was started with `ticket`: its unbound hold becomes the
    answer's (at `words`), or, when an answer already took it, the answer
    gets a hold of its own. False when the ticket holds nothing (the member
    has no limit, or its hold was swept)."""
    taken = conn.execute(
        sa.update(H)
        .where(H.c.ticket == ticket, H.c.answer_id.is_(None))
        .values(answer_id=answer_id, words=words)
    )
    if taken.rowcount:
        return True
    sibling = conn.execute(
        sa.select(H.c.owner, H.c.expires_at).where(H.c.ticket == ticket).limit(1)
    ).first()
    if sibling is None:
        return False
    conn.execute(
        sa.insert(H).values(
            id=str(uuid.uuid4()),
            ticket=ticket,
            owner=sibling.owner,
            answer_id=answer_id,
            words=words,
            created_at=now,
            expires_at=sibling.expires_at,
        )
    )
    return True


def release_ticket(conn: Connection, ticket: str, now: datetime) -> None:
    """No answer was started with `ticket` this time: its unbound hold lapses
    now (the row stays until swept, so a later answer of the same ticket,
    another column of a comparison, still gets its hold)."""
    conn.execute(
        sa.update(H)
        .where(H.c.ticket == ticket, H.c.answer_id.is_(None), H.c.expires_at > now)
        .values(expires_at=now)
    )


def release_answer(conn: Connection, answer_id: str) -> None:
    """The answer ended: its hold goes (its own words count from now on)."""
    conn.execute(sa.delete(H).where(H.c.answer_id == answer_id))


def sweep(conn: Connection, username: str, keep: set[str], now: datetime) -> int:
    """Delete the member's holds that no longer count (not in `keep`, the ids
    `counting` returned) and whose ticket is past its life by a further
    `TICKET_TTL` (no answer can be started with it any more); how many."""
    cutoff = now - timedelta(seconds=TICKET_TTL)
    stmt = sa.delete(H).where(H.c.owner == username, H.c.expires_at < cutoff)
    if keep:
        stmt = stmt.where(H.c.id.not_in(keep))
    return conn.execute(stmt).rowcount or 0
