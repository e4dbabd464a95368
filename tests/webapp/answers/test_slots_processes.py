"""The team's limit across real app processes: two of them, and one killed with -9.

Each "app process" is `python -m tests.webapp.answers.slot_process`: the answer
service built as the app builds it, its limit and heartbeat staleness read
from the environment (`ABLT_MAX_CONCURRENT_ANSWERS`, `ABLT_SLOT_STALE_SECONDS`).
All of them use the one emulator of the test process, which counts the chats
in flight, and one database: a SQLite file, and PostgreSQL (a fresh schema)
when ABLT_TEST_PG_URL is set. Bounded waits only, no timed assertion.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle, Fault
from tests.pg import BACKENDS, fresh_schema_url
from tests.reliability import row
from webapp.answers import AnswerService
from webapp.answers.slots import holder_id
from webapp.answers.slots_store import RECLAIMED, SlotBook
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore

REPO = Path(__file__).resolve().parents[3]
BOUND = 60.0  # "within a minute": the most any awaited state may take
STALE = 2.0  # seconds a silent process keeps its slots, in these tests


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


class Process:
    """A running `slot_process`, its JSON lines read in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tests.webapp.answers.slot_process", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def expect(self, key: str, timeout: float = BOUND) -> Any:
        """The next line's `key` (fails with the process's errors if none comes)."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.popen.kill()
            _, err = self.popen.communicate(timeout=10)
            raise AssertionError(f"no {key!r} from the process; it said:\n{err[-3000:]}") from None
        assert key in line, line
        return line

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chat.db'}"
        ConversationStore(url).close()  # created once, before the processes open it
        yield url
        return
    with fresh_schema_url("slotproc") as url:
        ConversationStore(url).close()
        yield url


@pytest.fixture
def start(
    db_url: str, emulator: EmulatorHandle, test_token: str, tmp_path: Path
) -> Iterator[Callable[..., Process]]:
    started: list[Process] = []

    def run(tag: str, members: list[str], limit: int, go: Path | None = None) -> Process:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ABLT_")}
        env.update(
            ABLT_MAX_CONCURRENT_ANSWERS=str(limit),
            ABLT_SLOT_STALE_SECONDS=str(STALE),
            SLOT_GO=str(go or ""),
        )
        process = Process([db_url, emulator.base_url, test_token, tag, *members], env)
        started.append(process)
        return process

    yield run
    for process in started:
        process.kill()


def until(condition: Callable[[], object], timeout: float = BOUND) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the expected state was not reached")
        time.sleep(0.02)


@row(
    "Two app processes share the team's limit (one database, several processes)",
    happens="Answers from both wait in one line in the database; the limit holds across them.",
    sees="'Waiting for a free slot (number N in line)' on whichever process; then the answer.",
    kept="Every answer, complete; never more in flight at the API than the limit.",
)
def test_two_app_processes_never_have_more_answers_in_flight_than_the_team_limit(
    start: Callable[..., Process], emulator: EmulatorHandle, tmp_path: Path
) -> None:
    emulator.set_delay(0.03)
    go = tmp_path / "go"
    a = start("A", ["ann", "bob", "cy"], limit=2, go=go)
    b = start("B", ["dee", "eve"], limit=2, go=go)
    a.expect("ready")
    b.expect("ready")
    go.touch()  # both send at once
    a.expect("sent")
    b.expect("sent")
    done_a, done_b = a.expect("done"), b.expect("done")
    statuses = {**done_a["done"], **done_b["done"]}
    assert statuses == dict.fromkeys(["ann", "bob", "cy", "dee", "eve"], "complete")
    now, most = emulator.inflight
    assert most == 2 and now == 0  # counted at the API
    prompts = sorted(r.json["messages"][-1]["content"] for r in emulator.requests)
    assert prompts == sorted(
        [f"Question of {n} on A" for n in ("ann", "bob", "cy")]
        + [f"Question of {n} on B" for n in ("dee", "eve")]
    )
    seen = " ".join(
        n for notes in (done_a["notes"], done_b["notes"]) for ns in notes.values() for n in ns
    )
    for place in (1, 2, 3):
        assert f"(number {place} in line)" in seen, seen


@row(
    "An app process holding a team slot is killed (kill -9)",
    happens="Its heartbeat stops; after ABLT_SLOT_STALE_SECONDS (30 s) any other process "
    "reclaims its slot, recorded for the admin.",
    sees="The answers waiting elsewhere start by themselves, within a minute.",
    kept="Every other answer; the killed one is settled interrupted when next opened.",
)
def test_a_slot_held_by_a_killed_process_is_back_within_a_minute(
    start: Callable[..., Process],
    emulator: EmulatorHandle,
    db_url: str,
    test_token: str,
) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=120))  # the doomed answer holds on
    doomed = start("K", ["ann"], limit=1)
    doomed.expect("ready")
    doomed.expect("sent")
    until(lambda: emulator.inflight[0] == 1)

    store = ConversationStore(db_url)
    book = SlotBook(store.engine, holder_id(), configured=1, stale_after=timedelta(seconds=STALE))
    service = AnswerService(
        store,
        lambda: AsyncAbltClient(test_token, emulator.base_url, max_retry_after=60),
        limits=ContextLimits(max_messages=None, max_words=None),
        save_every=0.2,
        slots=book,
        slot_poll=0.2,
    )
    try:
        bob = Member("bob", 7)
        sent = service.submit(bob, store.create_conversation(bob, "omni", "Omni").id, "Me next")
        live = service.live(sent.answer_id)  # type: ignore[arg-type]
        assert live is not None
        until(lambda: live.wait is not None and live.wait.kind == "line")
        assert live.wait is not None and live.wait.ahead == 0  # first in line, no slot free

        doomed.kill()
        assert live.wait_done(BOUND) and live.status == "complete"
        assert any(e.kind == RECLAIMED for e in book.events())
        assert book.status().rows == []
    finally:
        service.close()
        store.close()
