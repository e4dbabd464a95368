"""What a Copy button carries: the raw text, exactly, in a form the HTML parser
and DOMPurify leave as it is (percent-encoded only where it must be)."""

from __future__ import annotations

import html
import re

import pytest

from webapp.ui.clipboard import copy_button_html, decode_text, encode_text

TEXTS = [
    "",
    "plain words",
    "  leading and trailing spaces  ",
    "\n\nnew lines\r\nCR LF\rlone CR\ttab\x00NUL\n",
    "100% & <b>not bold</b> --> ]]> </style> </title> \"quotes\" 'single'",
    "\u00a0no-break spaces\u00a0",
    "\ufeffbyte order mark\ufeff",
    "\u2028line separators\u2029",
    "%41 is not A, %zz is not an escape, + is not a space",
    "é ü ß 日本語 العربية 👍🏽 👨‍👩‍👧",
    "```python\nprint('x')\n```\n| a | b |\n|---|---|\n- item\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_text_comes_back_exactly(text: str) -> None:
    encoded = encode_text(text)
    assert decode_text(encoded) == text
    # Nothing the parser or the sanitiser would change or act on.
    assert not set(encoded) & set("\"'&<>\r\n\t\x00")
    assert encoded == encoded.strip() and not encoded.startswith("\ufeff")
    button = copy_button_html(text, label="Copy")
    found = re.search(r'data-ablt-copy="([^"]*)"', button)
    assert found is not None and decode_text(html.unescape(found.group(1))) == text


def test_ordinary_characters_travel_as_themselves() -> None:
    assert encode_text("Hello, world: é 日本 👍") == "Hello, world: é 日本 👍"
    assert encode_text("a\nb") == "a%0Ab"
    assert encode_text(" a ") == "%20a%20"


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_text("a\ud800b")
