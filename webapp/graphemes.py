"""Cutting text for display at whole user-perceived characters.

A cut by code points can split a flag (two regional indicators), a family emoji
(people joined by zero-width joiners) or a letter and its combining accents,
leaving a stray half that renders as garbage. Unicode's extended grapheme
clusters (UAX #29) are what a reader counts as characters; the `regex`
package matches one with `\\X`.

Same contract as the text helper's `webapp.text.truncate_text` (limits in code
points, cuts between clusters): when that module is on main, this one goes and
its callers import from there.
"""

from __future__ import annotations

from typing import Final

import regex

ELLIPSIS: Final = "…"
_GRAPHEME = regex.compile(r"\X")


def truncate_text(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` in at most `limit` code points, ending in `ellipsis` when cut,
    cut only between grapheme clusters.

    Reads only as far as the cut, so a description of megabytes costs the
    same as a short one. The code-point bound also fits columns sized in
    characters (a database's VARCHAR(200)), where one cluster may be many
    code points.
    """
    if len(text) <= limit:
        return text
    if len(ellipsis) > limit:
        ellipsis = ""
    budget = max(limit - len(ellipsis), 0)
    end = 0
    for match in _GRAPHEME.finditer(text, 0, min(len(text), budget + 64)):
        if match.end() > budget:
            break
        end = match.end()
    return text[:end] + ellipsis
