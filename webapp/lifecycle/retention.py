"""Retention: how long conversations, audit entries and share links are kept,
and the sweep that applies it.

The team's `RetentionPolicy` is one row of `retention_policy` (admins set it
on the Team page). `sweep` applies it: conversations not opened or changed
for `conversation_days` days are deleted (pinned ones kept when
`keep_pinned`), audit and login entries older than `audit_days` days deleted,
share links older than `share_days` days revoked. Each conversation goes in
its own transaction, re-checked inside it, so a sweep killed half way leaves
every conversation whole or gone, and the next sweep finishes the job; a
conversation with an answer being generated or a prompt queued is never
swept.

Several processes: `RetentionScheduler` (one per process) asks every hour
whether a sweep is due; a lease row in `sweeps` lets exactly one process
sweep, and a lease whose process died runs out after `LEASE`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webapp.audit.log import AuditLog
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store.conversations import delete_whole
from webapp.db import schema
from webapp.db.engine import serialised_write
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M
from webapp.ui.i18n import _, format_number, ngettext

log = logging.getLogger(__name__)

SWEEP_NAME: Final = "retention"
SWEEP_EVERY: Final = timedelta(days=1)
LEASE: Final = timedelta(minutes=10)  # a sweep renews it after each conversation
CHECK_EVERY: Final = 3600.0  # seconds between a process's looks at whether a sweep is due
WARN_DAYS: Final = 7  # the History says "deleted in N days" from this many days before
MAX_DAYS: Final = 36_500  # a hundred years: the largest number of days accepted
BATCH: Final = 200  # conversations read per query while sweeping
_LEASE_LOCK: Final = 0x5EE9_0001  # PostgreSQL advisory lock key: taking the sweep's lease


class RetentionError(ValueError):
    """A policy value out of range; the message says which, in plain words."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """The team's rules; None days means "keep forever" (the default for all three)."""

    conversation_days: int | None = None
    keep_pinned: bool = True
    audit_days: int | None = None
    share_days: int | None = None

    def __post_init__(self) -> None:
        for label, days in (
            ("Conversations", self.conversation_days),
            ("Audit entries", self.audit_days),
            ("Share links", self.share_days),
        ):
            if days is not None and not 1 <= days <= MAX_DAYS:
                raise RetentionError(
                    _("{label}: keep them between 1 and {max_days} days, or forever.").format(
                        label=label, max_days=format_number(MAX_DAYS)
                    )
                )

    @property
    def keeps_everything(self) -> bool:
        return self.conversation_days is None and self.audit_days is None and not self.share_days


@dataclass(frozen=True, slots=True)
class SweepResult:
    """What one sweep did (counts), or that it did not run (`ran` False: not
    due, or another process holds the lease)."""

    ran: bool
    conversations: int = 0
    audit_entries: int = 0
    shares: int = 0
    kept_busy: int = 0  # due but an answer was being generated or a prompt queued


def read_policy(engine: Engine) -> RetentionPolicy:
    """The stored policy; the default (keep everything) when none is stored."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.retention_policy)).mappings().first()
    if row is None:
        return RetentionPolicy()
    return RetentionPolicy(
        conversation_days=row["conversation_days"],
        keep_pinned=bool(row["keep_pinned"]),
        audit_days=row["audit_days"],
        share_days=row["share_days"],
    )


_cached: dict[str, tuple[float, RetentionPolicy]] = {}
_cached_lock = threading.Lock()
CACHE_SECONDS: Final = 30.0  # the History's copy of the policy may be this old


def cached_policy(engine: Engine) -> RetentionPolicy:
    """`read_policy`, kept `CACHE_SECONDS` per database: the History asks on
    every page run, and the policy changes rarely."""
    key = str(engine.url)
    now = time.monotonic()
    with _cached_lock:
        found = _cached.get(key)
        if found is not None and now - found[0] < CACHE_SECONDS:
            return found[1]
    policy = read_policy(engine)
    with _cached_lock:
        _cached[key] = (now, policy)
    return policy


def save_policy(
    engine: Engine, policy: RetentionPolicy, actor: str, *, now: datetime | None = None
) -> None:
    """Store `policy` (one row) and write the change to the audit log."""
    at = now or datetime.now(UTC)
    values = {
        "conversation_days": policy.conversation_days,
        "keep_pinned": policy.keep_pinned,
        "audit_days": policy.audit_days,
        "share_days": policy.share_days,
        "updated_at": at,
        "updated_by": actor,
    }
    with _write(engine) as conn:
        table = schema.retention_policy
        if conn.execute(sa.update(table).where(table.c.id == 1).values(**values)).rowcount == 0:
            conn.execute(sa.insert(table).values(id=1, **values))
    with _cached_lock:
        _cached.pop(str(engine.url), None)
    AuditLog(engine).record_change(actor, "set retention", None, describe(policy))


def describe(policy: RetentionPolicy) -> str:
    """The policy in plain words, e.g. "conversations 90 days (pinned kept), audit forever"."""

    def days(value: int | None) -> str:
        return "forever" if value is None else f"{value:,} days"

    pinned = " (pinned kept)" if policy.keep_pinned else " (pinned too)"
    chats = days(policy.conversation_days) + (pinned if policy.conversation_days else "")
    return _("conversations {chats}, audit entries {audit_days}, share links {share_days}").format(
        chats=chats, audit_days=days(policy.audit_days), share_days=days(policy.share_days)
    )


def last_activity(opened_at: datetime | None, updated_at: datetime) -> datetime:
    """When a conversation was last used: the later of its last change and opening."""
    return updated_at if opened_at is None else max(opened_at, updated_at)


def days_left(
    policy: RetentionPolicy,
    *,
    pinned: bool,
    opened_at: datetime | None,
    updated_at: datetime,
    now: datetime,
) -> int | None:
    """Whole days until the sweep may delete this conversation (0: at the next
    sweep), or None when the policy keeps it (no limit, or pinned and kept)."""
    if policy.conversation_days is None or (pinned and policy.keep_pinned):
        return None
    due = last_activity(opened_at, updated_at) + timedelta(days=policy.conversation_days)
    return max(0, (due - now).days)


def expiry_note(left: int | None) -> str | None:
    """The History's warning for a conversation `left` days from deletion, or None."""
    if left is None or left > WARN_DAYS:
        return None
    if left == 0:
        return _("Deleted at the next cleanup unless you open it")
    return ngettext(
        "Deleted in {days} day unless you open it",
        "Deleted in {days} days unless you open it",
        left,
    ).format(days=left)


# ------------------------------------------------------------------ sweeping


@contextlib.contextmanager
def _write(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn.execution_options(ablt_write=True)
        with conn.begin():
            yield conn


def _take_lease(engine: Engine, now: datetime, *, force: bool) -> bool:
    """Take the sweep's lease if a sweep is due (or `force`) and no live
    process holds it. Atomic across processes: the row's UPDATE is the claim."""
    table = schema.sweeps
    with serialised_write(engine, _LEASE_LOCK) as conn:
        conn.execute(
            sa.insert(table).from_select(
                ["name", "lease_until", "last_finished_at"],
                sa.select(sa.literal(SWEEP_NAME), sa.null(), sa.null()).where(
                    ~sa.exists().where(table.c.name == SWEEP_NAME)
                ),
            )
        )
        free = sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now)
        due = sa.or_(
            table.c.last_finished_at.is_(None), table.c.last_finished_at <= now - SWEEP_EVERY
        )
        where = [table.c.name == SWEEP_NAME, free] + ([] if force else [due])
        taken = conn.execute(sa.update(table).where(*where).values(lease_until=now + LEASE))
        return taken.rowcount == 1


def _renew(engine: Engine, now: datetime) -> None:
    with _write(engine) as conn:
        conn.execute(
            sa.update(schema.sweeps)
            .where(schema.sweeps.c.name == SWEEP_NAME)
            .values(lease_until=now + LEASE)
        )


def _finish(engine: Engine, now: datetime) -> None:
    with _write(engine) as conn:
        conn.execute(
            sa.update(schema.sweeps)
            .where(schema.sweeps.c.name == SWEEP_NAME)
            .values(lease_until=None, last_finished_at=now)
        )


def _busy(conversation_id: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """A conversation (or one of a comparison's columns) generating or with a prompt queued."""
    inner = C.alias("swept")  # not correlated with the outer query's conversations
    ids = sa.select(inner.c.id).where(
        sa.or_(inner.c.id == conversation_id, inner.c.parent_id == conversation_id)
    )
    streaming = (
        sa.select(M.c.id)
        .where(M.c.conversation_id.in_(ids), M.c.status == AnswerStatus.STREAMING.value)
        .exists()
    )
    queued = (
        sa.select(schema.queued_prompts.c.id)
        .where(schema.queued_prompts.c.conversation_id.in_(ids))
        .exists()
    )
    return sa.or_(streaming, queued)


def _due(policy: RetentionPolicy, now: datetime) -> sa.ColumnElement[bool]:
    assert policy.conversation_days is not None
    cutoff = now - timedelta(days=policy.conversation_days)
    rule = sa.and_(
        C.c.parent_id.is_(None),
        C.c.updated_at < cutoff,
        sa.or_(C.c.opened_at.is_(None), C.c.opened_at < cutoff),
    )
    return sa.and_(rule, ~C.c.pinned) if policy.keep_pinned else rule


def sweep(
    engine: Engine,
    *,
    now: Callable[[], datetime] | None = None,
    force: bool = False,
    actor: str | None = None,
    between: Callable[[], None] | None = None,
) -> SweepResult:
    """Apply the stored policy once, if a sweep is due (daily) or `force`d, and
    no other process sweeps; writes an audit entry with the counts.

    `now`: UTC clock (tests); `actor`: who asked ("Run now" on the Team page;
    None: the daily schedule); `between`: called after each conversation
    (tests use it to kill the process half way). Database errors propagate;
    the lease then runs out and the next sweep takes over.
    """
    clock = now or (lambda: datetime.now(UTC))
    if not _take_lease(engine, clock(), force=force):
        return SweepResult(ran=False)
    policy = read_policy(engine)
    deleted = kept_busy = 0
    if policy.conversation_days is not None:
        deleted, kept_busy = _sweep_conversations(engine, policy, clock, between)
    audit = shares = 0
    with _write(engine) as conn:
        if policy.audit_days is not None:
            cutoff = clock() - timedelta(days=policy.audit_days)
            audit = conn.execute(
                sa.delete(schema.audit_events).where(schema.audit_events.c.at < cutoff)
            ).rowcount
            audit += conn.execute(
                sa.delete(schema.login_events).where(schema.login_events.c.at < cutoff)
            ).rowcount
        if policy.share_days is not None:
            cutoff = clock() - timedelta(days=policy.share_days)
            table = schema.shares
            shares = conn.execute(
                sa.update(table)
                .where(table.c.revoked_at.is_(None), table.c.created_at < cutoff)
                .values(revoked_at=clock())
            ).rowcount
    result = SweepResult(True, deleted, audit, shares, kept_busy)
    _finish(engine, clock())
    AuditLog(engine).record_change(
        actor or "retention",
        "retention sweep",
        None,
        f"{deleted} conversations deleted, {kept_busy} kept while busy, "
        f"{audit} audit entries deleted, {shares} share links expired",
    )
    log.info("Retention sweep: %s", result)
    return result


def _sweep_conversations(
    engine: Engine,
    policy: RetentionPolicy,
    clock: Callable[[], datetime],
    between: Callable[[], None] | None,
) -> tuple[int, int]:
    deleted = kept_busy = 0
    skip: set[str] = set()
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(C.c.id, C.c.owner)
                .where(_due(policy, clock()), C.c.id.not_in(skip) if skip else sa.true())
                .order_by(C.c.updated_at, C.c.id)
                .limit(BATCH)
            ).all()
        if not rows:
            return deleted, kept_busy
        for conversation_id, owner in rows:
            with _write(engine) as conn:
                # Re-checked inside the transaction that deletes: opened or sent
                # to meanwhile, it stays.
                still = conn.execute(
                    sa.select(C.c.id).where(
                        C.c.id == conversation_id, _due(policy, clock()), ~_busy(C.c.id)
                    )
                ).first()
                if still is not None and delete_whole(conn, owner, conversation_id):
                    deleted += 1
                else:
                    skip.add(conversation_id)
                    kept_busy += still is None and _is_busy(conn, conversation_id)
            _renew(engine, clock())
            if between is not None:
                between()


def _is_busy(conn: Connection, conversation_id: str) -> bool:
    found = conn.execute(sa.select(sa.literal(1)).where(_busy(sa.literal(conversation_id)))).first()
    return found is not None


class RetentionScheduler:
    """A daemon thread that sweeps when one is due (`sweep` decides; at most
    one process of the deployment sweeps at a time), and runs `also` (this
    process's own housekeeping, e.g. removing expired data downloads) at each
    look. One per process; `close()` stops it."""

    def __init__(
        self,
        engine: Engine,
        *,
        every: float = CHECK_EVERY,
        also: Callable[[], object] | None = None,
    ) -> None:
        self._engine = engine
        self._every = every
        self._also = also
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention-sweep", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                sweep(self._engine)
                if self._also is not None:
                    self._also()
            except Exception:  # the next hour tries again; the lease runs out
                log.warning("The retention sweep failed", exc_info=True)

    def close(self) -> None:
        self._stop.set()
