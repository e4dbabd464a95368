"""Copy in one click: a button that puts a text on the clipboard (`assets/clipboard.js`).

The text travels base64-encoded in the button's `data-ablt-copy` attribute, so
no text a bot writes can break out of it or be altered by the HTML sanitiser
(DOMPurify). The page's script (`chat_scripts.draw`) does the copying: the
Clipboard API, or a hidden text area and `execCommand("copy")` where that API
is refused (as on plain HTTP); the button then says "Copied" (`copied_label`).
Its look is `assets/clipboard.css` (`styles.message_tools`).
"""

from __future__ import annotations

import base64
import html
from typing import Final

SCRIPT: Final = "clipboard.js"

# Material "content_copy" from the icon font Streamlit itself bundles and serves
# (no fetch from elsewhere; the HTML sanitiser drops inline SVG).
_COPY_ICON: Final = (
    '<span class="ablt-copy-icon" aria-hidden="true" translate="no">content_copy</span>'
)


def encode_text(text: str) -> str:
    """The raw text as base64 of its UTF-8 bytes (what the copy button carries)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


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
