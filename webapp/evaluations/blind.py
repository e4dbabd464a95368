"""Blind rating: a prompt's answers in an order of their own for each rater,
and without the names of the bots that wrote them.

The order is random but stable: seeded by (run, prompt, rater), so a rater
sees the same order on every rerun and reload, and two raters see different
orders (no position bias shared by the team). The answers' own text is
masked too: a bot that introduces itself ("I'm Chef...") would otherwise
name itself.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Sequence
from typing import Final, TypeVar

from webapp.evaluations.model import Cell

MASK: Final = "[bot]"
T = TypeVar("T", bound=Cell)


def answer_order(cells: Sequence[T], run_id: str, prompt_index: int, rater: str) -> list[T]:
    """`cells` shuffled for `rater`: the same list for the same (run, prompt,
    rater), whatever order they come in."""
    seed = hashlib.sha256(f"{run_id}\x00{prompt_index}\x00{rater}".encode()).digest()
    ordered = sorted(cells, key=lambda c: c.id)
    random.Random(seed).shuffle(ordered)
    return ordered


def mask_names(text: str, names: Iterable[str]) -> str:
    """`text` with every bot name or slug in `names` (whole words, any case)
    replaced by `MASK`; longer names first, so "Code Mentor" goes before "Code"."""
    wanted = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    if not wanted:
        return text
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(n) for n in wanted) + r")(?!\w)", re.IGNORECASE
    )
    return pattern.sub(MASK, text)
