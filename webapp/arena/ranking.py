"""The leaderboard: Bradley-Terry ratings from the team's arena votes.

The Bradley-Terry model gives each bot a strength θ; bot i beats bot j with
probability 1 / (1 + exp(θj - θi)). The strengths are fitted by maximum
likelihood with `choix` (a maintained library of Luce-model estimators;
Maystre & Grossglauser, "Fast and accurate inference of Plackett-Luce
models", NIPS 2015): `choix.ilsr_pairwise_dense`, whose fixed point is the
maximum likelihood estimate, on the matrix of how often each bot beat each
other one (vectorised: a fit of thousands of votes takes milliseconds, where
`ilsr_pairwise` walks a Python list of comparisons).

Ties. A tie counts as half a win for each side. `choix`'s list-based
functions take only (winner, loser) pairs; its dense function takes counts,
which may be fractional, so a tie adds ½ to both cells of its pair and a win
adds 1 to the winner's cell. This is exactly the likelihood with weight 1 per
decisive vote and ½ each way per tie (the same maximum as writing every vote
twice, a tie once each way, for the list-based functions; a test checks that
3 wins + 2 ties fit like 4 wins + 1 loss). "Both are bad" counts as a tie in
the ranking (neither answer was preferred) and is counted on its own column
of the table.

A small regularisation (`ALPHA`, choix's) keeps the strength of a bot that
never lost (or never won) finite; with a few votes per pair it moves the
ratings by well under their intervals.

The 95 % interval of each rating comes from a bootstrap over votes: the
votes are drawn again with replacement `BOOTSTRAP_ROUNDS` times, the model is
refitted each time, and the interval is the 2.5th to 97.5th percentile of the
bot's refitted rating (Efron's percentile interval).

Ratings are shown on the Elo-like scale the chatbot arenas use:
`ELO_BASE + ELO_SCALE * θ / ln 10`, θ centred on 0 (the mean bot rates
`ELO_BASE`); 400 points apart means 10 to 1 odds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import choix
import numpy as np
import pandas as pd

Outcome = Literal["a", "b", "tie", "bad"]
OUTCOMES: Final[tuple[Outcome, ...]] = ("a", "b", "tie", "bad")
OUTCOME_LABELS: Final[dict[str, str]] = {
    "a": "A is better",
    "b": "B is better",
    "tie": "Tie",
    "bad": "Both are bad",
}
ALPHA: Final = 0.01  # choix's regularisation: finite ratings for undefeated bots
BOOTSTRAP_ROUNDS: Final = 200
CONFIDENCE: Final = 0.95
ELO_BASE: Final = 1000.0
ELO_SCALE: Final = 400.0


@dataclass(frozen=True, slots=True)
class Vote:
    """One arena vote: the bots shown as A and B (slugs), and the outcome."""

    bot_a: str
    bot_b: str
    outcome: Outcome


def bots_of(votes: Sequence[Vote]) -> list[str]:
    """Every bot in the votes, sorted (the order of the strength arrays)."""
    return sorted({v.bot_a for v in votes} | {v.bot_b for v in votes})


@dataclass(frozen=True, slots=True)
class _Indexed:
    """The votes as arrays: A's and B's index, and A's share of the win
    (1, 0, or ½ for a tie or "both bad")."""

    a: np.ndarray
    b: np.ndarray
    share_a: np.ndarray
    n_bots: int

    @classmethod
    def of(cls, votes: Sequence[Vote], bots: Sequence[str]) -> _Indexed:
        index = {slug: i for i, slug in enumerate(bots)}
        share = {"a": 1.0, "b": 0.0}
        return cls(
            np.array([index[v.bot_a] for v in votes], dtype=int),
            np.array([index[v.bot_b] for v in votes], dtype=int),
            np.array([share.get(v.outcome, 0.5) for v in votes], dtype=float),
            len(bots),
        )

    def matrix(self, weights: np.ndarray | None = None) -> np.ndarray:
        """wins[i, j]: how often bot i beat bot j (ties ½ each way), each
        vote counted `weights` times (default once)."""
        w = np.ones(len(self.a)) if weights is None else weights
        wins = np.zeros((self.n_bots, self.n_bots))
        np.add.at(wins, (self.a, self.b), w * self.share_a)
        np.add.at(wins, (self.b, self.a), w * (1 - self.share_a))
        return wins


def _fit(wins: np.ndarray) -> np.ndarray:
    return np.asarray(choix.ilsr_pairwise_dense(wins, alpha=ALPHA), dtype=float)


def strengths(votes: Sequence[Vote], bots: Sequence[str] | None = None) -> np.ndarray:
    """The Bradley-Terry strengths θ (mean 0) of `bots` (default `bots_of`),
    in that order, by maximum likelihood. ValueError without votes."""
    if not votes:
        raise ValueError("No votes yet.")
    return _fit(_Indexed.of(votes, list(bots) if bots is not None else bots_of(votes)).matrix())


def bootstrap(
    votes: Sequence[Vote],
    bots: Sequence[str],
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> np.ndarray:
    """`rounds` x len(bots) strengths, each refitted on the votes drawn again
    with replacement (a vote drawn k times counts k times). A bot missing
    from a draw gets the regularised estimate (near 0: no evidence)."""
    rng = np.random.default_rng(seed)
    indexed = _Indexed.of(votes, bots)
    draws = np.empty((rounds, len(bots)))
    for r in range(rounds):
        drawn = np.bincount(rng.integers(0, len(votes), len(votes)), minlength=len(votes))
        draws[r] = _fit(indexed.matrix(drawn.astype(float)))
    return draws


def to_rating(theta: np.ndarray) -> np.ndarray:
    """Strengths on the Elo-like scale (see the module docstring)."""
    return ELO_BASE + ELO_SCALE * theta / math.log(10)


@dataclass(frozen=True, slots=True)
class Record:
    """One bot's battles as counted from the votes."""

    battles: int = 0
    wins: int = 0
    losses: int = 0
    ties: int = 0
    both_bad: int = 0


def records(votes: Sequence[Vote]) -> dict[str, Record]:
    """slug -> its `Record` (a "both bad" vote counts in `both_bad`, not `ties`)."""
    counts: dict[str, dict[str, int]] = {}
    for vote in votes:
        for slug, won, lost in (
            (vote.bot_a, vote.outcome == "a", vote.outcome == "b"),
            (vote.bot_b, vote.outcome == "b", vote.outcome == "a"),
        ):
            row = counts.setdefault(slug, dict.fromkeys(Record.__slots__, 0))
            row["battles"] += 1
            row["wins"] += won
            row["losses"] += lost
            row["ties"] += vote.outcome == "tie"
            row["both_bad"] += vote.outcome == "bad"
    return {slug: Record(**row) for slug, row in counts.items()}


def labels(bots: Sequence[str], names: dict[str, str]) -> dict[str, str]:
    """slug -> how the bot reads in the table: its name, with the slug added
    where two bots share a name (the emulator has two "Omni"s)."""
    plain = {slug: names.get(slug) or slug for slug in bots}
    seen: dict[str, int] = {}
    for name in plain.values():
        seen[name] = seen.get(name, 0) + 1
    return {slug: name if seen[name] == 1 else f"{name} ({slug})" for slug, name in plain.items()}


LEADERBOARD_COLUMNS: Final = (
    "Rank",
    "Bot",
    "Rating",
    "95% CI low",
    "95% CI high",
    "Battles",
    "Wins",
    "Losses",
    "Ties",
    "Both bad",
    "Win rate",
)


def leaderboard(
    votes: Sequence[Vote],
    names: dict[str, str] | None = None,
    *,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per bot, best first: its rank, name (`names[slug]`, else the
    slug), rating and 95 % interval (rounded to whole points), battles,
    wins, losses, ties, "both bad" and win rate (wins / battles, 0-1). An
    empty frame with `LEADERBOARD_COLUMNS` when there are no votes."""
    if not votes:
        return pd.DataFrame(columns=list(LEADERBOARD_COLUMNS))
    bots = bots_of(votes)
    rating = to_rating(strengths(votes, bots))
    draws = to_rating(bootstrap(votes, bots, rounds, seed))
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail], axis=0)
    counted = records(votes)
    shown = labels(bots, names or {})
    rows = []
    for i, slug in enumerate(bots):
        rec = counted[slug]
        rows.append(
            {
                "Bot": shown[slug],
                "Rating": round(float(rating[i])),
                "95% CI low": round(float(min(low[i], rating[i]))),
                "95% CI high": round(float(max(high[i], rating[i]))),
                "Battles": rec.battles,
                "Wins": rec.wins,
                "Losses": rec.losses,
                "Ties": rec.ties,
                "Both bad": rec.both_bad,
                "Win rate": rec.wins / rec.battles if rec.battles else 0.0,
            }
        )
    frame = pd.DataFrame(rows).sort_values(["Rating", "Bot"], ascending=[False, True])
    frame.insert(0, "Rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)[list(LEADERBOARD_COLUMNS)]
