"""Cutting text for display at whole user-perceived characters.

A cut by code points can split a flag (two regional indicators), a family emoji
(people joined by zero-width joiners) or a letter and its combining accents,
leaving a stray half that renders as garbage. Unicode's extended grapheme
clusters (UAX #29) are what a reader counts as characters; the `regex`
package matches one with `\\X`.
"""

from __future__ import annotations

from typing import Final

import regex

ELLIPSIS: Final = "…"
_GRAPHEME = regex.compile(r"\X")


def cut_graphemes(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` cut to at most `limit` grapheme clusters, `ellipsis` added when cut.

    The ellipsis counts towards the limit, so the result never shows more than
    `limit` clusters. Text within the limit comes back unchanged. Reads only as
    far as the cut, so a description of megabytes costs the same as a short one.
    Raises ValueError for a negative limit.
    """
    if limit < 0:
        raise ValueError("limit must be 0 or more")
    if len(text) <= limit:  # each cluster holds at least one code point
        return text
    if len(ellipsis) > limit:
        ellipsis = ""
    keep = limit - len(ellipsis)
    end = 0
    for count, match in enumerate(_GRAPHEME.finditer(text)):
        if count == keep:
            # A cluster beyond the kept ones: is there more than fits unabridged?
            rest = _GRAPHEME.finditer(text, pos=match.start())
            remaining = sum(1 for _, _ in zip(range(limit - keep + 1), rest, strict=False))
            if remaining <= limit - keep:
                return text
            return text[:end] + ellipsis
        end = match.end()
    return text


def fit_code_points(text: str, max_code_points: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` cut at a grapheme boundary so it holds at most `max_code_points`
    code points, ellipsis included: for columns sized in characters (a
    database's VARCHAR(200)) where a cluster may be many code points."""
    if len(text) <= max_code_points:
        return text
    if len(ellipsis) > max_code_points:
        ellipsis = ""
    budget = max_code_points - len(ellipsis)
    end = 0
    for match in _GRAPHEME.finditer(text):
        if match.end() > budget:
            break
        end = match.end()
    return text[:end] + ellipsis
