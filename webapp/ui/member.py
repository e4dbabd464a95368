"""The member logged in to this browser session, as the pages and services see it.

The login itself (form, cookie, throttling) is `webapp.auth.gate`; this is
only the reading side, low enough that anything may ask "who is this?"
(`webapp.backend` asks before handing out the API client) without importing
the login.
"""

from __future__ import annotations

from typing import Final

import streamlit as st

from webapp.team.model import Member
from webapp.ui.i18n import _
from webapp.ui.state import Keys

# streamlit-authenticator's own session-state key (it owns it; we only read it).
AUTH_STATUS: Final = "authentication_status"


class NotLoggedIn(RuntimeError):
    """Raised by `current_member()` when no member is logged in to this session."""


def member_or_none() -> Member | None:
    """The member logged in to this session, or None.

    `webapp.auth.gate.sync_member` alone writes `Keys.MEMBER` (re-read from the
    database on every whole-page run); it drops it when the login is gone."""
    if not st.session_state.get(AUTH_STATUS):
        return None
    member = st.session_state.get(Keys.MEMBER)
    return member if isinstance(member, Member) else None


def current_member() -> Member:
    """The member logged in to this session.

    For callbacks and drawing code of pages behind the login gate. Raises
    `NotLoggedIn` when nobody is (a page must have called `require_member` first)."""
    member = member_or_none()
    if member is None:
        raise NotLoggedIn("No member is logged in to this session: log in first.")
    return member


def require_member() -> Member:
    """For the top of every page: the member, or stop the page before any content.

    app.py's login gate registers no page until someone is logged in, so this
    is defence in depth: should a page file ever run without app.py, it still
    shows nothing but a request to log in.
    """
    member = member_or_none()
    if member is None:
        st.info(_("Please log in first."))
        st.stop()
    return member
