"""The leaderboard's Bradley-Terry ratings on synthetic votes with known strengths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from webapp.arena import ranking
from webapp.arena.ranking import Vote

TRUE = {"ace": 1.0, "bold": 0.4, "calm": -0.2, "dull": -1.2}  # mean 0, like the fit


def synthetic(n_votes: int, seed: int, tie_share: float = 0.0) -> list[Vote]:
    """Votes drawn from the Bradley-Terry model with `TRUE` strengths; with
    `tie_share`, that share of the votes is a tie (whatever the model says)."""
    rng = np.random.default_rng(seed)
    slugs = list(TRUE)
    votes = []
    for _ in range(n_votes):
        i, j = rng.choice(len(slugs), 2, replace=False)
        a, b = slugs[i], slugs[j]
        if rng.random() < tie_share:
            votes.append(Vote(a, b, "tie"))
            continue
        p_a = 1 / (1 + math.exp(TRUE[b] - TRUE[a]))
        votes.append(Vote(a, b, "a" if rng.random() < p_a else "b"))
    return votes


def test_the_order_of_known_strengths_is_recovered() -> None:
    votes = synthetic(1500, seed=1)
    fitted = ranking.strengths(votes, list(TRUE))
    assert list(np.argsort(-fitted)) == [0, 1, 2, 3]
    assert np.allclose(fitted, list(TRUE.values()), atol=0.25)
    board = ranking.leaderboard(votes, rounds=50)
    assert list(board["Bot"]) == ["ace", "bold", "calm", "dull"]
    assert list(board["Rank"]) == [1, 2, 3, 4]
    assert int(board["Battles"].sum()) == 2 * len(votes)


def test_the_intervals_cover_the_true_strengths_in_most_bootstraps() -> None:
    """Twelve independent data sets: each bot's true strength lies inside its
    95 % bootstrap interval in at least 80 % of them (95 % expected)."""
    bots = list(TRUE)
    truth = np.array(list(TRUE.values()))
    covered = np.zeros(len(bots))
    runs = 12
    for seed in range(runs):
        votes = synthetic(400, seed=100 + seed)
        draws = ranking.bootstrap(votes, bots, rounds=80, seed=seed)
        low, high = np.percentile(draws, [2.5, 97.5], axis=0)
        covered += (low <= truth) & (truth <= high)
    assert (covered / runs >= 0.8).all(), covered


def test_intervals_narrow_with_more_votes() -> None:
    bots = list(TRUE)
    few = ranking.bootstrap(synthetic(100, seed=3), bots, rounds=60)
    many = ranking.bootstrap(synthetic(1600, seed=3), bots, rounds=60)
    assert (
        np.ptp(np.percentile(many, [2.5, 97.5], axis=0), axis=0)
        < np.ptp(np.percentile(few, [2.5, 97.5], axis=0), axis=0)
    ).all()


def test_a_tie_is_half_a_win_each_way() -> None:
    # Only ties: nobody is better. One win each way plus ties: still level.
    assert np.allclose(ranking.strengths([Vote("x", "y", "tie")] * 10), 0, atol=1e-6)
    votes = [Vote("x", "y", "a"), Vote("x", "y", "b"), Vote("y", "x", "tie")]
    assert np.allclose(ranking.strengths(votes), 0, atol=1e-6)
    # 3 wins and 2 ties for x over y: the same fit as 4 wins to 1 (ties half each).
    with_ties = [Vote("x", "y", "a")] * 3 + [Vote("x", "y", "tie")] * 2
    as_halves = [Vote("x", "y", "a")] * 4 + [Vote("x", "y", "b")] * 1
    assert np.allclose(ranking.strengths(with_ties), ranking.strengths(as_halves), atol=1e-6)


def test_both_bad_ranks_as_a_tie_and_has_its_own_column() -> None:
    wins = [Vote("x", "y", "a")] * 3
    tie = ranking.strengths([*wins, Vote("x", "y", "tie"), Vote("y", "x", "tie")])
    bad = ranking.strengths([*wins, Vote("x", "y", "bad"), Vote("y", "x", "bad")])
    assert np.allclose(tie, bad)
    board = ranking.leaderboard(
        [*wins, Vote("x", "y", "bad"), Vote("y", "x", "tie")], {"x": "Xena"}, rounds=20
    )
    first = board.iloc[0]
    assert (first["Bot"], first["Wins"], first["Ties"], first["Both bad"]) == ("Xena", 3, 1, 1)
    assert first["Battles"] == 5 and first["Win rate"] == pytest.approx(0.6)
    assert board.iloc[1]["Bot"] == "y" and board.iloc[1]["Losses"] == 3


def test_an_undefeated_bot_gets_a_finite_rating_inside_its_interval() -> None:
    board = ranking.leaderboard([Vote("x", "y", "a")] * 4, rounds=30)
    assert np.isfinite(board["Rating"]).all()
    assert (board["95% CI low"] <= board["Rating"]).all()
    assert (board["Rating"] <= board["95% CI high"]).all()
    assert board.iloc[0]["Bot"] == "x"


def test_shared_names_are_told_apart_and_no_votes_is_an_empty_board() -> None:
    assert ranking.labels(["omni", "omni-fast", "chef"], {"omni": "Omni", "omni-fast": "Omni"}) == {
        "omni": "Omni (omni)",
        "omni-fast": "Omni (omni-fast)",
        "chef": "chef",
    }
    assert ranking.leaderboard([]).empty
    with pytest.raises(ValueError):
        ranking.strengths([])
