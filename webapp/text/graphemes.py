"""Cutting and shortening text for display, only between whole characters.

Titles, previews, log lines and over-long display fields are cut at grapheme
clusters (UAX #29, the `regex` module's ``\\X``): a flag, a joined emoji or a
letter with its combining accent is never split, and the result is valid
Unicode. The rules live with the client (`ablt_core._text`), which cuts the
server's text the same way; this is the app's entry to them.
"""

from __future__ import annotations

from ablt_core._text import cut_graphemes, fix_surrogates, truncate_text

__all__ = ["cut_graphemes", "fix_surrogates", "truncate_text"]
