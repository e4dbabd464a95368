"""Typed session state, and the logged-in member.

The rule for what a page keeps in `st.session_state` between runs:

- **A widget's value** lives under the widget's own string key: Streamlit
  requires it (`key=` names the entry) and tests set widgets by it
  (`at.text_input(key=Keys.TEAM_CONFIRM)`). Those names are in
  `webapp.ui.state.Keys`, never written as literals in a page.
- **Everything else** (a pending confirmation, a one-time secret, "go to the
  chat page next run", the last share link, ...) is a field of one typed
  object per page or feature, a dataclass kept under one `Keys` entry and got
  with `page_state(Keys.X, XSession)`. A reader finds all of a page's state
  in its dataclass, and mypy checks every use.
- **A notice to show once** goes through `webapp.ui.flash`.

The member logged in to this session (set by `webapp.auth.gate.sync_member`
on every whole-page run) is read with `current_member()`, or
`member_or_none()` where nobody may be logged in.
"""

from __future__ import annotations

from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def page_state(key: str, kind: type[T]) -> T:
    """The session's `kind` object under `key`, made with `kind()` on first use.

    The object is mutable and kept across runs: set its fields (in a callback
    or the page) and the next run reads them. Anything else found under `key`
    (a class from before a code reload) is replaced by a fresh `kind()`.
    """
    found = st.session_state.get(key)
    if not isinstance(found, kind):
        found = kind()
        st.session_state[key] = found
    return found
