"""Budgets per group (issue 22): which limit binds when several apply.

The member's own limit first, then the lowest of their groups' limits, then
the team default; the member's budget line says which one it is. On a real
SQLite file and on PostgreSQL (ABLT_TEST_PG_URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import BACKENDS, store_on
from webapp.budgets import BudgetBook
from webapp.budgets.book import SOURCE_GROUP, SOURCE_MEMBER, SOURCE_TEAM, lowest_group_limit
from webapp.conversations.store import ConversationStore
from webapp.groups import store as groups
from webapp.team.members import MemberStore


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "group_budgets") as opened:
        MemberStore(opened.engine).add(
            "bea", name="Bea", email="bea@example.com", password="correct horse battery"
        )
        yield opened


def test_precedence_own_then_lowest_group_then_team_default(store: ConversationStore) -> None:
    engine = store.engine
    book = BudgetBook(engine)
    book.set_team_default(50_000, "words", actor="admin")
    assert book.limit_for("bea").source == SOURCE_TEAM
    assert book.limit_for("bea").origin == "the team default"

    sales = groups.create_group(engine, "Sales", actor="admin")
    ops = groups.create_group(engine, "Ops", actor="admin")
    for g in (sales, ops):
        groups.add_member(engine, g.id, "bea", actor="admin")
    assert book.limit_for("bea").source == SOURCE_TEAM  # no group has a limit yet

    groups.set_group_budget(engine, sales.id, 90_000, "words", actor="admin")
    limit = book.limit_for("bea")
    assert (limit.amount, limit.source, limit.group) == (90_000, SOURCE_GROUP, "Sales")
    assert limit.origin == "your group Sales' limit"  # a group's limit beats the default

    groups.set_group_budget(engine, ops.id, 20_000, "words", actor="admin")
    assert book.limit_for("bea").group == "Ops"  # the lowest of the groups' limits
    assert book.limit_for("bea").origin == "your group Ops' limit"

    book.set_member_limit("bea", 100_000, "words", actor="admin")
    limit = book.limit_for("bea")
    assert (limit.amount, limit.source) == (100_000, SOURCE_MEMBER)  # own first, even higher
    assert limit.origin == "your own limit"
    book.set_member_limit("bea", None, "words", actor="admin")
    assert book.limit_for("bea").amount is None  # an own "no limit" exempts from the rest

    book.clear_member_limit("bea")
    groups.remove_member(engine, ops.id, "bea", actor="admin")
    assert book.limit_for("bea").group == "Sales"
    groups.delete_group(engine, sales.id, actor="admin")
    assert book.limit_for("bea").source == SOURCE_TEAM


def test_lowest_compares_tokens_as_words() -> None:
    # 12,000 tokens are about 8,000 words (4 characters a token, 6 a word).
    lowest = lowest_group_limit([("A", 9_000, "words"), ("B", 12_000, "tokens")])
    assert lowest is not None and (lowest.group, lowest.unit) == ("B", "tokens")
    lowest = lowest_group_limit([("A", 7_000, "words"), ("B", 12_000, "tokens")])
    assert lowest is not None and lowest.group == "A"
    assert lowest_group_limit([]) is None
