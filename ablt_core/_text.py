"""Text that stays valid Unicode wherever the client cuts or joins it.

Two rules, used by the streams and by every message that quotes a server's text:

- A string is cut only between grapheme clusters (Unicode UAX #29, via the
  `regex` module's ``\\X``), so a flag, a joined emoji or a letter with its
  combining accent is never split.
- A UTF-16 surrogate half (which JSON's ``\\ud83d`` escapes can produce) is
  never passed on alone: `SurrogateJoiner` rejoins a pair split across two
  stream events and turns a half that never pairs into U+FFFD.
"""

from __future__ import annotations

import re

import regex

__all__ = ["REPLACEMENT", "SurrogateJoiner", "cut_graphemes", "fix_surrogates", "truncate_text"]

REPLACEMENT = "\ufffd"
ELLIPSIS = "…"
_SURROGATE = re.compile("[\ud800-\udfff]")
_GRAPHEME = regex.compile(r"\X")


def _is_high(char: str) -> bool:
    return "\ud800" <= char <= "\udbff"


def fix_surrogates(text: str) -> str:
    """`text` with each surrogate pair made one character and any lone half U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


class SurrogateJoiner:
    """Pieces in, pieces out, with no surrogate half left in any of them.

    A piece that ends with a high surrogate keeps it back until the next piece:
    if that one starts with the low half, they become one character (the
    split `\\ud83d` + `\\ude00` of some servers is 😀). `finish` returns what is
    kept back as U+FFFD (a half that never paired).
    """

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = ""

    @property
    def holding(self) -> bool:
        """True while a high surrogate half waits for its low half."""
        return bool(self._held)

    def feed(self, piece: str) -> str:
        """The part of `held + piece` that is safe to pass on now (maybe "")."""
        if self._held:
            piece, self._held = self._held + piece, ""
        if piece and _is_high(piece[-1]):
            piece, self._held = piece[:-1], piece[-1]
        return fix_surrogates(piece)

    def finish(self) -> str:
        """U+FFFD for a half kept back at the end of the stream, else ""."""
        held, self._held = self._held, ""
        return REPLACEMENT if held else ""


def cut_graphemes(text: str, limit: int) -> str:
    """The longest prefix of `text` of at most `limit` code points ending at a
    grapheme-cluster boundary (may be "" when the first cluster is longer)."""
    if len(text) <= limit:
        return text
    end = 0
    for match in _GRAPHEME.finditer(text, 0, min(len(text), limit + 64)):
        if match.end() > limit:
            break
        end = match.end()
    return text[:end]


def truncate_text(text: str, limit: int, ellipsis: str = ELLIPSIS) -> str:
    """`text` in at most `limit` code points, ending in `ellipsis` when cut,
    cut only between grapheme clusters."""
    if len(text) <= limit:
        return text
    return cut_graphemes(text, max(limit - len(ellipsis), 0)) + ellipsis
