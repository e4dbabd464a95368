# ruff: noqa: F811  (the answer-service fixtures are imported from test_answers)
"""Bot access for the member's groups is decided where answers are admitted
(issue 22): every way of starting an answer from a bot the member may not use
is refused with a plain sentence, before anything is saved and before
anything reaches the API.

The real `AnswerService` with the real `BotAccessRule` (as `webapp.backend`
wires it, before the budget's gate), against the emulator over loopback and
a real database (SQLite, and PostgreSQL when ABLT_TEST_PG_URL is set).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ablt_core.emulator import EmulatorHandle, Fault
from tests.webapp.answers.test_admission import SAVED_TABLES, answered, failed, saved
from tests.webapp.answers.test_answers import (  # noqa: F401  (fixtures)
    ANN,
    chat_requests,
    db_url,
    finished,
    make_service,
    store,
    until,
)
from webapp.answers import AnswerRefused, AnswerService
from webapp.chat import changes, versions
from webapp.chat import open_chat as chat
from webapp.compare import Comparisons, run
from webapp.conversations.context import ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.conversations.transcripts import export_json
from webapp.groups import store as groups
from webapp.groups.admission import KEPT_IN_BOX, KEPT_QUEUED, BotAccessRule
from webapp.sharing import ShareLinks
from webapp.team.members import MemberStore

TWO = [("omni", "Omni"), ("chef", "Chef")]
assert "messages" in SAVED_TABLES


def forbid_all_but(store: ConversationStore, *allowed: str) -> None:
    """ANN (in no group) may use only `allowed` from now on."""
    groups.set_team_bots(store.engine, False, allowed, actor="admin")


def ways(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> dict[str, Callable[[], Any]]:
    """Each way of starting an answer, set up while every bot is allowed, to be
    tried once Omni and Chef are not. Retry, Regenerate and Edit ask for the
    ticket with the chat's bot before their change, as the chat page does."""
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
    opened = chat.open_conversation(store, ANN, sent)
    exported = export_json(opened.conversation, store.all_messages(ANN, sent))
    link = ShareLinks(store).share(ANN, sent)

    def then_answer(cid: str, change: Callable[[chat.OpenChat], None]) -> None:
        opened = chat.open_conversation(store, ANN, cid)
        admission = service.admit(ANN, bots=(opened.conversation.bot_slug,))
        change(opened)
        service.start(ANN, cid, admission=admission)

    def edit(opened: chat.OpenChat) -> None:
        prompt = chat.last_prompt(opened)
        assert prompt is not None
        versions.edit_prompt(store, ANN, opened, prompt.id, "Name a fruit")

    def new_chat() -> None:
        # A crafted widget event: a new chat of a bot the picker does not offer.
        service.admit(ANN, bots=("omni",))

    def imported() -> None:
        cid = store.import_conversation(ANN, exported).id
        service.submit(ANN, cid, "Go on?")

    def copied_share() -> None:
        cid = ShareLinks(store).copy_into(ANN, link.token).id
        service.submit(ANN, cid, "Go on?")

    return {
        "send": lambda: service.submit(ANN, sent, "And another?"),
        "new chat": new_chat,
        "retry": lambda: then_answer(retry, lambda o: changes.prepare_retry(store, ANN, o)),
        "regenerate": lambda: then_answer(
            sent, lambda o: changes.prepare_regenerate(store, ANN, o)
        ),
        "edit": lambda: then_answer(sent, edit),
        "answer it": lambda: service.start(ANN, unanswered),
        "send queued now": lambda: service.start(
            ANN, typed_ahead, admission=service.admit(ANN, queued=True)
        ),
        "imported": imported,
        "copied share": copied_share,
        "compare": lambda: run.start(comparisons, service, ANN, TWO, options, "Bread?"),
        "compare follow-up": lambda: run.send(
            service, ANN, comparisons.get(ANN, comparison.id), "And cheese?"
        ),
        "compare retry": lambda: run.retry(service, ANN, column),
    }


WAYS = [
    "send",
    "new chat",
    "retry",
    "regenerate",
    "edit",
    "answer it",
    "send queued now",
    "imported",
    "copied share",
    "compare",
    "compare follow-up",
    "compare retry",
]


@pytest.mark.parametrize("way", WAYS)
def test_every_way_of_starting_an_answer_from_a_forbidden_bot_is_refused(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    way: str,
) -> None:
    service = make_service(rules=[BotAccessRule(store)])
    start = ways(service, store, emulator)[way]
    forbid_all_but(store, "writer")
    changed_by_setup = way in ("imported", "copied share")  # the copy itself is allowed
    before, asked = saved(store), len(chat_requests(emulator))

    with pytest.raises(AnswerRefused) as refused:
        start()

    reason = refused.value.reason
    assert reason.startswith("Not sent: Members in no group may not use "), reason
    expected_end = KEPT_QUEUED if way == "send queued now" else KEPT_IN_BOX
    assert reason.endswith(expected_end)
    if not changed_by_setup:
        assert saved(store) == before  # no prompt, version, branch, column or answer row
    assert len(chat_requests(emulator)) == asked  # nothing reached the API


def test_a_queued_prompt_is_held_back_when_the_bot_is_forbidden_meanwhile(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    """The worker starts a queued prompt on its own: the rule holds it back."""
    emulator.set_delay(0.05)
    service = make_service(rules=[BotAccessRule(store)])
    cid = store.create_conversation(ANN, "omni", "Omni").id
    first = service.submit(ANN, cid, "A long first answer?").answer_id
    store.enqueue_prompt(ANN, cid, "Second?")
    forbid_all_but(store)  # no bot at all for members in no group
    finished(service, first)
    until(lambda: store.all_messages(ANN, cid)[-2].status != AnswerStatus.STREAMING)
    assert [r.json["messages"][-1]["content"] for r in chat_requests(emulator)] == [
        "A long first answer?"
    ]
    assert [q.text for q in store.queued_prompts(ANN, cid)] == ["Second?"]


def test_a_ticket_asked_without_the_bot_starts_nothing_forbidden(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    """A way of starting that forgets to name the bot: `start` asks the rule
    again with the conversation (`Rechecking`)."""
    service = make_service(rules=[BotAccessRule(store)])
    cid = answered(service, store, "Name a colour")
    forbid_all_but(store, "writer")
    admission = service.admit(ANN)  # nothing named: nothing to refuse yet
    asked, before = len(chat_requests(emulator)), saved(store)
    with pytest.raises(AnswerRefused):
        service.submit(ANN, cid, "More?", admission=admission)
    assert len(chat_requests(emulator)) == asked and saved(store) == before


def test_a_group_allowing_the_bot_lets_the_answer_start(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    MemberStore(store.engine).add(
        ANN.username, name="Ann", email="ann@example.com", password="correct horse battery"
    )
    forbid_all_but(store)  # members in no group: no bot
    service = make_service(rules=[BotAccessRule(store)])
    cid = store.create_conversation(ANN, "omni", "Omni").id
    with pytest.raises(AnswerRefused):
        service.submit(ANN, cid, "Hello?")
    cooks = groups.create_group(store.engine, "Cooks", actor="admin")
    groups.set_group_bots(store.engine, cooks.id, False, ["chef"], actor="admin")
    groups.add_member(store.engine, cooks.id, ANN.username, actor="admin")
    with pytest.raises(AnswerRefused) as refused:
        service.submit(ANN, cid, "Hello?")
    assert "None of your groups may use Omni" in refused.value.reason
    chef = store.create_conversation(ANN, "chef", "Chef").id
    finished(service, service.submit(ANN, chef, "Soup?").answer_id)
    assert store.all_messages(ANN, chef)[-1].status == AnswerStatus.COMPLETE
    # The refused conversation is still there, readable.
    assert store.get_conversation(ANN, cid).bot_slug == "omni"
