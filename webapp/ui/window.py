"""Long stored lists drawn a window at a time, with a "Show more" button.

A page that draws one element (or a row of widgets) per stored item must not
draw them all: a 20,000-message share drew 8,162 bubbles and never settled.
Each such list shows a first window of `step` items and a button that adds
`step` more, up to `cap`, as the chat does with its messages ("Show earlier",
`webapp.chat.open_chat.PAGE_SIZE`):

    shown, hidden = window.first(entries, window.size(ENTRIES_WINDOW, query, ENTRIES_SHOWN))
    for entry in shown: ...
    window.more_button(ENTRIES_WINDOW, query, ENTRIES_SHOWN, hidden)

Each list has a name (its module's `*_WINDOW` constant). Its size is kept in
the session's `Windows` (under `Keys.WINDOWS`) together with a `scope` (the
share's token, the search typed): another scope starts again at one window,
so a new search never opens 500 entries deep.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import streamlit as st

from webapp.auth.guard import view_action
from webapp.ui.i18n import N_, _, format_number
from webapp.ui.session import page_state
from webapp.ui.state import Keys

_T = TypeVar("_T")


@dataclass
class Windows:
    """Each windowed list's size kept between runs: list name -> (scope, items drawn)."""

    sizes: dict[str, tuple[Hashable, int]] = field(default_factory=dict)


def _windows() -> Windows:
    return page_state(Keys.WINDOWS, Windows)


def size(name: str, scope: Hashable, step: int) -> int:
    """How many items the list `name` draws now for `scope`: `step` at first,
    more after its "Show more" was pressed (`grow`). `step` >= 1."""
    kept = _windows().sizes.get(name)
    if kept is not None and kept[0] == scope:
        return max(kept[1], step)
    return step


@view_action
def grow(name: str, scope: Hashable, step: int, cap: int | None = None) -> None:
    """Callback of "Show more": `step` more items for `scope`, at most `cap`."""
    grown = size(name, scope, step) + step
    _windows().sizes[name] = (scope, grown if cap is None else min(grown, cap))


def latest(items: Sequence[_T], shown: int) -> tuple[list[_T], int]:
    """The last `shown` items (a conversation: the latest messages) and how
    many earlier ones are left out."""
    kept = list(items[-shown:]) if shown > 0 else []
    return kept, len(items) - len(kept)


def first(items: Sequence[_T], shown: int) -> tuple[list[_T], int]:
    """The first `shown` items (a list, newest or pinned first) and how many
    are left out after them."""
    kept = list(items[: max(shown, 0)])
    return kept, len(items) - len(kept)


def more_button(
    name: str,
    scope: Hashable,
    step: int,
    hidden: int,
    *,
    label: str = N_("Show more"),  # untranslated (N_): translated here
    cap: int | None = None,
) -> None:
    """The "Show more (n more)" button under (or, for "Show earlier", above)
    the list `name` with `hidden` items left out; nothing when none are, or
    when the list already draws `cap` items."""
    if hidden <= 0 or (cap is not None and size(name, scope, step) >= cap):
        return
    st.button(
        _("{label} ({hidden} more)").format(label=_(label), hidden=format_number(hidden)),
        key=f"window_{name}_more",
        icon=":material/expand_less:" if "earlier" in label else ":material/expand_more:",
        on_click=grow,
        args=(name, scope, step, cap),
    )
