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

from typing import TYPE_CHECKING, TypeVar

import streamlit as st

from webapp.ui.state import Keys

if TYPE_CHECKING:  # type-only: the adapter depends on no feature package
    from webapp.team.model import Member

T = TypeVar("T")


class NotLoggedIn(RuntimeError):
    """Raised by `current_member()` when no member is logged in to this session."""


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


def member_or_none() -> Member | None:
    """The member logged in to this session, or None.

    `webapp.auth.gate.sync_member` alone writes `Keys.MEMBER`, always a
    `webapp.team.Member`; it drops it when the login is gone."""
    member: Member | None = st.session_state.get(Keys.MEMBER)
    return member


def current_member() -> Member:
    """The member logged in to this session.

    For callbacks and drawing code of pages behind the login gate. Raises
    `NotLoggedIn` when nobody is (a page must have called
    `webapp.auth.gate.require_member` first)."""
    member = member_or_none()
    if member is None:
        raise NotLoggedIn("No member is logged in to this session: log in first.")
    return member
