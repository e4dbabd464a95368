"""What the Arena's leaderboard costs: a Bradley-Terry fit and its bootstrap.

Votes among `--bots` bots are drawn from known strengths (a tie in a fifth of
them); the leaderboard (`webapp.arena.ranking.leaderboard`: one fit plus
`--rounds` bootstrap refits) is timed for several vote counts, beside the
list-based `choix.ilsr_pairwise` on the same votes (every vote written twice,
a tie once each way): the reference the dense matrix replaced.

Run:  python -m bench.arena_leaderboard [--bots 8] [--rounds 200]
Prints seconds per leaderboard and per single fit of each way, and their ratio.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from functools import partial

import choix

from webapp.arena import ranking
from webapp.arena.ranking import Vote


def synthetic(n_votes: int, n_bots: int, seed: int = 0) -> list[Vote]:
    rng = random.Random(seed)
    strength = {f"bot-{i}": (n_bots / 2 - i) / n_bots * 2 for i in range(n_bots)}
    votes = []
    for _ in range(n_votes):
        a, b = rng.sample(list(strength), 2)
        if rng.random() < 0.2:
            votes.append(Vote(a, b, "tie"))
            continue
        p_a = 1 / (1 + math.exp(strength[b] - strength[a]))
        votes.append(Vote(a, b, "a" if rng.random() < p_a else "b"))
    return votes


def doubled(votes: list[Vote], bots: list[str]) -> list[tuple[int, int]]:
    index = {slug: i for i, slug in enumerate(bots)}
    data: list[tuple[int, int]] = []
    for v in votes:
        a, b = index[v.bot_a], index[v.bot_b]
        data += {"a": [(a, b)] * 2, "b": [(b, a)] * 2}.get(v.outcome, [(a, b), (b, a)])
    return data


def seconds(run: Callable[[], object], repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def measure(n: int, n_bots: int, rounds: int) -> tuple[float, float, float]:
    """(leaderboard s, dense fit ms, list fit ms) for `n` votes."""
    votes = synthetic(n, n_bots)
    bots = ranking.bots_of(votes)
    data = doubled(votes, bots)
    board = seconds(partial(ranking.leaderboard, votes, rounds=rounds))
    dense = seconds(partial(ranking.strengths, votes, bots)) * 1000
    listed = seconds(partial(choix.ilsr_pairwise, len(bots), data, alpha=ranking.ALPHA)) * 1000
    return board, dense, listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bots", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=ranking.BOOTSTRAP_ROUNDS)
    args = parser.parse_args()
    print(f"{args.bots} bots, {args.rounds} bootstrap rounds (best of 3)")
    print(f"{'votes':>7} {'board s':>8} {'dense fit ms':>13} {'list fit ms':>12} {'ratio':>6}")
    for n in (100, 1_000, 10_000):
        board, dense, listed = measure(n, args.bots, args.rounds)
        print(f"{n:>7,} {board:>8.2f} {dense:>13.1f} {listed:>12.1f} {listed / dense:>6.1f}")


if __name__ == "__main__":
    main()
