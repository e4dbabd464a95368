"""Who acts is checked when the action runs, not when its button was drawn.

Streamlit runs a widget's callback before the script, so before `app.py`
re-reads the member (`webapp.auth.gate.sync_member`). A callback that trusted
the member kept in the session (or one passed to it in `args=` at draw time)
would act for an admin demoted, disabled or logged out since the page was
drawn, and spend the API for them (issue 28, items 1 and 2).

So every callback that changes data or may start an answer is a
`member_action`: before it runs, the member's row is read from the database
now, the session must still be valid for it (not removed, disabled, or logged
out / password-changed since this login: `gate.session_ended`) and, for
`admin=True`, the member must be an admin now. Otherwise the callback does
nothing and its area shows why; the next run logs an ended session out. The
fresh row replaces the session's member, so the callback's own
`webapp.ui.member.current_member()` is the member as of now.

A callback that changes only what this browser session shows (open a menu,
page a list, move between matches) is a `view_action` instead. Every widget
callback in the app is one or the other: `tests/webapp/auth/test_guard.py`
fails on a callback that is neither.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final, ParamSpec

import streamlit as st

from webapp.auth.gate import SESSION_ENDED, member_now, note_session_valid, session_ended
from webapp.team.model import Member
from webapp.ui import flash
from webapp.ui.i18n import N_
from webapp.ui.member import member_or_none
from webapp.ui.state import Keys

P = ParamSpec("P")

NOT_ADMIN: Final = N_("Only an admin can do that: your role was changed. Nothing was changed.")
# The attribute that marks a guarded callback (read by the test that checks them all).
GUARD_MARK: Final = "__ablt_guard__"
# Where a refusal for a lost admin role waits: app.py shows it above whichever page
# opens next, since the page the button was on (the Team page) is gone for a member.
ROLE_AREA: Final = "role"


class ActionRefused(Exception):
    """This session may not act now; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def acting_member(*, admin: bool = False) -> Member:
    """The session's member re-read from the database now, kept as the session's member.

    Raises `ActionRefused` with `SESSION_ENDED` when nobody is logged in, or
    the member was removed, disabled or logged out since this login; with
    `NOT_ADMIN` when `admin` and the member is no longer an admin. Database
    errors propagate (the caller's own handling says "try again").
    """
    kept = member_or_none()
    if kept is None:
        raise ActionRefused(SESSION_ENDED)
    fresh = member_now(kept.username)
    if fresh is None or session_ended(fresh, st.session_state.get(Keys.AUTH_SINCE)):
        raise ActionRefused(SESSION_ENDED)
    note_session_valid()
    if fresh != kept:  # the row changed since the page read it (a role, a name)
        st.session_state[Keys.MEMBER] = fresh
    if admin and not fresh.is_admin:
        raise ActionRefused(NOT_ADMIN)
    return fresh


def member_action(
    area: str, *, admin: bool = False
) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Decorate a widget callback that changes data or may start an answer.

    The callback runs only if `acting_member(admin=admin)` lets it; otherwise
    nothing happens and the refusal is flashed (`webapp.ui.flash`): an ended
    session to `area` (the next run logs it out and the login page says so),
    a lost admin role to `ROLE_AREA`, which app.py shows on every page.
    """

    def decorate(callback: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(callback)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                acting_member(admin=admin)
            except ActionRefused as refused:
                where = ROLE_AREA if refused.reason == NOT_ADMIN else area
                flash.flash(where, refused.reason, "error")
                return
            callback(*args, **kwargs)

        setattr(guarded, GUARD_MARK, "admin" if admin else "member")
        return guarded

    return decorate


def view_action(callback: Callable[P, None]) -> Callable[P, None]:
    """Mark a widget callback that changes only what this session shows (no
    data, no API): it needs no check, and says so for the test that checks
    every callback."""
    setattr(callback, GUARD_MARK, "view")
    return callback
