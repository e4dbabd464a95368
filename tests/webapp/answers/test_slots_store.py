"""webapp.answers.slots_store: claim, release, reclaim and back-off of the team's slots.

On a SQLite file and on PostgreSQL (ABLT_TEST_PG_URL), with two `SlotBook`s
for two app processes on their own connection pools, and a clock the test moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pg import BACKENDS, store_on
from webapp.answers.slots_store import (
    BACKOFF_FOR,
    LIMIT_SET,
    RATE_LIMITED,
    RECLAIMED,
    RECOVER_STEP,
    Backoff,
    SlotBook,
    effective_limit,
)
from webapp.conversations.store import ConversationStore

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "slots") as opened:
        yield opened


@pytest.fixture
def clock() -> Clock:
    return Clock()


OPENED: list[ConversationStore] = []


@pytest.fixture(autouse=True)
def _close_pools() -> Iterator[None]:
    yield
    while OPENED:
        OPENED.pop().close()


def book(
    store: ConversationStore, clock: Clock, holder: str, configured: int | None = 2
) -> SlotBook:
    """A process's book: its own pool on the shared database."""
    other = ConversationStore(store.url)
    OPENED.append(other)
    return SlotBook(
        other.engine, holder, configured=configured, stale_after=timedelta(seconds=30), clock=clock
    )


def test_no_more_answers_hold_a_slot_than_the_limit_across_processes_first_come_first_served(
    store: ConversationStore, clock: Clock
) -> None:
    a, b = book(store, clock, "A"), book(store, clock, "B")
    assert a.claim("a1", "ann").slot == 1
    assert b.claim("b1", "bob").slot == 2
    # The limit (2) is reached: the next ones wait, in the order they came.
    waiting = [(b, "b2"), (a, "a2"), (b, "b3")]
    places = [p.claim(answer, "cy") for p, answer in waiting]
    assert [(p.granted, p.ahead, p.limit) for p in places] == [
        (False, 0, 2),
        (False, 1, 2),
        (False, 2, 2),
    ]
    # A later arrival does not jump the line even when it asks first after a release.
    assert a.release("a1")
    assert b.claim("b3", "cy").ahead == 2 and not b.claim("b3", "cy").granted
    assert not a.claim("a2", "cy").granted  # second in line: one slot free, b2 first
    assert b.claim("b2", "cy").slot == 1  # the freed slot number is reused
    assert a.claim("a2", "cy").ahead == 0
    status = a.status()
    assert (status.streaming, status.waiting, status.effective) == (2, 2, 2)
    assert sorted(r.slot for r in status.rows if r.slot) == [1, 2]


def test_a_release_frees_the_slot_and_a_cancelled_wait_frees_its_place_in_line(
    store: ConversationStore, clock: Clock
) -> None:
    a = book(store, clock, "A", configured=1)
    assert a.claim("one", "ann").granted
    assert a.claim("two", "ann").ahead == 0
    assert a.claim("three", "ann").ahead == 1
    assert a.release("two")  # Stop while waiting: out of the line
    assert a.claim("three", "ann").ahead == 0
    assert a.release("one")
    assert a.claim("three", "ann").granted
    assert not a.release("one")  # already free


def test_a_dead_process_slots_are_reclaimed_once_its_heartbeat_is_stale(
    store: ConversationStore, clock: Clock
) -> None:
    dead, alive = book(store, clock, "dead"), book(store, clock, "alive")
    assert dead.claim("d1", "ann").granted and dead.claim("d2", "ann").granted
    assert not alive.claim("w1", "bob").granted
    clock.advance(20)
    alive.beat({"w1"})  # the living process keeps its waiting row
    assert not alive.claim("w1", "bob").granted  # 20 s: the other may still be alive
    clock.advance(15)  # 35 s since the dead process's last sign
    assert alive.claim("w1", "bob").granted
    assert {r.holder for r in alive.status().rows} == {"alive"}
    (event,) = [e for e in alive.events() if e.kind == RECLAIMED]
    assert "2 slot(s)" in event.detail and "dead" in event.detail


def test_a_heartbeat_keeps_a_process_rows_and_drops_those_of_answers_it_no_longer_runs(
    store: ConversationStore, clock: Clock
) -> None:
    a, b = book(store, clock, "A"), book(store, clock, "B")
    assert a.claim("kept", "ann").granted and a.claim("leaked", "ann").granted
    for _ in range(4):
        clock.advance(10)
        a.beat({"kept"})  # "leaked" ended but its release failed: the beat heals it
    assert b.claim("b1", "bob").granted  # the leaked slot is free again; "kept" lives on
    assert [r.answer_id for r in b.status().rows if r.holder == "A"] == ["kept"]
    # An answer that joins while the heartbeat lists the answers alive is not dropped.
    listed_at = clock.now
    clock.advance(0.5)
    assert not a.claim("joining", "ann").granted
    a.beat({"kept"}, listed_at=listed_at)
    assert [r.answer_id for r in b.status().rows if r.holder == "A"] == ["kept", "joining"]


def test_the_admin_limit_wins_over_the_setting_and_is_recorded(
    store: ConversationStore, clock: Clock
) -> None:
    a = book(store, clock, "A", configured=2)
    a.set_limit(3, actor="admin")
    assert [a.claim(x, "ann").granted for x in ("1", "2", "3", "4")] == [True] * 3 + [False]
    other = book(store, clock, "B", configured=2)  # another process sees the stored limit
    assert other.status().effective == 3 and other.status().stored == 3
    a.set_limit(None, actor="admin")
    assert other.status().effective == 2
    events = [(e.kind, e.actor, e.limit_before, e.limit_after) for e in a.events()]
    assert events == [(LIMIT_SET, "admin", 3, 2), (LIMIT_SET, "admin", 2, 3)]
    with pytest.raises(ValueError, match="from 1 to"):
        a.set_limit(0, actor="admin")


def test_a_429_halves_the_limit_for_a_while_then_it_recovers_one_slot_at_a_time(
    store: ConversationStore, clock: Clock
) -> None:
    a = book(store, clock, "A", configured=4)
    for answer in ("1", "2", "3", "4"):
        assert a.claim(answer, "ann").granted
    assert a.note_rate_limited(retry_after=5) == 2
    status = a.status()
    assert status.effective == 2 and status.backoff is not None
    a.release("1")
    a.release("2")
    assert not a.claim("5", "ann").granted  # 2 still stream: at the lowered limit
    a.release("3")
    assert a.claim("5", "ann").granted
    clock.advance(BACKOFF_FOR.total_seconds())
    assert a.status().effective == 3  # the back-off is over: one more slot...
    clock.advance(RECOVER_STEP.total_seconds())
    assert a.status().effective == 4 and a.status().backoff is None  # ...until the limit
    (event,) = [e for e in a.events() if e.kind == RATE_LIMITED]
    assert (event.limit_before, event.limit_after) == (4, 2) and "429" in event.detail


def test_a_429_with_no_limit_set_still_backs_off_from_what_was_streaming(
    store: ConversationStore, clock: Clock
) -> None:
    a = book(store, clock, "A", configured=None)
    places = [a.claim(answer, "ann") for answer in ("1", "2", "3")]
    assert all(p.granted and p.limit is None for p in places)
    assert a.note_rate_limited() == 1  # half of 3 streaming
    assert a.claim("4", "ann").ahead == 0 and not a.claim("4", "ann").granted
    clock.advance(BACKOFF_FOR.total_seconds() + 2 * RECOVER_STEP.total_seconds())
    assert a.status().effective is None  # recovered: no limit again


def test_effective_limit_rules() -> None:
    backoff = Backoff(limit=1, recovered_at=4, until=T0)
    before = T0 - timedelta(seconds=1)
    assert effective_limit(None, None, T0) is None
    assert effective_limit(5, None, T0) == 5
    assert effective_limit(5, backoff, before) == 1
    assert effective_limit(None, backoff, before) == 1
    assert effective_limit(5, backoff, T0) == 2
    assert effective_limit(5, backoff, T0 + RECOVER_STEP) == 3
    assert effective_limit(5, backoff, T0 + 2 * RECOVER_STEP) == 5  # recovered
    assert effective_limit(1, backoff, T0 + RECOVER_STEP) == 1  # never above the limit


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_of_the_previous_schema_upgrades_with_an_answer_streaming(
    backend: str, tmp_path: Path, clock: Clock
) -> None:
    """v6 (main's schema before the slots) with a conversation and an answer in
    progress: opening the store adds the slot tables; the answer and the new
    rows work together."""
    import sqlalchemy as sa

    from tests.pg import fresh_schema_url
    from webapp.db import migrations

    @dataclass(frozen=True)
    class _Member:
        username: str = "ann"
        user_id: int = 1

    def run(url: str) -> None:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            migrations.upgrade(conn, target=6)
            conn.exec_driver_sql(
                "INSERT INTO conversations (id, owner, owner_user_id, bot_slug, bot_name, title, "
                "options, created_at, updated_at, pinned) VALUES ('c-1', 'ann', 1, 'omni', 'Omni', "
                "'Old', '{}', '2026-11-29 09:00:00', '2026-11-29 09:00:00', FALSE)"
            )
        engine.dispose()
        with ConversationStore(url) as opened:
            with opened.transaction() as conn:
                assert migrations.current_version(conn) >= 9
            member = _Member()
            opened.enqueue_prompt(member, "c-1", "Still answered?")
            claim = opened.claim_next(member, "c-1")
            assert claim is not None
            slots = SlotBook(opened.engine, "A", configured=1, clock=clock)
            assert slots.status().stored is None and slots.status().rows == []
            assert slots.claim(claim.answer.id, "ann").slot == 1
            assert slots.release(claim.answer.id)

    if backend == "sqlite":
        run(f"sqlite:///{tmp_path / 'v6.db'}")
    else:
        with fresh_schema_url("slotsv6") as url:
            run(url)
