"""Keeping the arena blind: which two bots battle, and their names masked.

- `eligible`: the bots a battle is drawn from: those the member may use
  (their groups' access, `webapp.groups`), narrowed to their shortlist when
  it names two or more of them.
- `draw_pair`: the pair of bots with the fewest battles so far (random among
  ties, and a random side for each), so every pair gets battles, not only the
  popular ones.
- `mask`: an answer's text with each battling bot's name and slug replaced
  by "Bot A" / "Bot B", whatever their case, inside longer words too
  ("Omnibot"): blindness comes before a stray "Bot Abus". It is applied to the whole text
  shown on every redraw (never piece by piece, so a name split across two
  streamed pieces is still masked); while the answer streams, a trailing
  start of a name ("Om" of "Omni") is held back until the next piece says
  whether it is one.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from webapp.ui.i18n import _

SIDES: Final = ("Bot A", "Bot B")
MIN_NAME_CHARS: Final = 2  # a one-letter name would mask every such letter


@dataclass(frozen=True, slots=True)
class Contender:
    """A bot as the arena needs it: slug and display name."""

    slug: str
    name: str


def pair_key(a: str, b: str) -> tuple[str, str]:
    """A pair of slugs in a fixed order (a battle of A-B and one of B-A count alike)."""
    return (a, b) if a <= b else (b, a)


def eligible(
    bots: Sequence[Contender], allows: Callable[[str], bool], shortlist: Collection[str] = ()
) -> list[Contender]:
    """The bots of `bots` a battle may be drawn from: those `allows(slug)`
    (the member's access, `webapp.groups.BotAccess.allows`), then only the
    `shortlist`'s slugs among them when that leaves two or more. A forbidden
    slug in the shortlist (a crafted widget event, or access taken away since
    it was picked) is never drawn."""
    usable = [b for b in bots if allows(b.slug)]
    picked = set(shortlist)
    short = [b for b in usable if b.slug in picked]
    return short if len(short) >= 2 else usable


def draw_pair(
    bots: Sequence[Contender],
    battles: Mapping[tuple[str, str], int],
    rng: random.Random | None = None,
) -> tuple[Contender, Contender]:
    """Two different bots of `bots` for the next battle: among the pairs with
    the fewest `battles` (keys from `pair_key`; missing: none yet), one at
    random, in a random order (A, B). ValueError with fewer than two bots."""
    unique = list({b.slug: b for b in bots}.values())
    if len(unique) < 2:
        raise ValueError(_("The arena needs at least two bots you may use."))
    rng = rng or random.Random()
    pairs = list(itertools.combinations(unique, 2))
    fewest = min(battles.get(pair_key(a.slug, b.slug), 0) for a, b in pairs)
    least = [(a, b) for a, b in pairs if battles.get(pair_key(a.slug, b.slug), 0) == fewest]
    first, second = rng.choice(least)
    return (first, second) if rng.random() < 0.5 else (second, first)


def _variants(bot: Contender) -> list[str]:
    """The ways an answer may name a bot: its name, its slug, and the slug
    with its dashes or underscores read as spaces ("code-mentor", "code mentor")."""
    found = {bot.name.strip(), bot.slug.strip(), re.sub(r"[-_]+", " ", bot.slug).strip()}
    return [v for v in found if len(v) >= MIN_NAME_CHARS]


def _pattern(bots: Sequence[Contender]) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """One case-insensitive pattern for every variant (longest first, so
    "Omni Fast" wins over "Omni"), and each folded variant's side."""
    side_of: dict[str, str] = {}
    for side, bot in zip(SIDES, bots, strict=False):
        for variant in _variants(bot):
            side_of.setdefault(variant.casefold(), side)
    if not side_of:
        return None
    ordered = sorted(side_of, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE), side_of


def mask(text: str, bots: Sequence[Contender], *, streaming: bool = False) -> str:
    """`text` with every name and slug of `bots` (A first, then B) replaced by
    "Bot A" / "Bot B". With `streaming`, a trailing part of the text that
    could be the start of a name is left out until more text arrives."""
    found = _pattern(bots)
    if found is None:
        return text
    pattern, side_of = found
    masked = pattern.sub(lambda m: side_of.get(m.group(0).casefold(), SIDES[0]), text)
    if streaming:
        masked = masked[: len(masked) - _partial_tail(masked, side_of)]
    return masked


def _partial_tail(text: str, variants: Mapping[str, str]) -> int:
    """How many characters at the end of `text` are the start of a variant
    (the longest such start; 0: none)."""
    folded = text.casefold()
    longest = 0
    for variant in variants:
        for size in range(min(len(variant) - 1, len(folded)), longest, -1):
            if variant.startswith(folded[-size:]):
                longest = size
                break
    return longest
