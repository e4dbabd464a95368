"""A list typed into one text field: "urgent, demo" is two items.

People separate items with a comma or a semicolon, and write them in their
own script: the Arabic comma "،" (U+060C) and semicolon "؛" (U+061B), the
ideographic comma "、" (U+3001) and the full-width comma "，" (U+FF0C) and
semicolon "；" (U+FF1B) of Chinese and Japanese keyboards. A line break
separates items too (a pasted column). Every field that takes a list
(History's tags, the self-join email domains) splits with `split_items`, so
the same typing gives the same items everywhere.
"""

from __future__ import annotations

import re
from typing import Final

SEPARATORS: Final = ",;\u060c\u061b\u3001\uff0c\uff1b"
_BY_SEPARATORS: Final = re.compile(f"[{SEPARATORS}\\r\\n]+")
_BY_SEPARATORS_OR_SPACES: Final = re.compile(f"[{SEPARATORS}\\s]+")


def split_items(text: str, *, spaces: bool = False) -> list[str]:
    """The items of `text`, in order, each trimmed, empty ones dropped.

    Items are separated by `SEPARATORS` and line breaks; with `spaces`, by
    any white space too (for items that never hold a space, e.g. domain
    names). Repeats are kept: the caller normalises and then drops them.
    """
    pattern = _BY_SEPARATORS_OR_SPACES if spaces else _BY_SEPARATORS
    return [item for item in (part.strip() for part in pattern.split(text)) if item]
