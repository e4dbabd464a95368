"""Titles and names show as typed, wherever Streamlit renders Markdown.

How Streamlit renders the result is checked in the browser; here, that every
character with a Markdown meaning is escaped and nothing else changes.
"""

from __future__ import annotations

import re

import pytest

from webapp.text.literal import escape

MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:")


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def unescaped_specials(text: str) -> list[str]:
    """Special characters in `text` not preceded by an escaping backslash."""
    found, escaped = [], False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in MARKDOWN_SPECIAL:
            found.append(char)
    return found


@pytest.mark.parametrize(
    "title",
    [
        "Explain **bold** and _this_",
        "Price is $5 and $x^2$",
        "1. not a list",
        "# not a heading",
        "- not a bullet",
        "> not a quote",
        "[a link](https://example.com)",
        "`code` and ~~strike~~",
        ":material/home: and :red[colour]",
        r"back\slash <b>html</b> & co",
        "plain title",
    ],
)
def test_every_markdown_character_is_escaped_and_the_text_kept(title: str) -> None:
    escaped = escape(title)
    assert unescaped_specials(escaped) == []
    assert unescape(escaped) == title


def test_escape_keeps_text_on_one_line() -> None:
    assert escape("  two\nlines\t here ") == "two lines here"


def test_escape_leaves_letters_digits_and_unicode_alone() -> None:
    assert escape("Trip to Rome 2026 – Zürich 🙂") == "Trip to Rome 2026 – Zürich 🙂"
