"""No left-overs of the run before under an answer being written.

Streamlit keeps the elements of the last run that this run has not drawn
again until this run ends, and a container drawn again at the same place
(same kind: two chat bubbles, two rows) keeps the old one's children until
then (the browser's `AppRoot.addBlock`). A run that shows an answer streams
until the answer is done, so for all that time a left-over would stay on the
page: another conversation's time and Copy line inside the answer's bubble,
its later bubbles under it, a Regenerate or an Edit that still works.

- `fresh()` gives the answer's bubble a place with nothing inherited: an
  `st.empty` is drawn there first (an element, which replaces whatever block
  was there with all its children), then a container in its place.
- `places_used()` says how many places the conversation used at the end of a
  settled run (the chat page keeps it, `webapp.chat.page_state`);
  `clear_rest(used)`, called once the streaming run has drawn all it shows and
  before the answer's text starts, draws an empty element at every place after
  that which the last run used, so nothing of it is left below.
  Places are counted with Streamlit's private cursor (`webapp.ui.cursor`).
"""

from __future__ import annotations

import streamlit as st

from webapp.ui.cursor import next_place as _next_place
from webapp.ui.types import Container


def fresh() -> Container:
    """A container at the next place, with no children of the element the last
    run drew there (see the module's docstring)."""
    return st.empty().container()


def places_used() -> int | None:
    """At the end of a settled run of the conversation: how many places it used
    (None when Streamlit does not say)."""
    return _next_place()


def clear_rest(used: int | None) -> int | None:
    """Empty the places after this one that the last settled run used (`used`,
    from `places_used`; drawn at once, before the answer's text streams), so
    none of its elements is left on the page below the answer being written.
    Returns the count to keep: a run after this one (another conversation's
    answer) clears as far."""
    here = _next_place()
    if used is None or here is None:
        return used
    for _ in range(here, used):
        st.empty()
    return max(here, used)
