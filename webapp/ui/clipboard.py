"""Copy in one click: a button that puts a text on the clipboard (`assets/clipboard.js`).

The text travels percent-encoded in the button's `data-ablt-copy` attribute
(`encode_text`): the characters that could end the attribute, start a
character reference, or make the HTML sanitiser (DOMPurify) drop or trim the
attribute are written as `%XX` of their UTF-8 bytes, every other character as
itself, so no text a bot writes can break out of it or be altered, and the
attribute deflates about as well as the text (base64 did not: it was the
largest part of a run's compressed bytes after the answer, issue 24). The
page's script (`chat_scripts.draw`) does the copying: the Clipboard API, or a
hidden text area and `execCommand("copy")` where that API is refused (as on
plain HTTP); the button then says "Copied" (`copied_label`).
Its look is `assets/clipboard.css` (`styles.message_tools`).
"""

from __future__ import annotations

import html
import urllib.parse
from typing import Final

SCRIPT: Final = "clipboard.js"

# Material "content_copy" from the icon font Streamlit itself bundles and serves
# (no fetch from elsewhere; the HTML sanitiser drops inline SVG).
_COPY_ICON: Final = (
    '<span class="ablt-copy-icon" aria-hidden="true" translate="no">content_copy</span>'
)


# Percent-encoded wherever they stand: `%` itself; what ends or breaks an
# attribute or a character reference (`"`, `'`, `&`); `<` and `>`, without
# which DOMPurify's checks on attribute values (`-->`, `]>`, `</style`) cannot
# match; control characters (the HTML parser turns CR LF into LF, drops NUL).
_ALWAYS: Final = frozenset("%\"'&<>\x7f") | frozenset(map(chr, range(0x20)))


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def encode_text(text: str) -> str:
    """The raw text as the copy button carries it: `%XX` (UTF-8 bytes) for the
    characters in `_ALWAYS` and for white space at either end (DOMPurify trims
    attribute values), every other character as itself. `decode_text` (and the
    browser's `decodeURIComponent`) gives `text` back exactly.
    UnicodeEncodeError for a lone surrogate (not UTF-8)."""
    text.encode("utf-8")  # a lone surrogate cannot be copied; say so here
    chars = [_percent(c) if c in _ALWAYS else c for c in text]
    for end in (0, -1):
        if chars and (chars[end].isspace() or chars[end] == "\ufeff"):
            chars[end] = _percent(chars[end])
    return "".join(chars)


def decode_text(encoded: str) -> str:
    """What `assets/clipboard.js` copies from a button carrying `encoded`
    (`decodeURIComponent`): the inverse of `encode_text`."""
    return urllib.parse.unquote(encoded, errors="strict")


def copy_button_html(text: str, *, label: str) -> str:
    """A Copy button for `text` (any string, carried encoded), named `label` for
    screen readers and on hover; it says what happened in its `.ablt-copy-done`."""
    name = html.escape(label)
    return (
        f'<button type="button" class="ablt-copy" data-ablt-copy="{encode_text(text)}" '
        f'aria-label="{name}" title="{name}">{_COPY_ICON}'
        '<span class="ablt-copy-done" aria-live="polite"></span></button>'
    )


def params(copied_label: str) -> dict[str, str]:
    """`SCRIPT`'s parameters: what a button says once its text is copied."""
    return {"copied_label": copied_label}
