# ruff: noqa: F811  (the store fixtures are imported from test_answers)
"""Feedback on answers in a real database (SQLite, and PostgreSQL when set):
one per member per answer version, changeable, the author's own, and the
Satisfaction aggregates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.webapp.answers.test_answers import ANN, Member, db_url, store  # noqa: F401
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore, MessageNotFound
from webapp.feedback import stats
from webapp.feedback.store import Feedback, FeedbackStore

BOB = Member("bob", 43)


def answered(store: ConversationStore, owner: Member, slug: str = "omni") -> tuple[str, str]:
    """(conversation id, answer id) of a new chat with one complete answer."""
    conv = store.create_conversation(owner, slug, slug.title())
    store.append_message(owner, conv.id, "user", "Hi")
    answer = store.append_message(owner, conv.id, "assistant", "Hello")
    return conv.id, answer.id


def test_one_feedback_per_member_per_answer_changeable_and_their_own(
    store: ConversationStore,
) -> None:
    feedback = FeedbackStore(store)
    _, answer = answered(store, ANN)
    given = feedback.give(ANN, answer, False, ["too long", "nonsense", "wrong"], "  Too long  ")
    assert (given.thumbs_up, given.reasons, given.comment) == (
        False,
        ("wrong", "too long"),
        "Too long",
    )
    assert (given.bot_slug, given.bot_name) == ("omni", "Omni")
    # Replayed or changed: still one row, the latest choice.
    feedback.give(ANN, answer, True)
    feedback.give(ANN, answer, True)
    assert len(feedback.all()) == 1
    assert feedback.mine(ANN, [answer])[answer].thumbs_up is True
    # Another member neither sees it nor can rate an answer that is not theirs.
    assert feedback.mine(BOB, [answer]) == {}
    with pytest.raises(MessageNotFound):
        feedback.give(BOB, answer, True)
    assert feedback.clear(ANN, answer) and feedback.mine(ANN, [answer]) == {}
    assert not feedback.clear(ANN, answer)


def test_each_answer_version_keeps_its_own_feedback(store: ConversationStore) -> None:
    feedback = FeedbackStore(store)
    conv, first = answered(store, ANN)
    feedback.give(ANN, first, False, ["wrong"])
    store.shelve_from(ANN, conv, 1)  # a Regenerate keeps the old answer as a version
    second = store.append_message(ANN, conv, "assistant", "Hello again").id
    feedback.give(ANN, second, True)
    assert {k: v.thumbs_up for k, v in feedback.mine(ANN, [first, second]).items()} == {
        first: False,
        second: True,
    }
    feedback.give(ANN, first, False, ["off topic"])  # the kept version can still be rated
    assert feedback.mine(ANN, [first])[first].reasons == ("off topic",)


def test_prompts_and_answers_being_written_take_no_feedback(store: ConversationStore) -> None:
    feedback = FeedbackStore(store)
    conv = store.create_conversation(ANN, "omni", "Omni")
    prompt = store.append_message(ANN, conv.id, "user", "Hi")
    streaming = store.append_message(ANN, conv.id, "assistant", "He", AnswerStatus.STREAMING)
    for message_id in (prompt.id, streaming.id, "no-such-id"):
        with pytest.raises(MessageNotFound):
            feedback.give(ANN, message_id, True)


def _row(slug: str, up: bool, user: str, day: int, reasons: tuple[str, ...] = ()) -> Feedback:
    return Feedback(
        message_id=f"{slug}-{user}-{day}",
        thumbs_up=up,
        reasons=reasons,
        username=user,
        bot_slug=slug,
        bot_name=slug.title(),
        updated_at=datetime(2026, 11, day, 12, tzinfo=UTC),
    )


def test_satisfaction_per_bot_per_week_per_member_and_reasons() -> None:
    rows = [
        _row("omni", True, "ann", 2),  # Monday 2 Nov
        _row("omni", False, "bob", 3, ("wrong", "too long")),
        _row("omni", True, "bob", 10),  # the next week
        _row("chef", False, "ann", 4, ("off topic",)),
    ]
    by_bot = stats.per_bot(rows)
    assert by_bot.to_dict("records") == [
        {"Bot": "Omni", "Rated": 3, "Thumbs up": 2, "Thumbs down": 1, "Share up": 2 / 3},
        {"Bot": "Chef", "Rated": 1, "Thumbs up": 0, "Thumbs down": 1, "Share up": 0.0},
    ]
    weeks = stats.weekly(rows)
    omni = weeks[weeks["Bot"] == "Omni"]
    assert [str(w) for w in omni["Week"]] == ["2026-11-02", "2026-11-09"]
    assert list(omni["Share up"]) == [0.5, 1.0]
    members = {r["Member"]: r["Share up"] for r in stats.per_member(rows).to_dict("records")}
    assert members == {"ann": 0.5, "bob": 0.5}
    reasons = stats.reasons(rows).set_index("Bot")
    assert reasons.loc["Omni", "wrong"] == 1 and reasons.loc["Chef", "off topic"] == 1
    assert stats.per_bot([]).empty
    # The CSV is neutralised like every CSV the app writes.
    evil = [_row("=cmd", True, "ann", 2)]
    assert b"'=Cmd" in stats.csv_bytes(stats.per_bot(evil))


def test_satisfaction_per_group_counts_its_members_feedback_and_goes_in_the_csv() -> None:
    rows = [
        _row("omni", True, "ann", 2),
        _row("omni", False, "bob", 3),
        _row("chef", True, "bob", 4),
        _row("chef", True, "cy", 5),  # cy is in no group
    ]
    by_group = stats.per_group(
        rows, {"Cooks": {"ann", "bob"}, "Sales": {"ann"}, "Quiet": {"dee"}}
    ).to_dict("records")
    # Best share first; a member in two groups counts in both; a group whose
    # members gave no feedback shows 0 rated and no share, last.
    assert [g["Group"] for g in by_group] == ["Sales", "Cooks", "Quiet"]
    assert {k: by_group[0][k] for k in ("Members", "Rated", "Thumbs up", "Share up")} == {
        "Members": 1,
        "Rated": 1,
        "Thumbs up": 1,
        "Share up": 1.0,
    }
    cooks = by_group[1]
    assert (cooks["Rated"], cooks["Thumbs up"], cooks["Thumbs down"]) == (3, 2, 1)
    assert cooks["Share up"] == 2 / 3
    assert (by_group[2]["Rated"], by_group[2]["Thumbs up"]) == (0, 0)
    assert by_group[2]["Share up"] != by_group[2]["Share up"]  # NaN: no share without feedback
    assert stats.per_group(rows, {}).empty

    table = stats.csv_table(
        stats.per_bot(rows),
        stats.per_member(rows),
        stats.per_group(rows, {"Cooks": {"ann", "bob"}}),
    )
    assert list(table.columns) == ["Per", "Name", "Rated", "Thumbs up", "Thumbs down", "Share up"]
    assert [(r["Per"], r["Name"]) for r in table.to_dict("records")] == [
        ("bot", "Chef"),
        ("bot", "Omni"),
        ("member", "ann"),
        ("member", "cy"),
        ("member", "bob"),
        ("group", "Cooks"),
    ]
    text = stats.csv_bytes(table).decode()
    assert "group,Cooks,3,2,1," in text
    # A member sees the per-bot rows only.
    assert set(stats.csv_table(stats.per_bot(rows))["Per"]) == {"bot"}
