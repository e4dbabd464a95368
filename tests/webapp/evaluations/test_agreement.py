"""The raters' agreement: Krippendorff's ordinal alpha on ratings whose
agreement is known, and its reading in plain words."""

from __future__ import annotations

import math

import pytest

from webapp.evaluations.agreement import agreement, ordinal_alpha, reading

NAN = math.nan

# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), the worked
# example of 4 observers x 12 units with missing values: ordinal alpha = 0.815.
TEXTBOOK = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def test_the_published_example_gives_the_published_ordinal_alpha() -> None:
    alpha = ordinal_alpha(TEXTBOOK)
    assert alpha == pytest.approx(0.815, abs=0.001)


def test_identical_ratings_agree_perfectly_and_read_well() -> None:
    scores = {(r, f"a{i}"): s for r in ("ann", "bob") for i, s in enumerate([1, 3, 5, 2, 4])}
    result = agreement(scores)
    assert result.alpha == pytest.approx(1.0)
    assert result.raters == 2 and result.paired_answers == 5
    assert "agree well" in result.reading


def test_reversed_ratings_disagree_systematically() -> None:
    ann = [1, 2, 3, 4, 5, 1, 5]
    scores = {("ann", f"a{i}"): s for i, s in enumerate(ann)}
    scores |= {("bob", f"a{i}"): 6 - s for i, s in enumerate(ann)}
    result = agreement(scores)
    assert result.alpha is not None and result.alpha < 0
    assert "disagree systematically" in result.reading


def test_one_step_apart_agrees_better_than_far_apart() -> None:
    """Ordinal: a near miss (4 for 5) costs less than a far one (1 for 5)."""
    ann = [1, 2, 3, 4, 5, 2, 4, 5, 1, 3]
    near = [min(5, s + 1) if i % 3 == 0 else s for i, s in enumerate(ann)]
    far = [6 - s if i % 3 == 0 else s for i, s in enumerate(ann)]
    alpha_near = ordinal_alpha([ann, near])
    alpha_far = ordinal_alpha([ann, far])
    assert alpha_near is not None and alpha_far is not None
    assert alpha_near > alpha_far


def test_too_few_ratings_say_so_instead_of_a_figure() -> None:
    assert ordinal_alpha([[1, 2, 3]]) is None  # one rater
    assert ordinal_alpha([[1, NAN], [NAN, 2]]) is None  # no answer rated twice
    assert ordinal_alpha([[3, 3], [3, 3]]) is None  # nothing varies
    assert agreement({}).alpha is None
    assert "Not enough ratings" in agreement({("ann", "a"): 3}).reading


@pytest.mark.parametrize(
    "alpha,words",
    [(0.9, "agree well"), (0.7, "agree moderately"), (0.3, "agree poorly"), (-0.2, "disagree")],
)
def test_the_reading_follows_krippendorffs_thresholds(alpha: float, words: str) -> None:
    assert words in reading(alpha)
