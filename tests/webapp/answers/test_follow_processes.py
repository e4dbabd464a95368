"""Following an answer generated on another app process (issue 24).

Two `AnswerService`s, each with its own store (engine, pool) on one database,
are two processes' views of it. On PostgreSQL the follower is woken by the
worker's NOTIFY at each save (and its fallback re-read is pushed far out, so
text can only arrive by notification); on SQLite it polls. Against the
emulator, with bounded waits for a state, never a timed assertion.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle
from tests.pg import BACKENDS, db_url_on
from webapp.answers import AnswerService
from webapp.answers import service as service_module
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore

SETTLE = 20.0  # seconds a bounded wait for a state may take


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


ANN = Member("ann", 42)


def until(condition: Callable[[], object], timeout: float = SETTLE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the expected state was not reached")
        time.sleep(0.01)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with db_url_on(request.param, tmp_path, "follow") as url:
        yield url


@pytest.fixture
def processes(
    db_url: str, emulator: EmulatorHandle, test_token: str
) -> Iterator[tuple[AnswerService, AnswerService]]:
    """(A, B): two services, each on its own store of the same database."""
    stores = [ConversationStore(db_url), ConversationStore(db_url)]
    services = [
        AnswerService(
            store,
            lambda: AsyncAbltClient(test_token, emulator.base_url, max_retry_after=60),
            limits=ContextLimits(max_messages=None, max_words=None),
        )
        for store in stores
    ]
    yield services[0], services[1]
    for made in services:
        made.close()
    for store in stores:
        store.close()


def follow_on_b(a: AnswerService, b: AnswerService, emulator: EmulatorHandle) -> list[str]:
    """Start an answer on A and follow it from B to its end: B's non-empty pieces."""
    emulator.set_answer_words(40)
    emulator.set_delay(0.05)  # about 2 s of streaming
    cid = a.store.create_conversation(ANN, "omni", "Omni").id
    sent = a.submit(ANN, cid, "Follow me from elsewhere")
    assert sent.answer_id and b.live(sent.answer_id) is None
    pieces = [p for p in b.follow(ANN, sent.answer_id, follow_every=0.05) if p]
    live = a.live(sent.answer_id)
    assert live is not None and live.wait_done(SETTLE)
    saved = b.store.all_messages(ANN, cid)[-1]
    assert saved.status == "complete" and "".join(pieces) == saved.text
    return pieces


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A follower re-reads only when notified (its fallback re-read is a minute away)."""
    monkeypatch.setattr(service_module, "FOLLOW_FALLBACK", 60.0)


def test_a_follower_on_another_process_gets_the_text_as_it_is_saved(
    processes: tuple[AnswerService, AnswerService],
    emulator: EmulatorHandle,
    db_url: str,
    no_fallback: None,
) -> None:
    a, b = processes
    on_postgres = db_url.startswith("postgresql")
    assert (b.signals is not None) == on_postgres  # PostgreSQL listens, SQLite polls
    if b.signals is not None:
        assert b.signals.listener.connected.wait(SETTLE)
    pieces = follow_on_b(a, b, emulator)
    # Text came in parts while it streamed: polled every 0.05 s (SQLite; A saves
    # every second), or pushed by NOTIFY (PostgreSQL: no re-read without one for
    # a minute), A saving every 0.1 s once B said it follows.
    assert len(pieces) >= (5 if on_postgres else 2)
    if b.signals is not None:
        assert b.signals.listener.connections == 1  # one listening connection, whatever follows


@pytest.mark.postgres
def test_listening_resumes_after_the_database_drops_the_connection(
    processes: tuple[AnswerService, AnswerService],
    emulator: EmulatorHandle,
    db_url: str,
    no_fallback: None,
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    a, b = processes
    assert b.signals is not None
    listener = b.signals.listener
    assert listener.connected.wait(SETTLE)
    first_pid = listener.backend_pid
    # As a database restart does to every session (the shared cluster itself is never restarted).
    admin = sa.create_engine(db_url, poolclass=sa.NullPool)
    try:
        with admin.begin() as conn:
            killed = conn.execute(sa.select(sa.func.pg_terminate_backend(first_pid))).scalar()
        assert killed
    finally:
        admin.dispose()
    until(lambda: listener.connections == 2 and listener.connected.is_set())
    assert listener.backend_pid != first_pid
    assert len(follow_on_b(a, b, emulator)) >= 5  # pushed again
