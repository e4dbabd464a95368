"""Retention on SQLite and PostgreSQL (issue 25): ages, pinned, busy
conversations, audit entries and share links, one sweep across processes,
and a sweep killed half way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pg import BACKENDS, db_url_on
from webapp.audit.log import AuditLog
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.db import schema
from webapp.lifecycle import retention
from webapp.lifecycle.retention import RetentionError, RetentionPolicy, days_left, expiry_note

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PROJECT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Who:
    username: str
    user_id: int


ANN, BOB = Who("ann", 1), Who("bob", 2)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with db_url_on(request.param, tmp_path, "retention") as made:
        yield made


def chat_aged(url: str, who: Who, days: float, text: str = "hello") -> str:
    """A conversation of a prompt and its answer, last changed `days` ago."""
    clock = Clock(NOW - timedelta(days=days))
    with ConversationStore(url, clock=clock) as store:
        conv = store.create_conversation(who, "gpt-4", "GPT-4")
        store.append_message(who, conv.id, "user", text)
        store.append_message(who, conv.id, "assistant", f"answer to {text}")
        return conv.id


def ids_of(url: str, who: Who) -> set[str]:
    with ConversationStore(url) as store:
        return {c.id for c in store.list_conversations(who, limit=10_000)}


def engine_of(url: str) -> sa.Engine:
    return ConversationStore(url).engine


def test_conversations_unused_longer_than_the_policy_go_and_the_rest_stay(url: str) -> None:
    fresh = chat_aged(url, ANN, 10)
    old = chat_aged(url, ANN, 40)
    older = chat_aged(url, BOB, 400)
    reopened = chat_aged(url, ANN, 90)
    with ConversationStore(url, clock=Clock(NOW - timedelta(days=2))) as store:
        store.mark_opened(ANN, reopened)  # read two days ago: used, so kept
    engine = engine_of(url)
    retention.save_policy(engine, RetentionPolicy(conversation_days=30), "admin", now=NOW)

    result = retention.sweep(engine, now=Clock(NOW))

    assert (result.ran, result.conversations) == (True, 2)
    assert ids_of(url, ANN) == {fresh, reopened}
    assert ids_of(url, BOB) == set()
    assert old not in ids_of(url, ANN) and older
    with engine.connect() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar()
    assert left == 4  # only the kept conversations' messages remain
    entries = AuditLog(engine).entries()
    assert any(
        e.action == "retention sweep" and "2 conversations deleted" in e.detail for e in entries
    )


def test_pinned_conversations_are_kept_or_not_as_the_admin_chose(url: str) -> None:
    pinned = chat_aged(url, ANN, 100)
    with ConversationStore(url, clock=Clock(NOW - timedelta(days=100))) as store:
        store.set_pinned(ANN, pinned, True)
    engine = engine_of(url)
    retention.save_policy(engine, RetentionPolicy(conversation_days=30, keep_pinned=True), "a")
    assert retention.sweep(engine, now=Clock(NOW)).conversations == 0
    assert ids_of(url, ANN) == {pinned}
    retention.save_policy(engine, RetentionPolicy(conversation_days=30, keep_pinned=False), "a")
    assert retention.sweep(engine, now=Clock(NOW), force=True).conversations == 1
    assert ids_of(url, ANN) == set()


def test_a_conversation_with_an_answer_in_progress_or_a_queued_prompt_is_never_swept(
    url: str,
) -> None:
    generating = chat_aged(url, ANN, 60)
    queued = chat_aged(url, ANN, 60)
    with ConversationStore(url, clock=Clock(NOW - timedelta(days=60))) as store:
        store.append_message(ANN, generating, "user", "and more?")
        store.append_message(ANN, generating, "assistant", "", AnswerStatus.STREAMING)
        with store.engine.begin() as conn:
            conn.execute(
                sa.insert(schema.queued_prompts).values(
                    id="q-1",
                    conversation_id=queued,
                    position=0,
                    text="later",
                    created_at=NOW - timedelta(days=60),
                )
            )
    engine = engine_of(url)
    retention.save_policy(engine, RetentionPolicy(conversation_days=30), "admin")
    result = retention.sweep(engine, now=Clock(NOW))
    assert (result.conversations, result.kept_busy) == (0, 2)
    assert ids_of(url, ANN) == {generating, queued}


def test_old_audit_entries_go_and_old_share_links_expire(url: str) -> None:
    engine = engine_of(url)
    AuditLog(engine, clock=Clock(NOW - timedelta(days=200))).record_change("a", "old", None)
    AuditLog(engine, clock=Clock(NOW - timedelta(days=5))).record_change("a", "recent", None)
    cid = chat_aged(url, ANN, 1)
    with engine.begin() as conn:
        for token, age in (("old-link", 60), ("new-link", 3)):
            conn.execute(
                sa.insert(schema.shares).values(
                    token=token,
                    owner="ann",
                    conversation_id=cid,
                    title="t",
                    snapshot="{}",
                    message_count=2,
                    created_at=NOW - timedelta(days=age),
                )
            )
    retention.save_policy(engine, RetentionPolicy(audit_days=90, share_days=30), "admin", now=NOW)
    result = retention.sweep(engine, now=Clock(NOW))
    assert (result.audit_entries, result.shares) == (1, 1)
    actions = {e.action for e in AuditLog(engine).entries()}
    assert "recent" in actions and "old" not in actions
    with engine.connect() as conn:
        revoked = dict(
            conn.execute(sa.select(schema.shares.c.token, schema.shares.c.revoked_at)).all()
        )
    assert revoked["old-link"] is not None and revoked["new-link"] is None
    assert ids_of(url, ANN) == {cid}  # conversations kept forever by this policy


def test_one_sweep_a_day_whichever_process_asks(url: str) -> None:
    chat_aged(url, ANN, 100)
    retention.save_policy(engine_of(url), RetentionPolicy(conversation_days=30), "admin")
    results: list[retention.SweepResult] = []
    barrier = threading.Barrier(4)

    def process() -> None:
        engine = ConversationStore(url).engine  # each its own pool, as a process has
        barrier.wait()
        results.append(retention.sweep(engine, now=Clock(NOW)))

    threads = [threading.Thread(target=process) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.ran for r in results) == [False, False, False, True]
    later = retention.sweep(engine_of(url), now=Clock(NOW + timedelta(hours=5)))
    assert not later.ran  # not due again until a day has passed
    assert retention.sweep(engine_of(url), now=Clock(NOW + timedelta(days=1, minutes=1))).ran


SWEEPER = """
import sys, time
from datetime import datetime, timedelta, UTC
from webapp.conversations.store import ConversationStore
from webapp.lifecycle import retention
engine = ConversationStore(sys.argv[1]).engine
now = datetime.fromisoformat(sys.argv[2])
def between():
    print("deleted one", flush=True)
retention.sweep(engine, now=lambda: now, force=True, between=between)
print("finished", flush=True)
"""


def test_a_sweep_killed_half_way_leaves_every_conversation_whole_and_the_next_finishes(
    url: str,
) -> None:
    made = [chat_aged(url, ANN, 100, text=f"q{n}") for n in range(60)]
    retention.save_policy(engine_of(url), RetentionPolicy(conversation_days=30), "admin")
    sweeper = subprocess.Popen(
        [sys.executable, "-c", SWEEPER, url, NOW.isoformat()],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
    )
    assert sweeper.stdout is not None
    assert sweeper.stdout.readline().strip() == "deleted one"
    os.kill(sweeper.pid, signal.SIGKILL)  # wherever it is: likely inside the next delete
    sweeper.wait(timeout=30)

    left = ids_of(url, ANN)
    assert 0 < len(left) < len(made)
    with ConversationStore(url) as store:
        for cid in left:  # whole: both messages still there
            assert len(store.all_messages(ANN, cid)) == 2
    engine = engine_of(url)
    # The dead sweep's lease holds the others off until it runs out, then one finishes.
    assert not retention.sweep(engine, now=Clock(NOW), force=True).ran
    after_lease = Clock(NOW + retention.LEASE + timedelta(seconds=1))
    assert retention.sweep(engine, now=after_lease, force=True).conversations == len(left)
    assert ids_of(url, ANN) == set()


def test_the_history_warns_a_week_ahead_and_says_when() -> None:
    policy = RetentionPolicy(conversation_days=30)
    updated = NOW - timedelta(days=27)
    left = days_left(policy, pinned=False, opened_at=None, updated_at=updated, now=NOW)
    assert left == 3
    assert expiry_note(left) == "Deleted in 3 days unless you open it"
    assert expiry_note(1) == "Deleted in 1 day unless you open it"
    assert expiry_note(0) == "Deleted at the next cleanup unless you open it"
    assert expiry_note(8) is None
    opened = NOW - timedelta(days=1)
    assert days_left(policy, pinned=False, opened_at=opened, updated_at=updated, now=NOW) == 29
    assert days_left(policy, pinned=True, opened_at=None, updated_at=updated, now=NOW) is None
    assert (
        days_left(RetentionPolicy(), pinned=False, opened_at=None, updated_at=updated, now=NOW)
        is None
    )


@pytest.mark.parametrize("days", [0, -1, 36_501])
def test_a_policy_out_of_range_is_refused_in_plain_words(days: int) -> None:
    with pytest.raises(RetentionError, match="between 1 and 36,500 days"):
        RetentionPolicy(conversation_days=days)


def test_the_scheduler_sweeps_when_due_and_runs_its_housekeeping(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scheduled.db'}"
    chat_aged(url, ANN, 100)
    engine = engine_of(url)
    retention.save_policy(engine, RetentionPolicy(conversation_days=30), "admin")
    housekeeping = threading.Event()
    scheduler = retention.RetentionScheduler(engine, every=0.05, also=housekeeping.set)
    try:
        assert housekeeping.wait(30)
    finally:
        scheduler.close()
    assert ids_of(url, ANN) == set()
