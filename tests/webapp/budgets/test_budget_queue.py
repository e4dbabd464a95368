"""Queued (typed-ahead) prompts and the monthly budget: the answer worker starts
the next queued prompt on its own, so it asks the budget itself
(`AnswerService(rules=[BudgetGate(...)])`, as `webapp.backend` wires it).

The real `AnswerService` against the emulator over loopback, on a real SQLite
file and on PostgreSQL (ABLT_TEST_PG_URL); the budget counted by the real
`BudgetGate` from the emulator's usage statistics and the store. The prompts
are queued before the first is started, so no test depends on how fast an
answer streams.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.exc import SQLAlchemyError

from ablt_core import AbltClient, AsyncAbltClient
from ablt_core.emulator import EmulatorHandle
from tests.pg import BACKENDS, store_on
from webapp.answers import AdmissionRequest, AdmissionRule, AnswerService
from webapp.audit import BUDGET_REFUSAL, AuditLog
from webapp.budgets import BudgetBook, FigureCache
from webapp.budgets.check import KEPT_QUEUED, BudgetGate
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore

NO_CAP = ContextLimits(max_messages=None, max_words=None)
SETTLE = 15.0  # seconds a bounded wait for a state may take before the test fails
# User ids no seeded history and no other test uses (the emulator is shared).
_USER_IDS = itertools.count(8300 + (int(time.time()) % 1000) * 10)
ANSWERED = [("user", "complete"), ("assistant", "complete")]  # one exchange
PROMPTS = ["First: what is a tide?", "Second: and a neap tide?", "Third: and a spring tide?"]


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "budgetq") as opened:
        yield opened


@pytest.fixture
def api(emulator: EmulatorHandle, test_token: str) -> Iterator[AbltClient]:
    with AbltClient(bearer_token=test_token, base_url=emulator.base_url) as client:
        yield client


@pytest.fixture
def make_service(
    store: ConversationStore, emulator: EmulatorHandle, test_token: str
) -> Iterator[Callable[[AdmissionRule | None], AnswerService]]:
    made: list[AnswerService] = []

    def make(rule: AdmissionRule | None) -> AnswerService:
        service = AnswerService(
            store,
            lambda: AsyncAbltClient(test_token, emulator.base_url, max_connections=2),
            limits=NO_CAP,
            max_workers=2,
            save_every=0.1,
            rules=[rule] if rule is not None else [],
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


def until(condition: Callable[[], object]) -> None:
    """Wait for `condition()` to hold (polling); fail the test if it never does."""
    deadline = time.monotonic() + SETTLE
    while not condition():
        assert time.monotonic() < deadline, "the expected state was not reached"
        time.sleep(0.01)


def chat_requests(emulator: EmulatorHandle) -> list[str]:
    """The last prompt of each chat request the API received, in order."""
    return [r.json["messages"][-1]["content"] for r in emulator.requests if r.path == "/v1/chat"]


def typed_ahead(store: ConversationStore, member: Member) -> str:
    """A conversation with three prompts saved queued, as type-ahead leaves them."""
    cid = store.create_conversation(member, "omni", "Omni").id
    for prompt in PROMPTS:
        store.enqueue_prompt(member, cid, prompt)
    return cid


def ended(service: AnswerService, answer_id: str | None) -> None:
    """Wait until the answer ended here (its worker has decided about the next)."""
    assert answer_id is not None
    live = service.live(answer_id)
    assert live is not None and live.wait_done(SETTLE), "the answer did not finish"


def exchanges(store: ConversationStore, member: Member, cid: str) -> list[tuple[str, str]]:
    return [(m.role, m.status) for m in store.all_messages(member, cid)]


def refusals(store: ConversationStore) -> list[tuple[str | None, str]]:
    return [(e.actor, e.detail) for e in AuditLog(store.engine).entries(kinds=[BUDGET_REFUSAL])]


def test_prompts_queued_behind_the_answer_that_uses_up_the_budget_are_not_sent(
    store: ConversationStore,
    make_service: Callable[..., AnswerService],
    emulator: EmulatorHandle,
    api: AbltClient,
) -> None:
    ann = Member("ann", next(_USER_IDS))
    book = BudgetBook(store.engine)
    book.set_member_limit(ann.username, 1, "words", actor="admin")  # the first answer uses it up
    gate = BudgetGate(store, api, base_url=emulator.base_url, cache=FigureCache(ttl=3600))
    service = make_service(gate)
    cid = typed_ahead(store, ann)

    first = service.start(ann, cid)
    ended(service, first)
    assert chat_requests(emulator) == [PROMPTS[0]]  # the queued two never reached the API
    assert exchanges(store, ann, cid) == ANSWERED
    assert [q.text for q in store.queued_prompts(ann, cid)] == PROMPTS[1:]  # kept, in order
    assert list(store.generating(ann, cid)) == []
    ((actor, detail),) = refusals(store)  # the refusal is in the audit log, once
    assert actor == "ann" and detail.endswith("of 1 words used this month")
    refused = gate(AdmissionRequest(ann, queued=True))  # what the page says (recorded too)
    assert refused is not None and refused.startswith("Not sent: you have used this month's")
    assert refused.endswith(KEPT_QUEUED)

    book.set_member_limit(ann.username, 1_000_000, "words", actor="admin")  # raised
    second = service.start(ann, cid)  # "Send now"
    ended(service, second)
    until(
        lambda: exchanges(store, ann, cid) == [("user", "complete"), ("assistant", "complete")] * 3
    )
    assert chat_requests(emulator) == PROMPTS  # each once, in order
    assert [m.text for m in store.all_messages(ann, cid)][::2] == PROMPTS
    assert store.queued_prompts(ann, cid) == []
    assert len(refusals(store)) == 2  # no more refusals once raised


def test_a_member_with_budget_left_gets_queued_prompts_answered_in_order(
    store: ConversationStore,
    make_service: Callable[..., AnswerService],
    emulator: EmulatorHandle,
    api: AbltClient,
) -> None:
    bob = Member("bob", next(_USER_IDS))
    BudgetBook(store.engine).set_member_limit(bob.username, 1_000_000, "words", actor="admin")
    service = make_service(BudgetGate(store, api, base_url=emulator.base_url))
    cid = typed_ahead(store, bob)

    ended(service, service.start(bob, cid))
    until(
        lambda: exchanges(store, bob, cid) == [("user", "complete"), ("assistant", "complete")] * 3
    )
    assert chat_requests(emulator) == PROMPTS
    assert [m.text for m in store.all_messages(bob, cid)][::2] == PROMPTS
    assert refusals(store) == []


def test_a_budget_that_cannot_be_checked_leaves_the_queue_waiting(
    store: ConversationStore, make_service: Callable[..., AnswerService], emulator: EmulatorHandle
) -> None:
    cy = Member("cy", next(_USER_IDS))

    def unreadable(request: AdmissionRequest) -> str | None:
        if not request.queued:
            return None  # the page's send was admitted; the worker's check then fails
        raise SQLAlchemyError("the budgets table cannot be read")

    service = make_service(unreadable)
    cid = typed_ahead(store, cy)
    ended(service, service.start(cy, cid))
    assert chat_requests(emulator) == [PROMPTS[0]]
    assert [q.text for q in store.queued_prompts(cy, cid)] == PROMPTS[1:]
    assert list(store.generating(cy, cid)) == []
