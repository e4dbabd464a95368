"""The leaderboard: Bradley-Terry ratings from the team's arena votes.

The Bradley-Terry model gives each bot a strength θ; bot i beats bot j with
probability 1 / (1 + exp(θj - θi)). The strengths are fitted by maximum
likelihood with `choix` (a maintained library of Luce-model estimators;
Maystre & Grossglauser, "Fast and accurate inference of Plackett-Luce
models", NIPS 2015): `choix.ilsr_pairwise`, whose fixed point is the maximum
likelihood estimate, about 25 times faster here than `choix.opt_pairwise`.

Ties. `choix` takes only (winner, loser) comparisons, no weights and no
ties. A tie counts as half a win for each side, so every vote becomes two
comparisons: a win is (winner, loser) twice, a tie is (a, b) once and (b, a)
once. Doubling every vote squares the likelihood, which has the same maximum:
this is exactly the likelihood with weight 1 per decisive vote and ½ each way
per tie. "Both are bad" counts as a tie in the ranking (neither answer was
preferred) and is counted on its own column of the table.

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


def comparisons(votes: Sequence[Vote], index: dict[str, int]) -> list[tuple[int, int]]:
    """The (winner, loser) pairs `choix` reads, two per vote (see the module
    docstring): a win twice, a tie or "both bad" once each way."""
    data: list[tuple[int, int]] = []
    for vote in votes:
        a, b = index[vote.bot_a], index[vote.bot_b]
        if vote.outcome == "a":
            data += [(a, b), (a, b)]
        elif vote.outcome == "b":
            data += [(b, a), (b, a)]
        else:
            data += [(a, b), (b, a)]
    return data


def bots_of(votes: Sequence[Vote]) -> list[str]:
    """Every bot in the votes, sorted (the order of the strength arrays)."""
    return sorted({v.bot_a for v in votes} | {v.bot_b for v in votes})


def strengths(votes: Sequence[Vote], bots: Sequence[str] | None = None) -> np.ndarray:
    """The Bradley-Terry strengths θ (mean 0) of `bots` (default `bots_of`),
    in that order, by maximum likelihood. ValueError without votes."""
    if not votes:
        raise ValueError("No votes yet.")
    names = list(bots) if bots is not None else bots_of(votes)
    index = {slug: i for i, slug in enumerate(names)}
    fitted = choix.ilsr_pairwise(len(names), comparisons(votes, index), alpha=ALPHA)
    return np.asarray(fitted, dtype=float)


def bootstrap(
    votes: Sequence[Vote],
    bots: Sequence[str],
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> np.ndarray:
    """`rounds` x len(bots) strengths, each refitted on the votes drawn again
    with replacement. A bot missing from a draw gets the regularised estimate
    (near 0: no evidence), as the model says."""
    rng = np.random.default_rng(seed)
    draws = np.empty((rounds, len(bots)))
    for r in range(rounds):
        picked = rng.integers(0, len(votes), len(votes))
        draws[r] = strengths([votes[i] for i in picked], bots)
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
