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
from webapp.ui.state import Keys

# streamlit-authenticator's own session-state key (it owns it; we only read it).
AUTH_STATUS: Final = "authentication_status"


def current_member() -> Member | None:
    """The logged-in member, or None."""
    if not st.session_state.get(AUTH_STATUS):
        return None
    member = st.session_state.get(Keys.MEMBER)
    return member if isinstance(member, Member) else None


def require_member() -> Member:
    """For the top of every page: the member, or stop the page before any content.

    app.py's login gate registers no page until someone is logged in, so this
    is defence in depth: should a page file ever run without app.py, it still
    shows nothing but a request to log in.
    """
    member = current_member()
    if member is None:
        st.info("Please log in first.")
        st.stop()
    return member
