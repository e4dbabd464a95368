"""Shared fixtures: one emulator per test session, reset around each test.

Subfolders add their own conftest.py for their own fixtures.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from ablt_core.emulator import EmulatorHandle, start_emulator


@pytest.fixture(scope="session")
def test_token() -> str:
    """The bearer token the session emulator accepts (and the only one)."""
    return "test-token"


@pytest.fixture(scope="session")
def emulator_server(test_token: str) -> Iterator[EmulatorHandle]:
    """A real emulator on a free loopback port, no streaming delay, for the whole session."""
    with start_emulator(delay=0, token=test_token) as handle:
        yield handle


@pytest.fixture
def emulator(emulator_server: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The session emulator with faults, recorded requests and delay reset around the test."""
    emulator_server.clear_faults()
    emulator_server.clear_requests()
    emulator_server.clear_streams()
    emulator_server.set_delay(0)
    emulator_server.set_answer_words(None)
    emulator_server.reset_inflight()
    yield emulator_server
    emulator_server.clear_faults()
    emulator_server.clear_requests()
    emulator_server.clear_streams()
    emulator_server.set_delay(0)
    emulator_server.set_answer_words(None)


@pytest.fixture
def lock_sqlite(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], AbstractContextManager[None]]:
    """Hold a real write lock on a SQLite file, as another busy process would.

    Stores opened after this fixture wait only 0.2 s for a lock, so a locked
    database fails a write with SQLAlchemy's OperationalError ("database is
    locked") at once rather than after the production 10 s.
    """
    from webapp.db import engine

    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 200)

    @contextlib.contextmanager
    def lock(path: Path) -> Iterator[None]:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    return lock
