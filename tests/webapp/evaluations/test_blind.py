"""Blind rating's helpers: a stable order of its own per rater, and bot
names masked in the answers' text."""

from __future__ import annotations

from webapp.evaluations.blind import MASK, answer_order, mask_names
from webapp.evaluations.model import Cell


def _cells(n: int) -> list[Cell]:
    return [
        Cell(f"c{i}", "r", 0, i, "done", None, None, "", None, None, None, 1, 1) for i in range(n)
    ]


def test_each_rater_has_a_stable_order_of_their_own() -> None:
    cells = _cells(6)
    ann = [c.id for c in answer_order(cells, "run", 0, "ann")]
    assert ann == [c.id for c in answer_order(list(reversed(cells)), "run", 0, "ann")]
    assert sorted(ann) == [c.id for c in cells]
    others = {tuple(c.id for c in answer_order(cells, "run", 0, r)) for r in ("bob", "cy", "dee")}
    assert others - {tuple(ann)}, "other raters see other orders"
    next_prompt = [c.id for c in answer_order(cells, "run", 1, "ann")]
    assert next_prompt != ann or len(set(others)) > 1


def test_bot_names_and_slugs_are_masked_as_whole_words() -> None:
    text = "I'm Chef Remy. chef says: ask code-mentor, not Chefs or Omnibus. OMNI agrees."
    masked = mask_names(text, ["Chef Remy", "chef", "code-mentor", "Omni"])
    assert masked == f"I'm {MASK}. {MASK} says: ask {MASK}, not Chefs or Omnibus. {MASK} agrees."
    assert mask_names("unchanged", ["", "  "]) == "unchanged"
