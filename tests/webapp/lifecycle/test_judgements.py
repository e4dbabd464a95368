"""A member's arena votes and evaluation ratings: in their data download,
kept when their data is erased (the team's aggregates count them), deleted
only when an admin chooses so (audited). A real database (SQLite, and
PostgreSQL when ABLT_TEST_PG_URL is set)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import BACKENDS, store_on
from webapp.arena.blind import Contender
from webapp.arena.store import Arena
from webapp.audit.log import AuditLog
from webapp.conversations.context import ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.evaluations import Evaluations, RunBot
from webapp.evaluations.model import DONE
from webapp.lifecycle.judgements import Judgements, count_judgements, delete_judgements
from webapp.lifecycle.member_data import Who, erase_member_data, write_member_zip

ANN, BOB = Who("ann", 1), Who("bob", 2)
PAIR = (Contender("omni", "Omni"), Contender("chef", "Chef"))
BOTS = [RunBot(slug, slug.title(), ConversationOptions()) for slug in ("omni", "chef")]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "judgements") as opened:
        yield opened


def judged(store: ConversationStore) -> str:
    """Ann and Bob each vote once and rate one prompt of a run; the run's id."""
    arena = Arena(store)
    for who, outcome in ((ANN, "a"), (BOB, "b")):
        battle = arena.create(who, PAIR, "Soup?")
        arena.vote(who, battle.id, outcome, complete=True)
    evaluations = Evaluations(store)
    run = evaluations.create_run(BOB, evaluations.create_set(BOB, "Set", ["One?"]), BOTS)
    for cell in evaluations.cells(run.id):
        assert evaluations.claim(cell.id)
        evaluations.ended(cell.id, DONE, text=f"answer {cell.bot_index}")
    cells = evaluations.cells(run.id)
    for rater in ("ann", "bob"):
        evaluations.rate(rater, run.id, 0, {cells[0].id: 4, cells[1].id: 2}, best=None)
    return run.id


def test_the_download_holds_the_members_ratings_and_erasing_keeps_them(
    store: ConversationStore, tmp_path: Path
) -> None:
    judged(store)
    path = tmp_path / "ann.zip"
    write_member_zip(store, ANN, path)
    with zipfile.ZipFile(path) as archive:
        ratings = json.loads(archive.read("evaluation_ratings.json"))
        votes = json.loads(archive.read("arena_votes.json"))
        readme = archive.read("README.txt").decode()
    assert sorted(r["score"] for r in ratings) == [2, 4]
    assert {r["rater"] for r in ratings} == {"ann"}
    assert [v["voter"] for v in votes] == ["ann"]
    assert "evaluation_ratings.json from other features" in readme
    erase_member_data(store.engine, "ann", actor="admin")
    assert count_judgements(store.engine, "ann") == Judgements(votes=1, ratings=2)


def test_an_admin_deletes_a_members_votes_and_ratings_and_the_audit_says_so(
    store: ConversationStore,
) -> None:
    run_id = judged(store)
    assert count_judgements(store.engine, "ann").describe() == (
        "1 arena vote and 2 evaluation ratings"
    )
    done = delete_judgements(store.engine, "ann", actor="admin")
    assert done == Judgements(votes=1, ratings=2)
    assert count_judgements(store.engine, "ann") == Judgements(0, 0)
    # Nobody else's: Bob's vote and ratings still count.
    assert [v.voter for v in Arena(store).votes()] == ["bob"]
    assert {r.rater for r in Evaluations(store).ratings(run_id)} == {"bob"}
    [entry] = [e for e in AuditLog(store.engine).entries(member="ann") if e.target == "ann"]
    assert (entry.actor, entry.action) == ("admin", "delete votes and ratings")
    assert entry.detail == "deleted 1 arena vote and 2 evaluation ratings"
