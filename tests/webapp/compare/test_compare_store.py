"""Comparisons in the store, on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pg import BACKENDS, store_on
from webapp.compare import COMPARISON_FORMAT, Comparisons
from webapp.conversations.context import ConversationOptions, parse_import
from webapp.conversations.store import ConversationNotFound, ConversationStore


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


ANN = Member("ann", 1)
BOB = Member("bob", 2)
THREE = [("omni", "Omni"), ("chef", "Chef"), ("coder", "Coder")]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "cmp") as opened:
        yield opened


@pytest.fixture
def comparisons(store: ConversationStore) -> Comparisons:
    return Comparisons(store)


def _options(n: int) -> list[ConversationOptions]:
    return [ConversationOptions(max_words=100 + i) for i in range(n)]


def test_a_comparison_keeps_its_columns_in_order_each_with_its_own_options(
    comparisons: Comparisons,
) -> None:
    made = comparisons.create(ANN, THREE, _options(3))
    again = comparisons.get(ANN, made.id)
    assert [c.bot_slug for c in again.columns] == ["omni", "chef", "coder"]
    assert [c.options.max_words for c in again.columns] == [100, 101, 102]
    assert again.conversation.is_comparison
    assert all(c.parent_id == made.id for c in again.columns)


@pytest.mark.parametrize(
    "bots",
    [THREE[:1], [*THREE, ("a", "A"), ("b", "B")], [("omni", "Omni"), ("omni", "Omni")]],
    ids=["one bot", "five bots", "a bot twice"],
)
def test_only_two_to_four_distinct_bots_make_a_comparison(
    comparisons: Comparisons, store: ConversationStore, bots: list[tuple[str, str]]
) -> None:
    with pytest.raises(ValueError):
        comparisons.create(ANN, bots, _options(len(bots)))
    assert store.list_conversations(ANN) == []


def test_history_lists_the_comparison_once_and_deleting_it_deletes_its_columns(
    comparisons: Comparisons, store: ConversationStore
) -> None:
    made = comparisons.create(ANN, THREE[:2], _options(2))
    for column in made.columns:
        store.append_message(ANN, column.id, "user", "Pasta tonight?")
        store.append_message(ANN, column.id, "assistant", f"{column.bot_name} says yes")
    comparisons.name_after_prompt(ANN, made.id, "Pasta tonight?")
    plain = store.create_conversation(ANN, "omni", "Omni")

    listed = store.list_conversations(ANN)
    assert {c.id for c in listed} == {made.id, plain.id}
    assert next(c for c in listed if c.id == made.id).title == "Pasta tonight?"
    assert [c.id for c in store.list_conversations(ANN, "says yes")] == [], (
        "a column's text is not a chat of its own"
    )

    store.delete_conversation(ANN, made.id)
    for column in made.columns:
        with pytest.raises(ConversationNotFound):
            store.get_conversation(ANN, column.id)
    assert [c.id for c in store.list_conversations(ANN)] == [plain.id]


def test_another_member_cannot_open_vote_or_continue_a_comparison(
    comparisons: Comparisons, store: ConversationStore
) -> None:
    made = comparisons.create(ANN, THREE[:2], _options(2))
    with pytest.raises(ConversationNotFound):
        comparisons.get(BOB, made.id)
    with pytest.raises(ConversationNotFound):
        comparisons.vote(BOB, made.id, made.columns[0].id)
    with pytest.raises(ConversationNotFound):
        comparisons.continue_with(BOB, made.id, made.columns[0].id)
    with pytest.raises(ConversationNotFound):
        comparisons.get(ANN, made.columns[0].id)  # a column is no comparison
    with pytest.raises(ConversationNotFound):
        store.create_conversation(BOB, "omni", "Omni", kind="column", parent_id=made.id)


def test_the_vote_is_kept_and_continue_copies_that_column_into_a_chat(
    comparisons: Comparisons, store: ConversationStore
) -> None:
    made = comparisons.create(ANN, THREE, _options(3))
    chef = made.columns[1]
    store.append_message(ANN, chef.id, "user", "Risotto?")
    store.append_message(ANN, chef.id, "assistant", "Stir slowly.")
    comparisons.vote(ANN, made.id, chef.id)
    voted = comparisons.get(ANN, made.id).voted  # read back: kept in the database
    assert voted is not None and voted.id == chef.id
    with pytest.raises(ConversationNotFound):
        comparisons.vote(ANN, made.id, "not-a-column")

    chat = comparisons.continue_with(ANN, made.id, chef.id)
    assert chat.kind == "chat" and chat.parent_id is None and chat.bot_slug == "chef"
    assert chat.options.max_words == 101
    assert [m.text for m in store.all_messages(ANN, chat.id)] == ["Risotto?", "Stir slowly."]
    store.append_message(ANN, chat.id, "user", "And wine?")
    assert len(store.all_messages(ANN, chef.id)) == 2, "the comparison stays whole"


def test_exports_have_a_section_per_column_and_each_json_column_imports_as_a_chat(
    comparisons: Comparisons, store: ConversationStore
) -> None:
    made = comparisons.create(ANN, THREE[:2], _options(2))
    for column in made.columns:
        store.append_message(ANN, column.id, "user", "Name a pasta")
        store.append_message(ANN, column.id, "assistant", f"{column.bot_name}: carbonara")
    comparisons.vote(ANN, made.id, made.columns[0].id)

    markdown = comparisons.export_markdown(ANN, made.id)
    assert "Column 1 of 2: Omni" in markdown and "Column 2 of 2: Chef" in markdown
    assert markdown.index("Omni: carbonara") < markdown.index("Chef: carbonara")
    assert "Best answer (vote): Omni" in markdown

    data = json.loads(comparisons.export_json(ANN, made.id))
    assert data["format"] == COMPARISON_FORMAT and data["voted_bot_slug"] == "omni"
    assert [parse_import(c).conversation.bot_slug for c in data["columns"]] == ["omni", "chef"]
