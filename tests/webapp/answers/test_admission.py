# ruff: noqa: F811  (the answer-service fixtures are imported from answer_helpers)
"""The answer service is the one admission point: every way of starting an
answer is refused by it when the month's budget is used up, before anything
is saved and before anything reaches the API.

The real `AnswerService` with the real `BudgetGate` as its rule (as
`webapp.backend` wires it), against the emulator over loopback and a real
database (SQLite, and PostgreSQL when ABLT_TEST_PG_URL is set).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from ablt_core import AbltClient
from ablt_core.emulator import EmulatorHandle
from tests.webapp.answer_helpers import (  # noqa: F401  (fixtures)
    ANN,
    Member,
    answered,
    chat_requests,
    db_url,
    finished,
    make_service,
    saved,
    store,
    until,
    ways,
)
from webapp.answers import (
    Admission,
    AdmissionRequest,
    AnswerRefused,
    AnswerService,
)
from webapp.audit import BUDGET_REFUSAL, AuditLog
from webapp.budgets import BudgetBook, FigureCache
from webapp.budgets.check import KEPT_IN_BOX, KEPT_QUEUED, BudgetGate
from webapp.chat import changes
from webapp.chat import open_chat as chat
from webapp.conversations.store import ConversationStore

# User ids no seeded history and no other test uses (the emulator's ledger is shared).
_USER_IDS = itertools.count(8700 + (int(time.time()) % 1000) * 10)


# -- the gate itself -------------------------------------------------------------------


def test_rules_are_asked_in_order_and_the_first_refusal_is_the_one_shown(
    make_service: Callable[..., AnswerService],
) -> None:
    asked: list[str] = []

    def rule(name: str, refusal: str | None) -> Callable[[AdmissionRequest], str | None]:
        def check(request: AdmissionRequest) -> str | None:
            asked.append(f"{name}:{request.owner.username}:{request.queued}")
            return refusal

        return check

    open_gate = make_service(rules=[rule("budget", None), rule("bots", None)])
    assert open_gate.admit(ANN) == Admission("ann")
    assert asked == ["budget:ann:False", "bots:ann:False"]

    asked.clear()
    refusing = make_service(
        rules=[rule("budget", "Not sent: budget."), rule("bots", "Not sent: bot.")]
    )
    with pytest.raises(AnswerRefused) as refused:
        refusing.admit(ANN, queued=True)
    assert refused.value.reason == "Not sent: budget."
    assert asked == ["budget:ann:True"]  # later rules are not asked: one refusal, recorded once


def test_a_ticket_is_for_the_member_it_was_given_to(
    make_service: Callable[..., AnswerService], store: ConversationStore
) -> None:
    service = make_service()
    bob = Member("bob", 43)
    cid = store.create_conversation(bob, "omni", "Omni").id
    with pytest.raises(ValueError, match="another member"):
        service.submit(bob, cid, "Hello?", admission=service.admit(ANN))
    assert store.all_messages(bob, cid) == []


# -- every way of starting, with the budget used up ------------------------------------


def refusals(store: ConversationStore) -> int:
    return len(AuditLog(store.engine).entries(kinds=[BUDGET_REFUSAL]))


@pytest.mark.parametrize(
    "way",
    [
        "send",
        "retry",
        "regenerate",
        "edit",
        "answer it",
        "send queued now",
        "compare",
        "compare follow-up",
        "compare retry",
    ],
)
def test_every_way_of_starting_an_answer_is_refused_once_the_budget_is_used_up(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    test_token: str,
    way: str,
) -> None:
    with AbltClient(bearer_token=test_token, base_url=emulator.base_url) as api:
        gate = BudgetGate(store, api, base_url=emulator.base_url, cache=FigureCache())
        service = make_service(rules=[gate])
        start = ways(service, store, emulator)[way]
        BudgetBook(store.engine).set_member_limit(ANN.username, 0, "tokens", actor="admin")
        before, asked, refused_before = saved(store), len(chat_requests(emulator)), refusals(store)

        with pytest.raises(AnswerRefused) as refused:
            start()

    reason = refused.value.reason
    assert reason.startswith("Not sent: you have used this month's budget"), reason
    expected_end = KEPT_QUEUED if way == "send queued now" else KEPT_IN_BOX
    assert reason.endswith(expected_end)
    assert saved(store) == before  # no prompt, version, branch, column or answer row
    assert len(chat_requests(emulator)) == asked  # nothing reached the API
    assert refusals(store) == refused_before + 1  # in the audit log, once


def test_queued_prompts_are_held_by_the_same_gate(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    test_token: str,
) -> None:
    """The worker starts a queued prompt on its own: it asks the service's gate
    too, and the prompt stays queued, unsent."""
    cy = Member("cy", next(_USER_IDS))  # no usage yet this month
    book = BudgetBook(store.engine)
    with AbltClient(bearer_token=test_token, base_url=emulator.base_url) as api:
        gate = BudgetGate(store, api, base_url=emulator.base_url, cache=FigureCache(ttl=3600))
        service = make_service(rules=[gate])
        cid = store.create_conversation(cy, "omni", "Omni").id
        for prompt in ("First?", "Second?"):
            store.enqueue_prompt(cy, cid, prompt)
        book.set_member_limit(cy.username, 1, "words", actor="admin")  # the first uses it up
        first = service.start(cy, cid)
        finished(service, first)
        until(lambda: refusals(store) == 1)
    assert [r.json["messages"][-1]["content"] for r in chat_requests(emulator)] == ["First?"]
    assert [q.text for q in store.queued_prompts(cy, cid)] == ["Second?"]
    assert list(store.generating(cy, cid)) == []


def test_a_change_made_without_asking_first_still_starts_no_answer(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    test_token: str,
) -> None:
    """`start` without a ticket asks the gate itself: a new way of starting an
    answer that forgets to ask cannot send anything past a used-up budget."""
    with AbltClient(bearer_token=test_token, base_url=emulator.base_url) as api:
        service = make_service(rules=[BudgetGate(store, api, cache=FigureCache())])
        cid = answered(service, store, "Name a colour")
        BudgetBook(store.engine).set_member_limit(ANN.username, 0, "tokens", actor="admin")
        asked = len(chat_requests(emulator))
        changes.prepare_regenerate(store, ANN, chat.open_conversation(store, ANN, cid))
        with pytest.raises(AnswerRefused):
            service.start(ANN, cid)
    assert len(chat_requests(emulator)) == asked
    assert store.all_messages(ANN, cid)[-1].role == "user"  # no answer row was claimed
