"""`SlotBook`: the team's limit on simultaneous answers, kept in the database.

The aBLT plan allows so many answers at once for the whole team (the seed
README: "never try to flood API with simultaneous requests for more users
than allowed in your plan"), so the limit is counted across every app
process, in the `answer_slots` table they share:

- An answer that wants to stream first *joins the line* (a row, `slot` NULL,
  in `ticket` order) and then *claims* (`claim`): in one transaction that no
  other process can interleave with (SQLite: the write lock of BEGIN
  IMMEDIATE; PostgreSQL: an advisory transaction lock), it takes the lowest
  free slot number when it is among the first in line and a slot is free.
  `slot` is UNIQUE, so two answers can never hold one slot even if the lock
  were bypassed. First come, first served, whichever process each runs on.
- Each app process has a holder id; its heartbeat (`beat`, every few
  seconds) keeps its rows, held and waiting. A row whose heartbeat is older
  than `stale_after` belongs to a dead process (kill -9, a crash) and is
  deleted by the next `claim` or `beat` of any process: its slot is back.
- An answer that ends in any way calls `release`; a `beat` also drops its
  process's rows for answers it no longer runs, so a failed release heals.
- A 429 from the API lowers the limit for a while (`note_rate_limited`): half
  of what was streaming, at least 1, for `BACKOFF_FOR` (or the Retry-After,
  if longer, but never more than `BACKOFF_MAX`), then one more slot every
  `RECOVER_STEP` until the limit is back. With no limit set (neither the
  admin's nor the setting) a 429 is recorded but imposes none: one answer's
  429 must not hold the whole team to one answer at a time. An admin ends a
  back-off at once (`lift_backoff`, or saving a limit: `set_limit`).
  Every back-off, lift and change of the admin's limit is a `slot_events` row.

The limit in force is the admin's (stored, `set_limit`), else the
`ABLT_MAX_CONCURRENT_ANSWERS` setting (`configured`), else none, lowered by a
back-off in progress (`effective_limit`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webapp.db.engine import serialised_write
from webapp.db.schema import answer_slots as S
from webapp.db.schema import slot_events as EV
from webapp.db.schema import slot_settings as SET
from webapp.ui.i18n import _

# A slot row whose process has not beaten for this long is reclaimed; the
# process beats every quarter of it, so one missed beat is harmless.
STALE_AFTER: Final = timedelta(seconds=30)
BACKOFF_FOR: Final = timedelta(seconds=60)  # a 429 lowers the limit at least this long
# ...and at most this long, whatever its Retry-After asks (an hour would hold the
# whole team back for an hour); the README's ABLT_MAX_CONCURRENT_ANSWERS row says so.
BACKOFF_MAX: Final = timedelta(minutes=5)
RECOVER_STEP: Final = timedelta(seconds=30)  # then one more slot per step
RATE_LIMITED: Final = "rate_limited"
LIMIT_SET: Final = "limit_set"
RECLAIMED: Final = "reclaimed"
BACKOFF_LIFTED: Final = "backoff_lifted"
MAX_LIMIT: Final = 1000  # an admin's limit above this is a typing mistake
# Any constant works; the same in every process, unlike the other locks' keys.
_PG_LOCK_KEY: Final = 0x61B175107


@dataclass(frozen=True, slots=True)
class Backoff:
    """The limit lowered after a 429: `limit` until `until`, then one more slot
    per `RECOVER_STEP` until it reaches `recovered_at` (the cap before it)."""

    limit: int
    recovered_at: int
    until: datetime

    def limit_at(self, now: datetime) -> int | None:
        """The lowered limit at `now`, or None once it has recovered."""
        if now < self.until:
            return self.limit
        steps = 1 + int((now - self.until) / RECOVER_STEP)
        lowered = self.limit + steps
        return None if lowered >= self.recovered_at else lowered


def effective_limit(configured: int | None, backoff: Backoff | None, now: datetime) -> int | None:
    """The most answers streaming at once now (None: no limit).

    `configured`: the admin's limit, else the setting, else None; a back-off
    in progress lowers it, never raises it.
    """
    lowered = backoff.limit_at(now) if backoff is not None else None
    if lowered is None:
        return configured
    return lowered if configured is None else min(configured, lowered)


@dataclass(frozen=True, slots=True)
class Place:
    """Where an answer stands: `slot` it holds (1..limit), or None and `ahead`
    answers before it in line. `limit`: the limit in force (None: none)."""

    slot: int | None
    ahead: int
    limit: int | None

    @property
    def granted(self) -> bool:
        return self.slot is not None


@dataclass(frozen=True, slots=True)
class SlotRow:
    """One answer in `answer_slots`, for the admin's view."""

    answer_id: str
    owner: str
    holder: str
    slot: int | None
    queued_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime


@dataclass(frozen=True, slots=True)
class SlotEvent:
    """A change of the limit: `kind` is rate_limited | limit_set | reclaimed | backoff_lifted."""

    at: datetime
    kind: str
    actor: str | None
    limit_before: int | None
    limit_after: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class SlotStatus:
    """The limit as the admin sees it."""

    setting: int | None  # ABLT_MAX_CONCURRENT_ANSWERS (None: not set)
    stored: int | None  # the admin's limit, which wins (None: none stored)
    set_by: str | None
    set_at: datetime | None
    backoff: Backoff | None
    effective: int | None  # in force now
    rows: list[SlotRow]

    @property
    def streaming(self) -> int:
        return sum(1 for r in self.rows if r.slot is not None)

    @property
    def waiting(self) -> int:
        return sum(1 for r in self.rows if r.slot is None)


class SlotBook:
    """The slot rows of one database, for one app process (`holder`).

    `engine`: a migrated `ConversationStore.engine`. `configured`: the
    `ABLT_MAX_CONCURRENT_ANSWERS` setting (None: no limit unless an admin sets
    one). `stale_after`: how long a silent process keeps its rows. Thread-safe;
    every call is one short transaction (database errors propagate).
    """

    def __init__(
        self,
        engine: Engine,
        holder: str,
        *,
        configured: int | None = None,
        stale_after: timedelta = STALE_AFTER,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if configured is not None and configured < 1:
            raise ValueError(_("the limit on simultaneous answers must be at least 1"))
        self.engine = engine
        self.holder = holder
        self.configured = configured
        self.stale_after = stale_after
        self._clock = clock or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self._clock()

    def _write(self) -> AbstractContextManager[Connection]:
        return serialised_write(self.engine, _PG_LOCK_KEY)

    # ------------------------------------------------------------ the limit

    @staticmethod
    def _settings(conn: Connection) -> sa.RowMapping:
        return conn.execute(sa.select(SET).where(SET.c.id == 1)).mappings().one()

    def _limit(self, settings: sa.RowMapping, now: datetime) -> int | None:
        stored = settings["max_answers"]
        configured = self.configured if stored is None else int(stored)
        return effective_limit(configured, _backoff(settings), now)

    def status(self) -> SlotStatus:
        """The setting, the admin's limit, the back-off and every row (the admin's view)."""
        now = self.now()
        with self.engine.connect() as conn, conn.begin():
            settings = self._settings(conn)
            rows = conn.execute(sa.select(S).order_by(S.c.ticket)).mappings().all()
        return SlotStatus(
            setting=self.configured,
            stored=settings["max_answers"],
            set_by=settings["set_by"],
            set_at=settings["set_at"],
            backoff=_backoff(settings) if self._backed_off(settings, now) else None,
            effective=self._limit(settings, now),
            rows=[
                SlotRow(
                    answer_id=r["answer_id"],
                    owner=r["owner"],
                    holder=r["holder"],
                    slot=r["slot"],
                    queued_at=r["queued_at"],
                    started_at=r["started_at"],
                    heartbeat_at=r["heartbeat_at"],
                )
                for r in rows
            ],
        )

    @staticmethod
    def _backed_off(settings: sa.RowMapping, now: datetime) -> bool:
        backoff = _backoff(settings)
        return backoff is not None and backoff.limit_at(now) is not None

    def set_limit(self, limit: int | None, *, actor: str) -> None:
        """The admin's limit for the whole team (None: back to the setting).

        ValueError outside 1..`MAX_LIMIT`. Recorded as a `limit_set` event. A
        lower limit lets the answers streaming now finish; new ones wait. A
        back-off after a 429 in progress ends: the admin's limit is the one meant.
        """
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            raise ValueError(
                _("The limit must be a whole number from 1 to {max_limit}.").format(
                    max_limit=MAX_LIMIT
                )
            )
        now = self.now()
        with self._write() as conn:
            settings = self._settings(conn)
            before = self._limit(settings, now)
            lifted = self._backed_off(settings, now)
            conn.execute(
                sa.update(SET)
                .where(SET.c.id == 1)
                .values(max_answers=limit, set_by=actor[:128], set_at=now, **_NO_BACKOFF)
            )
            after = self._limit(self._settings(conn), now)
            detail = (
                f"Limit set to {limit}."
                if limit is not None
                else f"Limit back to the setting ({_words(self.configured)})."
            )
            if lifted:
                detail += " The back-off after a 429 is lifted."
            self._event(conn, now, LIMIT_SET, actor, before, after, detail)

    def lift_backoff(self, *, actor: str) -> bool:
        """End a back-off after a 429 now (the admin's "Lift the back-off"):
        the limit is the admin's or the setting again. False when none was in
        progress (nothing changes). Recorded as a `backoff_lifted` event."""
        now = self.now()
        with self._write() as conn:
            settings = self._settings(conn)
            if not self._backed_off(settings, now):
                return False
            before = self._limit(settings, now)
            conn.execute(sa.update(SET).where(SET.c.id == 1).values(**_NO_BACKOFF))
            after = self._limit(self._settings(conn), now)
            self._event(
                conn,
                now,
                BACKOFF_LIFTED,
                actor,
                before,
                after,
                f"Back-off after a 429 lifted: the limit is {_words(after)} again.",
            )
            return True

    def events(self, limit: int = 50) -> list[SlotEvent]:
        """The latest changes of the limit, newest first."""
        stmt = sa.select(EV).order_by(EV.c.at.desc(), EV.c.id.desc()).limit(limit)
        with self.engine.connect() as conn, conn.begin():
            return [
                SlotEvent(
                    at=r["at"],
                    kind=r["kind"],
                    actor=r["actor"],
                    limit_before=r["limit_before"],
                    limit_after=r["limit_after"],
                    detail=r["detail"],
                )
                for r in conn.execute(stmt).mappings()
            ]

    @staticmethod
    def _event(
        conn: Connection,
        at: datetime,
        kind: str,
        actor: str | None,
        before: int | None,
        after: int | None,
        detail: str,
    ) -> None:
        conn.execute(
            sa.insert(EV).values(
                at=at,
                kind=kind,
                actor=None if actor is None else actor[:128],
                limit_before=before,
                limit_after=after,
                detail=detail[:200],
            )
        )

    # ------------------------------------------------------ claim and release

    def claim(self, answer_id: str, owner: str, *, joining: bool = False) -> Place:
        """Join the line (first call) and take a slot if it is this answer's turn.

        Call again (polling) until `Place.granted`; each call is also the
        waiting row's heartbeat. Stale rows of dead processes are reclaimed first.
        `joining`: the answer was just made, so it has no row yet and the
        reclaiming waits for the next call (or the heartbeat): two statements
        fewer as a prompt is sent.
        """
        now = self.now()
        with self._write() as conn:
            mine = None
            if not joining:
                self._reclaim(conn, now)
                mine = conn.execute(
                    sa.select(S.c.ticket, S.c.slot).where(S.c.answer_id == answer_id)
                ).first()
            if mine is None:
                ticket = conn.execute(
                    sa.insert(S)
                    .values(
                        answer_id=answer_id,
                        holder=self.holder,
                        owner=owner[:128],
                        slot=None,
                        queued_at=now,
                        heartbeat_at=now,
                    )
                    .returning(S.c.ticket)
                ).scalar_one()
                held = None
            else:
                ticket, held = mine
                conn.execute(
                    sa.update(S)
                    .where(S.c.answer_id == answer_id)
                    .values(heartbeat_at=now, holder=self.holder)
                )
            limit = self._limit(self._settings(conn), now)
            if held is not None:
                return Place(slot=int(held), ahead=0, limit=limit)
            # The slots taken and the answers waiting ahead, in one round trip
            # (the lock is held meanwhile): a row with a slot is taken, one
            # without and an earlier ticket is ahead in line.
            slots = conn.execute(
                sa.select(S.c.slot).where(sa.or_(S.c.slot.is_not(None), S.c.ticket < ticket))
            ).scalars()
            found = list(slots)
            taken = {n for n in found if n is not None}
            ahead = len(found) - len(taken)
            free = math.inf if limit is None else limit - len(taken)
            if ahead >= free:
                return Place(slot=None, ahead=ahead, limit=limit)
            slot = next(n for n in range(1, len(taken) + 2) if n not in taken)
            conn.execute(
                sa.update(S).where(S.c.answer_id == answer_id).values(slot=slot, started_at=now)
            )
            return Place(slot=slot, ahead=0, limit=limit)

    def release(self, answer_id: str) -> bool:
        """Free the answer's slot or its place in line; False when it had none."""
        with self._write() as conn:
            done = conn.execute(sa.delete(S).where(S.c.answer_id == answer_id))
            return bool(done.rowcount)

    def beat(self, alive: Collection[str], *, listed_at: datetime | None = None) -> int:
        """This process's heartbeat: keep its rows for the answers in `alive`
        (held or waiting), drop its others that joined before `listed_at` (when
        `alive` was listed; an answer joining meanwhile is not in it: kept) —
        an end whose release failed — and reclaim dead processes' rows.
        Returns how many rows were reclaimed."""
        now = self.now()
        with self._write() as conn:
            mine = S.c.holder == self.holder
            conn.execute(sa.update(S).where(mine).values(heartbeat_at=now))
            gone = sa.delete(S).where(mine, S.c.queued_at < (listed_at or now))
            if alive:
                gone = gone.where(S.c.answer_id.not_in(list(alive)))
            conn.execute(gone)
            return self._reclaim(conn, now)

    def _reclaim(self, conn: Connection, now: datetime) -> int:
        stale = S.c.heartbeat_at < now - self.stale_after
        # One round trip: the rows deleted say which held a slot.
        gone = conn.execute(sa.delete(S).where(stale).returning(S.c.holder, S.c.slot)).all()
        held = [(holder, slot) for holder, slot in gone if slot is not None]
        if held:
            holders = sorted({str(h) for h, _ in held})
            limit = self._limit(self._settings(conn), now)
            self._event(
                conn,
                now,
                RECLAIMED,
                None,
                limit,
                limit,
                f"{len(held)} slot(s) of a stopped app process reclaimed "
                f"({', '.join(holders)[:120]}).",
            )
        return len(gone)

    # ------------------------------------------------------------ back-off

    def note_rate_limited(self, retry_after: float | None = None) -> int | None:
        """A 429 from the API: lower the limit to half of what streams now (at
        least 1) for `BACKOFF_FOR` or `retry_after` s, whichever is longer, at
        most `BACKOFF_MAX`. Returns the lowered limit; None when no limit is
        set (the admin's or the setting's), which a 429 leaves unset. Recorded
        as a `rate_limited` event either way."""
        now = self.now()
        hold = backoff_hold(retry_after)
        with self._write() as conn:
            settings = self._settings(conn)
            before = self._limit(settings, now)
            streaming = int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(S).where(S.c.slot.is_not(None))
                ).scalar_one()
            )
            if before is None:
                self._event(
                    conn,
                    now,
                    RATE_LIMITED,
                    None,
                    None,
                    None,
                    f"The aBLT API answered 429 with {streaming} answer(s) streaming; no "
                    "limit is set, so none is imposed (set the plan's limit to have one).",
                )
                return None
            cap = min(before, streaming)
            lowered = min(max(1, cap // 2), before)
            old = _backoff(settings) if self._backed_off(settings, now) else None
            recovered_at = max(cap, lowered + 1) if old is None else old.recovered_at
            conn.execute(
                sa.update(SET)
                .where(SET.c.id == 1)
                .values(
                    backoff_limit=lowered,
                    backoff_from=recovered_at,
                    backoff_until=now + hold,
                )
            )
            self._event(
                conn,
                now,
                RATE_LIMITED,
                None,
                before,
                lowered,
                f"The aBLT API answered 429 with {streaming} answer(s) streaming: "
                f"limit lowered to {lowered} for {int(hold.total_seconds())} s, then "
                "raised by one every "
                f"{int(RECOVER_STEP.total_seconds())} s.",
            )
            return lowered


_NO_BACKOFF: Final = {"backoff_limit": None, "backoff_from": None, "backoff_until": None}


def backoff_hold(retry_after: float | None) -> timedelta:
    """How long a 429 lowers the limit: `BACKOFF_FOR`, or the API's
    `retry_after` seconds when longer, never more than `BACKOFF_MAX` (an
    unreadable, negative or endless hint counts as none or as the cap)."""
    seconds = retry_after if retry_after is not None and not math.isnan(retry_after) else 0.0
    seconds = min(max(seconds, BACKOFF_FOR.total_seconds()), BACKOFF_MAX.total_seconds())
    return timedelta(seconds=seconds)


def _backoff(settings: sa.RowMapping) -> Backoff | None:
    if settings["backoff_limit"] is None or settings["backoff_until"] is None:
        return None
    return Backoff(
        limit=int(settings["backoff_limit"]),
        recovered_at=int(settings["backoff_from"] or settings["backoff_limit"] + 1),
        until=settings["backoff_until"],
    )


def _words(limit: int | None) -> str:
    return "no limit" if limit is None else str(limit)
