# ruff: noqa: F811  (the answer-service fixtures are imported from test_answers)
"""Arena battles through the background answers, against the emulator and a
real database: both bots at once, the vote refused before both end, one vote
per battle, pairs drawn so every pair battles, names masked."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest

from ablt_core.emulator import EmulatorHandle
from tests.reliability import row
from tests.webapp.answers.test_answers import (  # noqa: F401  (fixtures)
    ANN,
    db_url,
    make_service,
    service,
    store,
    until,
)
from webapp.answers import AnswerRefused, AnswerService
from webapp.arena import blind, run
from webapp.arena.blind import Contender
from webapp.arena.store import AlreadyVoted, Arena, NotFinished
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.groups import store as groups
from webapp.groups.admission import BotAccessRule

OMNI = Contender("omni", "Omni")
CHEF = Contender("chef", "Chef Remy")
CODER = Contender("code-mentor", "Ada the Code Mentor")


def _ended(arena: Arena, battle_id: str) -> bool:
    battle = arena.get(ANN, battle_id)
    return all(run.answer_ended(m) for m in arena.answers(ANN, battle))


def test_a_battle_streams_both_refuses_an_early_vote_then_takes_one_vote(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    arena = Arena(store)
    emulator.set_delay(0.02)
    battle = run.start(arena, service, ANN, [OMNI, CHEF], "Pasta tonight, Omni?")
    assert {b.slug for b in battle.bots} == {"omni", "chef"}
    with pytest.raises(NotFinished):
        run.vote(arena, ANN, battle.id, "a")
    assert not arena.get(ANN, battle.id).revealed
    until(lambda: _ended(arena, battle.id))
    emulator.set_delay(0)
    assert run.both_complete(arena, ANN, battle)
    voted = run.vote(arena, ANN, battle.id, "tie")
    assert voted.revealed and voted.outcome == "tie"
    # A replayed click, or another tab: the first vote stands.
    with pytest.raises(AlreadyVoted):
        run.vote(arena, ANN, battle.id, "a")
    with pytest.raises(AlreadyVoted):
        arena.vote(ANN, battle.id, "b", complete=True)  # past the read: the UNIQUE row
    assert [v.outcome for v in arena.votes()] == ["tie"]
    # The battle is not in the History (its bots are blind), its answers are not either.
    assert store.list_conversations(ANN) == []


@row(
    "Two tabs vote on one arena battle (or a vote click is replayed)",
    happens="Both pass the page's check; the database's UNIQUE (battle, voter) takes the first.",
    sees="The first vote and the names; the second gets 'a vote cannot change'.",
    kept="Exactly one vote, the first, in the leaderboard.",
)
def test_the_database_refuses_a_second_vote_that_passed_every_check(
    service: AnswerService, store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    arena = Arena(store)
    battle = arena.create(ANN, (OMNI, CHEF), "Hi")
    arena.vote(ANN, battle.id, "a", complete=True)
    unvoted = arena.get(ANN, battle.id)
    # Two tabs read the battle before either voted: the second insert is refused.
    monkeypatch.setattr(arena, "get", lambda owner, bid: replace(unvoted, outcome=None))
    with pytest.raises(AlreadyVoted):
        arena.vote(ANN, battle.id, "b", complete=True)
    monkeypatch.undo()
    assert arena.get(ANN, battle.id).outcome == "a"


def test_a_stopped_answer_cannot_be_voted_on_and_continue_makes_a_normal_chat(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    arena = Arena(store)
    emulator.set_delay(0.05)
    battle = run.start(arena, service, ANN, [OMNI, CHEF], "Tell me a long story")
    until(lambda: all(m is not None for m in arena.answers(ANN, battle)))
    assert run.stop_all(arena, service, ANN, battle) >= 1
    until(lambda: _ended(arena, battle.id))
    emulator.set_delay(0)
    assert not run.both_complete(arena, ANN, battle)
    with pytest.raises(NotFinished):
        run.vote(arena, ANN, battle.id, "bad")
    with pytest.raises(NotFinished):
        arena.continue_with(ANN, battle.id, 0)  # names are still hidden
    for side in (0, 1):
        run.retry(arena, service, ANN, battle, side)
    until(lambda: _ended(arena, battle.id))
    assert run.both_complete(arena, ANN, battle)
    run.vote(arena, ANN, battle.id, "b")
    chat = arena.continue_with(ANN, battle.id, 1)
    assert chat.kind == "chat" and chat.imported_at is None
    assert chat.bot_slug == battle.bot_b.slug
    messages = store.all_messages(ANN, chat.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].status == AnswerStatus.COMPLETE
    assert [c.id for c in store.list_conversations(ANN)] == [chat.id]


def test_pairs_are_drawn_so_every_pair_gets_battles() -> None:
    bots = [OMNI, CHEF, CODER, Contender("stoic-sage", "Marcus")]
    battles: Counter[tuple[str, str]] = Counter({blind.pair_key("omni", "chef"): 50})
    rng = random.Random(7)
    for _ in range(30):
        a, b = blind.draw_pair(bots, battles, rng)
        assert a.slug != b.slug
        battles[blind.pair_key(a.slug, b.slug)] += 1
    others = [n for pair, n in battles.items() if pair != ("chef", "omni")]
    assert len(others) == 5 and max(others) - min(others) <= 1  # spread evenly
    assert battles[("chef", "omni")] == 50  # the popular pair waits its turn
    sides = Counter(blind.draw_pair([OMNI, CHEF], {}, random.Random(s))[0].slug for s in range(40))
    assert set(sides) == {"omni", "chef"}  # either may be Bot A
    with pytest.raises(ValueError):
        blind.draw_pair([OMNI, OMNI], {})


def test_names_and_slugs_are_masked_whatever_their_case() -> None:
    pair = (CODER, OMNI)
    text = "I am ADA THE CODE MENTOR (code-mentor, or Code Mentor), not omni or OMNI."
    shown = blind.mask(text, pair)
    assert shown == "I am Bot A (Bot A, or Bot A), not Bot B or Bot B."
    # The text is masked whole on each redraw: a name split over pieces is found.
    pieces = ["Hi, I'm Om", "ni", " and you?"]
    so_far = ""
    for piece in pieces:
        so_far += piece
        assert "om" not in blind.mask(so_far, pair, streaming=True).lower()
    assert blind.mask(so_far, pair, streaming=True) == "Hi, I'm Bot B and you?"
    assert blind.mask("Hi, I'm Om", pair) == "Hi, I'm Om"  # ended: nothing held back


def test_the_arena_draws_only_from_the_bots_the_member_may_use(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    """Groups decide (issue 22): a forbidden bot is never drawn, even when the
    shortlist names it; a battle naming one anyway is refused before anything
    is saved or sent."""
    groups.set_team_bots(store.engine, False, ["omni", "code-mentor"], actor="admin")
    allows = groups.access_for(store.engine, ANN.username).allows
    catalogue = [OMNI, CHEF, CODER]
    assert blind.eligible(catalogue, allows) == [OMNI, CODER]
    # A crafted shortlist naming the forbidden bot: only the allowed two remain.
    assert blind.eligible(catalogue, allows, ["chef", "omni", "code-mentor"]) == [OMNI, CODER]
    # A shortlist of one allowed bot (the other forbidden) is too short: all allowed ones.
    assert blind.eligible(catalogue, allows, ["chef", "omni"]) == [OMNI, CODER]
    rng = random.Random(3)
    for _ in range(30):
        pair = blind.draw_pair(blind.eligible(catalogue, allows), {}, rng)
        assert "chef" not in {b.slug for b in pair}

    service = make_service(rules=[BotAccessRule(store)])
    arena = Arena(store)
    battle = run.start(arena, service, ANN, blind.eligible(catalogue, allows), "Soup?")
    assert {b.slug for b in battle.bots} == {"omni", "code-mentor"}
    until(lambda: _ended(arena, battle.id))
    asked = len([r for r in emulator.requests if r.path == "/v1/chat"])
    with pytest.raises(AnswerRefused) as refused:
        run.start(arena, service, ANN, [OMNI, CHEF], "Bread?")
    assert "Members in no group may not use chef" in refused.value.reason
    assert [b.id for b in arena.recent(ANN)] == [battle.id]  # no battle saved
    assert len([r for r in emulator.requests if r.path == "/v1/chat"]) == asked
