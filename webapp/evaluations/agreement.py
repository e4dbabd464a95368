"""How well the raters of a run agree: Krippendorff's alpha, ordinal.

Computed by the `krippendorff` library (pinned in requirements.txt), on a
matrix of raters x answers holding each 1-5 score (NaN where a rater did not
score an answer). Alpha is 1 for perfect agreement, 0 for agreement no better
than chance, below 0 for systematic disagreement. The reading follows
Krippendorff's own guideline (Content Analysis, 2004, §11.4.4): alpha >= 0.800
can be relied on; 0.667 <= alpha < 0.800 allows tentative conclusions only;
lower, the ratings say more about the raters than about the bots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import krippendorff
import numpy as np

RELIABLE: Final = 0.800
TENTATIVE: Final = 0.667
SCORES: Final = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Agreement:
    """The raters' agreement: `alpha` (None when it cannot be computed),
    how many raters and answers rated by two or more, and the reading."""

    alpha: float | None
    raters: int
    paired_answers: int
    reading: str


def ordinal_alpha(matrix: Sequence[Sequence[float]]) -> float | None:
    """Krippendorff's ordinal alpha of `matrix` (raters x units, NaN: no
    score), or None when it is undefined: fewer than two raters, no unit
    scored by two, or a single value used throughout (no variation to agree on)."""
    data = np.asarray(matrix, dtype=float)
    if data.ndim != 2 or data.shape[0] < 2:
        return None
    paired = (~np.isnan(data)).sum(axis=0) >= 2
    if not paired.any():
        return None
    values = data[:, paired]
    if len(set(values[~np.isnan(values)].tolist())) < 2:
        return None
    alpha = float(
        krippendorff.alpha(
            reliability_data=data, level_of_measurement="ordinal", value_domain=list(SCORES)
        )
    )
    return None if math.isnan(alpha) else alpha


def reading(alpha: float | None) -> str:
    """The alpha in plain words (see the module for the thresholds)."""
    if alpha is None:
        return (
            "Not enough ratings to measure agreement yet: it takes two raters scoring the "
            "same answers."
        )
    if alpha >= RELIABLE:
        return f"The raters agree well (alpha {alpha:.2f}): the ratings can be relied on."
    if alpha >= TENTATIVE:
        return f"The raters agree moderately (alpha {alpha:.2f}): draw tentative conclusions only."
    if alpha >= 0:
        return (
            f"The raters agree poorly (alpha {alpha:.2f}): the ratings say more about the "
            "raters than about the bots. Agree on what a good answer is, then rate again."
        )
    return (
        f"The raters disagree systematically (alpha {alpha:.2f}): they judge by opposite standards."
    )


def agreement(scores: Mapping[tuple[str, str], int]) -> Agreement:
    """The agreement of `scores` ((rater, answer id) -> 1-5)."""
    raters = sorted({rater for rater, _ in scores})
    units = sorted({unit for _, unit in scores})
    matrix = [[float(scores.get((r, u), math.nan)) for u in units] for r in raters]
    paired = sum(1 for u in units if sum((r, u) in scores for r in raters) >= 2)
    alpha = ordinal_alpha(matrix)
    return Agreement(alpha, len(raters), paired, reading(alpha))
