# ruff: noqa: F811  (the answer-service fixtures are imported from test_answers)
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
from typing import Any

import pytest
import sqlalchemy as sa

from ablt_core import AbltClient
from ablt_core.emulator import EmulatorHandle, Fault
from tests.webapp.answers.test_answers import (  # noqa: F401  (fixtures)
    ANN,
    Member,
    chat_requests,
    db_url,
    finished,
    make_service,
    store,
    until,
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
from webapp.chat import changes, versions
from webapp.chat import open_chat as chat
from webapp.compare import Comparisons, run
from webapp.conversations.context import ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.db import schema

TWO = [("omni", "Omni"), ("chef", "Chef")]
# User ids no seeded history and no other test uses (the emulator's ledger is shared).
_USER_IDS = itertools.count(8700 + (int(time.time()) % 1000) * 10)
SAVED_TABLES = ("conversations", "messages", "queued_prompts", "message_versions")


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


def saved(store: ConversationStore) -> dict[str, list[str]]:
    """Every row of the tables a started answer writes to (what "nothing saved" means).
    A conversation's `opened_at` is left out: opening it to retry is a look, not a save."""
    with store.engine.connect() as conn:
        tables = [schema.metadata.tables[name] for name in SAVED_TABLES]
        return {
            t.name: sorted(
                str(tuple(r))
                for r in conn.execute(sa.select(*(c for c in t.c if c.name != "opened_at")))
            )
            for t in tables
        }


def refusals(store: ConversationStore) -> int:
    return len(AuditLog(store.engine).entries(kinds=[BUDGET_REFUSAL]))


def answered(service: AnswerService, store: ConversationStore, prompt: str) -> str:
    """A conversation with one exchange, its answer complete."""
    cid = store.create_conversation(ANN, "omni", "Omni").id
    finished(service, service.submit(ANN, cid, prompt).answer_id)
    until(lambda: store.all_messages(ANN, cid)[-1].status == AnswerStatus.COMPLETE)
    return cid


def failed(service: AnswerService, store: ConversationStore, emulator: EmulatorHandle) -> str:
    """A conversation whose one answer failed (an empty answer: Retry is offered)."""
    emulator.inject(Fault(kind="empty_answer"))
    cid = store.create_conversation(ANN, "omni", "Omni").id
    finished(service, service.submit(ANN, cid, "Anything?").answer_id)
    until(lambda: store.all_messages(ANN, cid)[-1].status == AnswerStatus.ERROR)
    return cid


def ways(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> dict[str, Callable[[], Any]]:
    """Each way of starting an answer, set up while the budget allows it, to be
    tried once it is used up. Retry, Regenerate and Edit ask for the ticket
    before their change, as the chat page does (`webapp.chat.answer_view.answer_after`)."""
    sent = answered(service, store, "Name a colour")
    retry = failed(service, store, emulator)
    unanswered = store.create_conversation(ANN, "omni", "Omni").id
    store.append_message(ANN, unanswered, "user", "What is a fjord?")
    typed_ahead = store.create_conversation(ANN, "omni", "Omni").id
    store.enqueue_prompt(ANN, typed_ahead, "Queued: what is a tide?")
    comparisons = Comparisons(store)
    options = [ConversationOptions()] * 2
    comparison = run.start(comparisons, service, ANN, TWO, options, "Soup?")
    until(lambda: not run.streaming_answers(service, ANN, comparisons.get(ANN, comparison.id)))
    emulator.inject(Fault(kind="empty_answer"))
    column = comparisons.get(ANN, comparison.id).columns[0].id
    run.send(service, ANN, comparisons.get(ANN, comparison.id), "And bread?")
    until(lambda: not run.streaming_answers(service, ANN, comparisons.get(ANN, comparison.id)))

    def then_answer(cid: str, change: Callable[[chat.OpenChat], None]) -> None:
        admission = service.admit(ANN)
        opened = chat.open_conversation(store, ANN, cid)
        change(opened)
        service.start(ANN, cid, admission=admission)

    def edit(opened: chat.OpenChat) -> None:
        prompt = chat.last_prompt(opened)
        assert prompt is not None
        versions.edit_prompt(store, ANN, opened, prompt.id, "Name a fruit")

    return {
        "send": lambda: service.submit(ANN, sent, "And another?"),
        "retry": lambda: then_answer(retry, lambda o: changes.prepare_retry(store, ANN, o)),
        "regenerate": lambda: then_answer(
            sent, lambda o: changes.prepare_regenerate(store, ANN, o)
        ),
        "edit": lambda: then_answer(sent, edit),
        "answer it": lambda: service.start(ANN, unanswered),
        "send queued now": lambda: service.start(
            ANN, typed_ahead, admission=service.admit(ANN, queued=True)
        ),
        "compare": lambda: run.start(comparisons, service, ANN, TWO, options, "Bread?"),
        "compare follow-up": lambda: run.send(
            service, ANN, comparisons.get(ANN, comparison.id), "And cheese?"
        ),
        "compare retry": lambda: run.retry(service, ANN, column),
    }


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
