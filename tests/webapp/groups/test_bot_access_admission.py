# ruff: noqa: F811  (the answer-service fixtures are imported from answer_helpers)
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

import pytest

from ablt_core.emulator import EmulatorHandle
from tests.webapp.answer_helpers import (  # noqa: F401  (fixtures)
    ANN,
    SAVED_TABLES,
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
from webapp.answers import AnswerRefused, AnswerService
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.groups import store as groups
from webapp.groups.admission import KEPT_IN_BOX, KEPT_QUEUED, BotAccessRule
from webapp.team.members import MemberStore

assert "messages" in SAVED_TABLES


def forbid_all_but(store: ConversationStore, *allowed: str) -> None:
    """ANN (in no group) may use only `allowed` from now on."""
    groups.set_team_bots(store.engine, False, allowed, actor="admin")


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


def test_a_ticket_admitted_for_one_bot_starts_nothing_in_another_bots_conversation(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    """The recheck trusts the admission only for the bots it found allowed."""
    forbid_all_but(store, "writer")
    service = make_service(rules=[BotAccessRule(store)])
    cid = store.create_conversation(ANN, "omni", "Omni").id
    admission = service.admit(ANN, bots=("writer",))  # allowed, but not this chat's bot
    asked, before = len(chat_requests(emulator)), saved(store)
    with pytest.raises(AnswerRefused):
        service.submit(ANN, cid, "Hello?", admission=admission)
    assert len(chat_requests(emulator)) == asked and saved(store) == before


def test_a_bot_forbidden_between_the_admission_and_the_start_starts_nothing(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    service = make_service(rules=[BotAccessRule(store)])
    cid = store.create_conversation(ANN, "omni", "Omni").id
    admission = service.admit(ANN, bots=("omni",))  # allowed now
    forbid_all_but(store, "writer")  # an admin, a moment later, in this process
    asked, before = len(chat_requests(emulator)), saved(store)
    with pytest.raises(AnswerRefused):
        service.submit(ANN, cid, "Hello?", admission=admission)
    assert len(chat_requests(emulator)) == asked and saved(store) == before

    allowed = service.admit(ANN, bots=("writer",))
    writer = store.create_conversation(ANN, "writer", "Writer").id
    assert service.submit(ANN, writer, "Hello?", admission=allowed).answer_id is not None


def test_a_member_who_may_use_every_bot_is_not_asked_again_which_bot_answers(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    """The send reads its conversation once (locked, to save the prompt): the
    recheck trusts an admission of a moment ago that found every bot allowed."""
    import sqlalchemy as sa

    service = make_service(rules=[BotAccessRule(store)])
    cid = store.create_conversation(ANN, "omni", "Omni").id
    admission = service.admit(ANN, bots=("omni",))
    reads: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM conversations" in statement:
            reads.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        sent = service.submit(ANN, cid, "Hello?", admission=admission)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
    assert sent.answer_id is not None
    assert len(reads) == 1
    finished(service, sent.answer_id)
