# ruff: noqa: F811  (the answer-service fixtures are imported from answer_helpers)
"""Comparisons run through the background answers, against the emulator and a
real database: every column at once, its own context, its own failure."""

from __future__ import annotations

from ablt_core.emulator import EmulatorHandle, Fault
from tests.webapp.answer_helpers import (  # noqa: F401  (fixtures)
    ANN,
    db_url,
    make_service,
    service,
    store,
    until,
)
from webapp.answers import AnswerService
from webapp.compare import Comparisons, run
from webapp.conversations.context import ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore

THREE = [("omni", "Omni"), ("chef", "Chef"), ("code-mentor", "Code Mentor")]


def _answers(store: ConversationStore, comparison_id: str) -> dict[str, list[str]]:
    """bot slug -> its column's messages' texts."""
    comparison = Comparisons(store).get(ANN, comparison_id)
    return {c.bot_slug: [m.text for m in store.all_messages(ANN, c.id)] for c in comparison.columns}


def _settled(service: AnswerService, store: ConversationStore, comparison_id: str) -> bool:
    comparison = Comparisons(store).get(ANN, comparison_id)
    return not run.streaming_answers(service, ANN, comparison) and all(
        store.all_messages(ANN, c.id)[-1].role == "assistant" for c in comparison.columns
    )


def test_three_bots_answer_at_once_each_quoting_the_prompt(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.set_delay(0.02)  # ~100 words: a couple of seconds per answer
    options = [ConversationOptions()] * 3
    comparison = run.start(Comparisons(store), service, ANN, THREE, options, "Pasta tonight?")
    ids = run.streaming_answers(service, ANN, comparison)
    assert len(ids) == 3
    lives = [service.live(i) for i in ids]
    until(lambda: all(live is not None and live.done for live in lives))
    firsts = [live.first_text_at for live in lives if live is not None]
    ends = [live.ended_at for live in lives if live is not None]
    assert None not in firsts and None not in ends
    # At the same time: every column had its first words before any had finished.
    assert max(firsts) < min(ends)  # type: ignore[type-var]
    texts = _answers(store, comparison.id)
    assert all("\u201cPasta tonight?\u201d" in t[-1] for t in texts.values())
    assert len({t[-1] for t in texts.values()}) == 3, "each in its own voice"
    assert Comparisons(store).get(ANN, comparison.id).conversation.title == "Pasta tonight?"


def test_a_follow_up_goes_to_every_bot_with_its_own_context(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    options = [ConversationOptions()] * 3
    comparison = run.start(Comparisons(store), service, ANN, THREE, options, "Name a dish")
    until(lambda: _settled(service, store, comparison.id))
    first = _answers(store, comparison.id)
    emulator.clear_requests()

    run.send(service, ANN, comparison, "And a dessert?")
    until(lambda: _settled(service, store, comparison.id))
    sent = {r.json["bot_slug"]: r.json["messages"] for r in emulator.requests if r.json}
    assert set(sent) == {"omni", "chef", "code-mentor"}
    for slug, messages in sent.items():
        assert [m["content"] for m in messages] == [*first[slug], "And a dessert?"]


def test_one_failing_bot_leaves_the_others_complete_and_retries_alone(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="server_error", status=503, bot="chef", times=None))
    options = [ConversationOptions()] * 3
    comparison = run.start(Comparisons(store), service, ANN, THREE, options, "Soup?")
    until(lambda: _settled(service, store, comparison.id))
    status = {c.bot_slug: store.all_messages(ANN, c.id)[-1].status for c in comparison.columns}
    assert status == {
        "omni": AnswerStatus.COMPLETE,
        "chef": AnswerStatus.ERROR,
        "code-mentor": AnswerStatus.COMPLETE,
    }

    emulator.clear_faults()
    chef = next(c for c in comparison.columns if c.bot_slug == "chef")
    assert run.retry(service, ANN, chef.id) is not None
    until(lambda: _settled(service, store, comparison.id))
    assert store.all_messages(ANN, chef.id)[-1].status == AnswerStatus.COMPLETE
    assert len(store.all_messages(ANN, chef.id)) == 2, "the failed answer made way"


def test_stop_all_stops_every_column_keeping_what_arrived(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.set_delay(0.05)
    options = [ConversationOptions()] * 2
    comparison = run.start(Comparisons(store), service, ANN, THREE[:2], options, "Long story?")
    ids = run.streaming_answers(service, ANN, comparison)
    until(lambda: all((live := service.live(i)) is not None and live.text for i in ids))
    assert run.stop_all(service, ANN, comparison) == 2
    until(lambda: _settled(service, store, comparison.id))
    for column in comparison.columns:
        last = store.all_messages(ANN, column.id)[-1]
        assert last.status == AnswerStatus.STOPPED and last.text
