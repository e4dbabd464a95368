"""Budgets under parallel sends (issue 28, item 5): the check and the admission
are one step per member, and answers in flight count at their estimate.

The real `AnswerService` with the real `BudgetGate` (as `webapp.backend` wires
them) against the emulator over loopback, on a SQLite file and on PostgreSQL
(ABLT_TEST_PG_URL): browsers are threads, and app processes real processes
(`tests.webapp.budgets.budget_process`). Bounded waits for a state only.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from ablt_core import AbltClient, AsyncAbltClient, UsageTotals
from ablt_core.emulator import EmulatorHandle, Fault
from tests.pg import BACKENDS, db_url_on
from tests.webapp import answer_helpers
from tests.webapp.answer_helpers import Member
from webapp.answers import AnswerRefused, AnswerService
from webapp.answers.admission import TICKET_TTL
from webapp.audit import BUDGET_REFUSAL, AuditLog
from webapp.budgets import BudgetBook, FigureCache, month_usage
from webapp.budgets.check import KEPT_IN_BOX, BudgetGate
from webapp.budgets.count import estimate_tokens, words_as_tokens
from webapp.budgets.holds import BOT_DEFAULT_ANSWER_WORDS
from webapp.conversations.context import ContextLimits, ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import STREAM_IDLE_AFTER, ConversationStore
from webapp.db.schema import budget_holds

REPO = Path(__file__).resolve().parents[3]
NO_CAP = ContextLimits(max_messages=None, max_words=None)
SETTLE = 30.0  # seconds a bounded wait for a state may take before the test fails
PROMPT = "Tell me about fjords"  # 4 words
REFUSED = "Not sent: you have used this month's budget"
# User ids no seeded history and no other test uses (the emulator's ledger is shared).
_USER_IDS = itertools.count(31000 + (int(time.time()) % 1000) * 20)


class Clock:
    """The store's clock, real time unless moved on (an expiry without waiting)."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


# The shared bounded wait, with this module's longer bound.
until = partial(answer_helpers.until, timeout=SETTLE)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with db_url_on(request.param, tmp_path, "holds") as url:
        ConversationStore(url).close()  # migrated once, before any process opens it
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[ConversationStore]:
    with ConversationStore(db_url, clock=clock) as opened:
        yield opened


@pytest.fixture
def api(emulator: EmulatorHandle, test_token: str) -> Iterator[AbltClient]:
    with AbltClient(bearer_token=test_token, base_url=emulator.base_url) as client:
        yield client


@pytest.fixture
def gate(store: ConversationStore, api: AbltClient, emulator: EmulatorHandle) -> BudgetGate:
    # The API figure is read once (before the first send) and kept: the count
    # between is this app's, as within any minute of the app.
    return BudgetGate(store, api, base_url=emulator.base_url, cache=FigureCache(ttl=3600))


@pytest.fixture
def make_service(
    store: ConversationStore, gate: BudgetGate, emulator: EmulatorHandle, test_token: str
) -> Iterator[Callable[..., AnswerService]]:
    made: list[AnswerService] = []

    def make(**client: Any) -> AnswerService:
        service = AnswerService(
            store,
            lambda: AsyncAbltClient(
                test_token, emulator.base_url, max_connections=5, max_retry_after=60, **client
            ),
            limits=NO_CAP,
            max_workers=5,
            save_every=0.1,
            rules=[gate],
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@pytest.fixture
def service(make_service: Callable[..., AnswerService]) -> AnswerService:
    return make_service()


def member_with(store: ConversationStore, limit: int, unit: str = "words") -> Member:
    """A member with no usage yet this month and a limit of their own."""
    member = Member(f"m{next(_USER_IDS)}", next(_USER_IDS))
    BudgetBook(store.engine).set_member_limit(member.username, limit, unit, actor="admin")
    return member


def chat_of(store: ConversationStore, member: Member, max_words: int | None = 120) -> str:
    options = ConversationOptions(max_words=max_words)
    return store.create_conversation(member, "omni", "Omni", options).id


def chats_sent(emulator: EmulatorHandle, member: Member) -> int:
    """The chat requests that reached the API for `member` (its user id)."""
    return sum(
        1
        for r in emulator.requests
        if r.path == "/v1/chat" and (r.json or {}).get("user_id") == member.user_id
    )


def ended(service: AnswerService, answer_id: str | None) -> None:
    assert answer_id is not None
    live = service.live(answer_id)
    if live is not None:
        assert live.wait_done(SETTLE), "the answer did not end"


def holds_of(store: ConversationStore, member: Member) -> list[Any]:
    with store.engine.connect() as conn:
        return list(
            conn.execute(sa.select(budget_holds).where(budget_holds.c.owner == member.username))
        )


def refusals(store: ConversationStore, member: Member) -> int:
    entries = AuditLog(store.engine).entries(kinds=[BUDGET_REFUSAL])
    return sum(1 for e in entries if e.actor == member.username)


# -- five browsers at once -----------------------------------------------------------


def test_five_browsers_pressing_send_at_once_with_20_words_left_start_one_answer(
    service: AnswerService,
    store: ConversationStore,
    gate: BudgetGate,
    emulator: EmulatorHandle,
) -> None:
    emulator.set_delay(0.01)  # each answer takes a while: the others ask while it runs
    ann = member_with(store, 20)
    chats = [chat_of(store, ann, max_words=120) for _ in range(5)]
    assert gate.status(ann).left == 20
    barrier = threading.Barrier(len(chats))
    sent: list[str | None] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def press_send(cid: str) -> None:
        barrier.wait()
        try:
            admission = service.admit(ann)  # as the chat page's send: the ticket first
            sent.append(service.submit(ann, cid, PROMPT, admission=admission).answer_id)
        except AnswerRefused as err:
            refused.append(err.reason)
        except BaseException as err:  # reported below
            errors.append(err)

    browsers = [threading.Thread(target=press_send, args=(cid,)) for cid in chats]
    for browser in browsers:
        browser.start()
    for browser in browsers:
        browser.join()
    for answer_id in sent:
        ended(service, answer_id)

    assert errors == []
    assert chats_sent(emulator, ann) == 1  # one prompt went out, not three
    assert len(sent) == 1 and len(refused) == 4
    for reason in refused:
        assert reason.startswith(REFUSED) and reason.endswith(KEPT_IN_BOX), reason
    # The refused sends saved nothing (their prompts stay in their boxes) and
    # each is in the audit log once.
    assert sorted(len(store.all_messages(ann, cid)) for cid in chats) == [0, 0, 0, 0, 2]
    assert refusals(store, ann) == 4


class Process:
    """A running `budget_process`, its JSON lines read in the background."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "tests.webapp.budgets.budget_process", *args],
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

    def expect(self, key: str, timeout: float = 60.0) -> Any:
        """The next line's `key` (fails with the process's errors if none comes)."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.popen.kill()
            _, err = self.popen.communicate(timeout=10)
            raise AssertionError(f"no {key!r} from the process; it said:\n{err[-3000:]}") from None
        assert key in line, line
        return line[key]

    def close(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.communicate(timeout=10)


def test_two_app_processes_with_three_browsers_each_start_one_answer(
    db_url: str,
    store: ConversationStore,
    emulator: EmulatorHandle,
    test_token: str,
    tmp_path: Path,
) -> None:
    emulator.set_delay(0.01)
    ann = member_with(store, 20)
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ABLT_")}
    env.update(BUDGET_GO=str(go), BUDGET_MAX_WORDS="120")
    args = [db_url, emulator.base_url, test_token, ann.username, str(ann.user_id), "3"]
    processes = [Process(args, env), Process(args, env)]
    try:
        for process in processes:
            process.expect("ready")
        go.touch()  # six browsers, two app processes, one member: send at once
        done = [process.expect("done") for process in processes]
    finally:
        for process in processes:
            process.close()
    sent = [answer for d in done for answer in d["sent"]]
    refused = [reason for d in done for reason in d["refused"]]
    assert chats_sent(emulator, ann) == 1
    assert len(sent) == 1 and len(refused) == 5
    for reason in refused:
        assert reason.startswith(REFUSED) and reason.endswith(KEPT_IN_BOX), reason
    assert refusals(store, ann) == 5


# -- a hold never leaks ---------------------------------------------------------------


def test_a_stopped_answer_lets_the_next_send_through(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=60))
    ann = member_with(store, 20)
    first = service.submit(ann, chat_of(store, ann), PROMPT)
    until(lambda: chats_sent(emulator, ann) == 1)  # it took the slow first byte
    second_chat = chat_of(store, ann)
    with pytest.raises(AnswerRefused) as refused:  # the first holds its 120 words
        service.submit(ann, second_chat, PROMPT)
    assert "answers still being written" in refused.value.reason

    assert first.answer_id is not None and service.stop(ann, first.answer_id)
    # Stopped before any text: it spent nothing, so the next send goes through.
    second = service.submit(ann, second_chat, PROMPT)
    ended(service, second.answer_id)
    assert store.all_messages(ann, second_chat)[-1].status == AnswerStatus.COMPLETE
    assert chats_sent(emulator, ann) == 2
    assert holds_of(store, ann) == []


def test_a_failed_answer_lets_the_next_send_through(
    make_service: Callable[..., AnswerService], store: ConversationStore, emulator: EmulatorHandle
) -> None:
    # The API never starts answering; the client gives up after 3 s, once.
    service = make_service(timeout=3.0, max_retries=0)
    emulator.inject(Fault(kind="slow_first_byte", seconds=60))
    ann = member_with(store, 20)
    first_chat, second_chat = chat_of(store, ann), chat_of(store, ann)
    first = service.submit(ann, first_chat, PROMPT)
    with pytest.raises(AnswerRefused):  # in flight: its estimate is held
        service.submit(ann, second_chat, PROMPT)

    ended(service, first.answer_id)
    assert store.all_messages(ann, first_chat)[-1].status == AnswerStatus.ERROR
    second = service.submit(ann, second_chat, PROMPT)
    ended(service, second.answer_id)
    assert store.all_messages(ann, second_chat)[-1].status == AnswerStatus.COMPLETE
    assert holds_of(store, ann) == []


def test_an_unused_ticket_holds_until_it_expires_and_one_that_starts_nothing_not_at_all(
    service: AnswerService, store: ConversationStore, clock: Clock, emulator: EmulatorHandle
) -> None:
    ann = member_with(store, 20)
    service.admit(ann)  # a send that never happened (the tab was closed meanwhile)
    with pytest.raises(AnswerRefused):
        service.admit(ann)  # the unused ticket still holds the bot default
    clock.ahead += timedelta(seconds=TICKET_TTL + 1)
    nothing_due = chat_of(store, ann)
    # A ticket used where nothing is due starts nothing and holds nothing.
    assert service.start(ann, nothing_due, admission=service.admit(ann)) is None
    sent = service.submit(ann, chat_of(store, ann), PROMPT, admission=service.admit(ann))
    ended(service, sent.answer_id)
    assert chats_sent(emulator, ann) == 1


def test_the_answer_of_a_worker_that_died_stops_holding_once_its_heartbeat_is_stale(
    service: AnswerService, store: ConversationStore, gate: BudgetGate, clock: Clock
) -> None:
    ann = member_with(store, 20)
    cid = chat_of(store, ann)
    admission = service.admit(ann)
    # Claimed and bound as `start` does, but no worker runs it (its process died).
    store.enqueue_prompt(ann, cid, PROMPT)
    claim = store.claim_next(ann, cid)
    assert claim is not None
    gate.claimed(admission.ticket, ann, claim.answer.id, cid)
    with pytest.raises(AnswerRefused):
        service.admit(ann)
    clock.ahead += STREAM_IDLE_AFTER + timedelta(seconds=1)
    service.admit(ann)  # its heartbeat is stale: it holds nothing any more


# -- the estimate, then the real size -------------------------------------------------


def test_an_answer_in_flight_counts_at_its_max_words_and_its_real_words_replace_it(
    service: AnswerService,
    store: ConversationStore,
    gate: BudgetGate,
    api: AbltClient,
    emulator: EmulatorHandle,
) -> None:
    ann = member_with(store, 10_000)
    cache = FigureCache(ttl=3600)

    def fetch(user_id: int, start: date, end: date) -> UsageTotals:
        return api.get_usage_statistics(start, end, user_id).total

    def used() -> Any:
        return month_usage(store, ann.username, ann.user_id, fetch, cache=cache)

    assert used().amount("words") == 0
    emulator.inject(Fault(kind="slow_first_byte", seconds=2))  # in flight for 2 s at least
    cid = chat_of(store, ann, max_words=120)
    sent = service.submit(ann, cid, PROMPT)
    flying = used()
    assert flying.amount("words") == len(PROMPT.split()) + 120
    assert flying.held("words") == len(PROMPT.split()) + 120
    assert flying.held("tokens") == estimate_tokens(PROMPT) + words_as_tokens(120)
    assert gate.status(ann).held == len(PROMPT.split()) + 120

    ended(service, sent.answer_id)
    answer = store.all_messages(ann, cid)[-1]
    assert answer.status == AnswerStatus.COMPLETE
    done = used()
    assert done.held("words") == 0
    # Its own words now, once: no estimate left, nothing counted twice.
    assert done.amount("words") == len(PROMPT.split()) + len(answer.text.split())
    assert holds_of(store, ann) == []


def test_a_conversation_without_max_words_holds_the_bot_default(
    service: AnswerService, store: ConversationStore, gate: BudgetGate, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=60))
    ann = member_with(store, 10_000)
    sent = service.submit(ann, chat_of(store, ann, max_words=None), PROMPT)
    assert gate.status(ann).used == len(PROMPT.split()) + BOT_DEFAULT_ANSWER_WORDS
    assert gate.status(ann).held == len(PROMPT.split()) + BOT_DEFAULT_ANSWER_WORDS
    assert sent.answer_id is not None and service.stop(ann, sent.answer_id)
    assert gate.status(ann).used == gate.status(ann).held == 0


def test_a_member_without_a_limit_starts_and_ends_answers_without_touching_the_holds(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    """Nothing is reserved for a member without a limit, so nothing is bound or
    released either: a send writes fewer statements before its first piece."""
    free = Member(f"m{next(_USER_IDS)}", next(_USER_IDS))  # no limit of their own
    capped = member_with(store, 10_000)
    touched: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "budget_holds" in statement:
            touched.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        sent = service.submit(free, chat_of(store, free), PROMPT, admission=service.admit(free))
        ended(service, sent.answer_id)
        assert touched == []
        emulator.set_delay(0.02)  # the capped member's answer lasts while its hold is read
        # A member with a limit: the hold is reserved, bound to the answer, released.
        sent = service.submit(
            capped, chat_of(store, capped), PROMPT, admission=service.admit(capped)
        )
        assert [h.answer_id for h in holds_of(store, capped)] == [sent.answer_id]
        ended(service, sent.answer_id)
        until(lambda: holds_of(store, capped) == [])
        assert touched
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
    assert chats_sent(emulator, free) == chats_sent(emulator, capped) == 1
