"""Team login with streamlit-authenticator, and who is logged in.

How it fits together (app.py drives it every run):

1. `configuration_problem(settings)`: with a real token, a missing or short
   cookie key stops the app before any login is possible.
2. `load_team_for(settings)`: the team in the database (`webapp.team`); on
   the first start an existing `ABLT_AUTH_FILE` is imported once, and in demo
   mode the demo team is seeded.
3. `make_authenticator(...)`: streamlit-authenticator gets the credentials as
   a dict built from the database on every run (never a file path: it would
   rewrite the file on every login); the cookie key comes from the settings.
   Disabled members are left out.
   With a real token, members still using the public demo password are left
   out of that dict, so the login form refuses them.
4. `restore_from_cookie` / `render_login`: its cookie, and our login form
   through its credential check, set `st.session_state["authentication_status"]`,
   `["username"]`, `["name"]`, `["roles"]`. `sync_member` turns that into our
   `Member` (read from the database every run, so a role change, disabling or
   removal applies on the next action, in every process) under `Keys.MEMBER`.
5. Revocation: a login cookie issued, or a session logged in, before the
   member's `sessions_valid_after` (Log out, a password change, disabling)
   no longer counts (`restore_from_cookie`, `sync_member`).
6. Single sign-on (`webapp.auth.sso_gate`, when `[auth]` is configured):
   without a login cookie of ours, the identity in `st.user` may log in
   through the same token path, if `webapp.auth.sso.admit` lets it; the
   login page offers "Continue with <provider>" and hides the password form
   when an admin switched password login off; Log out also calls `st.logout()`.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from webapp.auth import sso_gate
from webapp.auth import throttle as logins
from webapp.auth.cookie import issued_at
from webapp.auth.cookie_routes import (
    COOKIE_EXPIRY_DAYS,
    COOKIE_NAME,
    delete_cookie_after_logout,
    draw_cookie_ticket,
    store_login_cookie,
)
from webapp.auth.passwords import DEMO_PASSWORD, WHITESPACE_NOTE, password_matches
from webapp.auth.throttle import WRONG_CREDENTIALS, client_address
from webapp.auth.throttle_store import LoginLog
from webapp.settings import Settings, get_settings
from webapp.team import DEMO_MEMBERS, Member, MemberStore, TeamError, open_team
from webapp.team.actions import change_own_password
from webapp.ui.i18n import N_, _
from webapp.ui.member import AUTH_STATUS as _AUTH_STATUS
from webapp.ui.member import member_or_none
from webapp.ui.state import Keys

if TYPE_CHECKING:
    import streamlit_authenticator as stauth

    from webapp.conversations.store import ConversationStore

__all__ = [
    "Member",
    "change_password",
    "configuration_problem",
    "delete_cookie_after_logout",
    "list_members",
    "load_team_for",
    "logout",
    "logout_button",
]

log = logging.getLogger(__name__)

LOGIN_FORM_KEY = "login"
LOGOUT_LABEL = N_("Log out")
LOGOUT_ICON = ":material/logout:"
SIDEBAR_LOGOUT_KEY = "sidebar_logout"
# The authenticator's own session-state keys (it owns them; we only read).
_AUTH_USERNAME = Keys.AUTHENTICATOR_USERNAME

# Demo mode may run without ABLT_COOKIE_KEY: a random key per server process
# (login cookies then last until the server restarts, which is fine for a demo).
_DEMO_COOKIE_KEY = secrets.token_urlsafe(32)

# (username, bcrypt hash) -> whether it is the demo password's hash. Keyed by
# the hash itself, so a changed password is a new key: never stale.
_demo_hash_cache: dict[tuple[str, str], bool] = {}
_demo_hash_lock = threading.Lock()
SESSION_ENDED = N_(
    "Your login has ended: you logged out elsewhere, your password was "
    "changed or reset, or an admin disabled or removed your account. "
    "Log in again if you can."
)


def configuration_problem(settings: Settings) -> str | None:
    """What must be set before the app may start with a real token, or None."""
    return settings.cookie_key_problem


def cookie_key(settings: Settings) -> str:
    return settings.cookie_key or _DEMO_COOKIE_KEY


def _store(settings: Settings) -> ConversationStore:
    """The app's store. `webapp.backend` is imported when first needed: serve.py
    imports this module before Streamlit's runtime starts, and backend declares
    Streamlit caches, which want that runtime."""
    from webapp import backend

    return backend.get_store(settings)


def load_team_for(settings: Settings) -> MemberStore:
    """The team in the app's database, set up on first use (`webapp.team.open_team`:
    import ABLT_AUTH_FILE once, or seed the demo team). Raises TeamError."""
    return open_team(_store(settings).engine, settings.auth_file, settings.demo_mode)


def demo_password_users(team: MemberStore) -> list[str]:
    """Members whose password is the public demo password. bcrypt is slow on
    purpose: each (member, hash) is checked once per process."""
    found = []
    for username, password_hash in team.password_hashes().items():
        if not password_hash:
            continue
        key = (username, password_hash)
        with _demo_hash_lock:
            known = _demo_hash_cache.get(key)
        if known is None:
            known = password_matches(DEMO_PASSWORD, password_hash)
            with _demo_hash_lock:
                _demo_hash_cache[key] = known
        if known:
            found.append(username)
    return found


def refused_usernames(settings: Settings, team: MemberStore) -> list[str]:
    """Members who may not log in: demo passwords are public, so not with a real token."""
    return [] if settings.demo_mode else demo_password_users(team)


def make_authenticator(settings: Settings, team: MemberStore) -> stauth.Authenticate:
    import streamlit_authenticator as stauth

    return stauth.Authenticate(
        team.credentials(exclude=refused_usernames(settings, team)),
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(settings),
        cookie_expiry_days=COOKIE_EXPIRY_DAYS,
        auto_hash=False,  # the database holds bcrypt hashes only (webapp.team sees to it)
        # Its default 0.7 s pause predates reading cookies from st.context.
        login_sleep_time=0,
    )


def login_cookie_claims(token: object, key: str) -> dict[str, Any] | None:
    """The claims of `token` (the login cookie's value) if it is a token signed
    with `key`, else None.

    Checked before streamlit-authenticator sees the cookie: it prints the
    decoding error of a missing, foreign or stale cookie (e.g. signed with the
    key of a demo server since restarted) to stdout on every run. The value
    itself is never logged.
    """
    import jwt

    if not isinstance(token, str) or not token:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError as err:
        log.debug("Login cookie ignored: %s", type(err).__name__)
        return None
    return claims if isinstance(claims, dict) else None


def login_cookie_verifies(token: object, key: str) -> bool:
    """Whether `token` is a login token signed with `key` (`login_cookie_claims`)."""
    return login_cookie_claims(token, key) is not None


def restore_from_cookie(
    authenticator: stauth.Authenticate, settings: Settings, team: MemberStore
) -> None:
    """Log in from a valid login cookie, if the browser sent one and it is not revoked.

    Revoked: issued before the member's last logout, password change or
    disabling (`MemberStore.login_still_valid`), or naming a removed member;
    such a cookie logs nobody in, even a copy taken before, and the browser
    is told to drop it.
    """
    from streamlit_authenticator.utilities import LoginError

    if not st.session_state.get(_AUTH_STATUS):
        claims = login_cookie_claims(st.context.cookies.get(COOKIE_NAME), cookie_key(settings))
        if claims is None or st.session_state.get(Keys.AUTHENTICATOR_LOGOUT):
            # No cookie of ours (the library would only print noise), or logged out:
            # single sign-on's identity, if any, may still log in.
            if _log_in_from_provider(authenticator, settings, team):
                _record_login(team, str(st.session_state.get(_AUTH_USERNAME) or ""))
            return
        since = issued_at(claims, COOKIE_EXPIRY_DAYS)
        username = str(claims.get("username") or "")
        if since is None or not team.login_still_valid(username, since):
            log.info("A revoked login cookie was refused")
            st.session_state[Keys.AUTH_DELETE_COOKIE] = True
            return
        st.session_state[Keys.AUTH_SINCE] = since
    if st.session_state.get(Keys.SSO_LOGIN):
        _known_to_authenticator(authenticator, team, str(st.session_state.get(_AUTH_USERNAME)))
    try:
        authenticator.login(location="unrendered", key="login")
    except LoginError:
        # The cookie names someone who may no longer log in (removed, refused).
        _forget_login(authenticator)
        return
    if st.session_state.get(_AUTH_STATUS) and not st.session_state.get(Keys.MEMBER):
        _record_login(team, str(st.session_state.get(_AUTH_USERNAME) or ""))


def _known_to_authenticator(authenticator: Any, team: MemberStore, username: str) -> None:
    """Put a single sign-on member in the authenticator's credentials for this
    run: members without a password (joined through single sign-on) or whose
    password the form refuses are left out of them (`make_authenticator`), and
    the library logs in only usernames it holds. No password goes in: the
    token path checks none, and the form uses our own check."""
    member = team.get(username)
    users = authenticator.authentication_controller.authentication_model.credentials.setdefault(
        "usernames", {}
    )
    if member is not None and username not in users:
        users[username] = {
            "name": member.name,
            "email": member.email,
            "password": None,
            "roles": [member.role],
            "user_id": member.user_id,
        }


def _log_in_from_provider(
    authenticator: stauth.Authenticate, settings: Settings, team: MemberStore
) -> bool:
    """Single sign-on: the identity in `st.user`, if the rules admit it
    (`webapp.auth.sso_gate`); logged in through the same token path as the
    password form, with this session's login time now."""

    def login(username: str) -> None:
        _known_to_authenticator(authenticator, team, username)
        authenticator.authentication_controller.authentication_model.login(
            "", "", token={"username": username}
        )

    done = sso_gate.log_in_from_provider(login, team, _store(settings).engine)
    if done is None:
        return False
    st.session_state.pop(Keys.AUTHENTICATOR_LOGOUT, None)
    st.session_state[Keys.AUTH_SINCE] = done[1]
    return True


def _record_login(team: MemberStore, username: str) -> None:
    try:
        team.record_login(username)
    except SQLAlchemyError:  # the login stands; only the Team page's column lags
        log.warning("Could not record a login time", exc_info=True)


def render_login(authenticator: stauth.Authenticate, settings: Settings, team: MemberStore) -> None:
    """The login form. The check runs in the submit button's callback.

    A callback runs before the script body, so the login is done even when the
    run that follows the click is cut short: the login cookie component reports
    to the server once it has loaded in the browser, which reruns the script,
    and a rerun request cuts off the run in progress; the run that replaces it
    no longer carries the click. With the check in the form's own body (as
    streamlit-authenticator's form has it) a click within about a second of the
    page loading was silently lost.
    """
    st.header(_("Log in"))
    if not sso_gate.render_buttons(_store(settings).engine):
        _show_problem(settings, team)
        return
    with st.form(LOGIN_FORM_KEY):
        st.text_input(_("Username"), key=Keys.LOGIN_USERNAME, autocomplete="username")
        st.text_input(
            _("Password"), type="password", key=Keys.LOGIN_PASSWORD, autocomplete="current-password"
        )
        st.caption(_(WHITESPACE_NOTE))
        st.form_submit_button(
            _("Log in"), type="primary", on_click=submit_login, args=(authenticator, settings, team)
        )
    _show_problem(settings, team)


def _show_problem(settings: Settings, team: MemberStore) -> None:
    """Why the last login did not happen (or why this session ended), as text:
    it may quote an email address the identity provider sent.

    Kept until the next attempt rather than shown once: a logout is followed
    by reruns of its own (the cookie component's), and a run replaced by the
    next one before it reached the browser would lose a message popped in it.
    """
    problem = st.session_state.get(Keys.LOGIN_PROBLEM)
    if problem:
        st.error(_(problem))  # kept as its English msgid: shown in today's language
        if problem == WRONG_CREDENTIALS and refused_usernames(settings, team):
            st.warning(
                _(
                    "Demo accounts cannot log in while a real aBLT token is "
                    "configured: their password is public. An admin can set a new one "
                    "on the Team page or with `python -m webapp.team passwd USER`."
                )
            )


def submit_login(authenticator: stauth.Authenticate, settings: Settings, team: MemberStore) -> None:
    """The login form's callback: check the credentials, log in or say why not.

    The check is ours (`webapp.auth.throttle.authenticate`: the throttle, then
    bcrypt, a dummy hash for unknown usernames, whitespace kept); the
    password never reaches streamlit-authenticator, which strips it and
    skips bcrypt for unknown usernames. On success the library is told who
    logged in through its token path (the one its cookie uses), which sets
    its session-state keys: authentication_status, username, name, roles.
    """
    # A new attempt: the last one's word goes.
    st.session_state.pop(Keys.SSO_OUTCOME, None)
    st.session_state.pop(Keys.LOGIN_PROBLEM, None)
    username = str(st.session_state.get(Keys.LOGIN_USERNAME) or "")
    password = str(st.session_state.get(Keys.LOGIN_PASSWORD) or "")
    address = client_address(st.context.ip_address, st.context.headers, settings.trusted_proxy_hops)
    engine = _store(settings).engine
    if not sso_gate.password_login_enabled(engine):
        st.session_state.pop(Keys.LOGIN_PASSWORD, None)
        st.session_state[Keys.LOGIN_PROBLEM] = sso_gate.refuse_password_attempt(engine, username)
        return
    try:
        log_book = LoginLog(engine)
        result = logins.authenticate(
            team,
            username,
            password,
            address,
            log_book,
            refused_usernames=refused_usernames(settings, team),
        )
    except (SQLAlchemyError, OSError):
        log.warning("The login log could not be read or written", exc_info=True)
        st.session_state[Keys.LOGIN_PROBLEM] = N_(
            "Logging in is not possible right now: the app's database is not answering. "
            "Try again in a moment."
        )
        return
    if result.member is None:
        st.session_state[Keys.LOGIN_PROBLEM] = result.problem or WRONG_CREDENTIALS
        return
    authenticator.authentication_controller.authentication_model.login(
        "", "", token={"username": result.member.username}
    )
    st.session_state[Keys.AUTH_SINCE] = team.now()
    _record_login(team, result.member.username)
    _forget_temporary_chats(None)  # a login sweeps what vanished sessions left
    # The password has done its job: keep it out of session state.
    st.session_state.pop(Keys.LOGIN_PASSWORD, None)
    # sync_member stores the login cookie in the browser during this same run.
    st.session_state[Keys.AUTH_SET_COOKIE] = True


def sync_member(authenticator: stauth.Authenticate, team: MemberStore) -> Member | None:
    """The logged-in member, read from the database, kept under Keys.MEMBER; else None.

    A session whose member was removed or disabled, or logged in before the
    member's `sessions_valid_after` (logged out elsewhere, password changed
    or reset), is logged out here, on its next action, with `SESSION_ENDED`.
    """
    if not st.session_state.get(_AUTH_STATUS):
        st.session_state.pop(Keys.MEMBER, None)
        return None
    username = st.session_state.get(_AUTH_USERNAME) or ""
    member = team.get(username)
    if member is None or session_ended(member, st.session_state.get(Keys.AUTH_SINCE)):
        _forget_login(authenticator)
        st.session_state[Keys.LOGIN_PROBLEM] = SESSION_ENDED
        return None
    st.session_state[Keys.MEMBER] = member
    st.session_state[Keys.AUTHENTICATOR] = authenticator
    st.session_state.pop(Keys.LOGIN_PROBLEM, None)  # logged in: the last refusal is moot
    st.session_state.pop(Keys.AUTH_DELETE_COOKIE, None)  # logged in again: keep the new one
    if st.session_state.pop(Keys.AUTH_SET_COOKIE, False):
        store_login_cookie(authenticator, member.username)
    return member


def session_ended(member: Member | None, since: object) -> bool:
    """True when a session logged in at `since` may no longer act for `member`:
    removed (None), disabled, or logged in before `sessions_valid_after`."""
    if member is None or member.disabled:
        return True
    return member.sessions_valid_after is not None and (
        not isinstance(since, datetime) or since <= member.sessions_valid_after
    )


# A fragment run within this long of a read that found the session valid trusts it
# (s): a send's callback (`guard.acting_member`) has just read the member in the
# same run, and a second read would only delay the answer's first word. Actions
# always read again (`guard`); only what a fragment run draws may lag this much.
SESSION_RECHECK_AFTER = 1.0


def session_still_valid(member: Member) -> bool:
    """Whether this session may still act for `member`, read from the database
    unless a read found it valid less than `SESSION_RECHECK_AFTER` s ago.

    For the parts of a page that rerun alone (a fragment skips app.py's gate,
    `sync_member`): a removed or disabled member, or a session revoked since,
    gets False, and the caller reruns the whole page, which logs it out.
    """
    if not st.session_state.get(_AUTH_STATUS):
        return False
    checked_at = st.session_state.get(Keys.MEMBER_CHECKED_AT)
    if isinstance(checked_at, float) and time.monotonic() - checked_at < SESSION_RECHECK_AFTER:
        return True
    if session_ended(member_now(member.username), st.session_state.get(Keys.AUTH_SINCE)):
        return False
    note_session_valid()
    return True


def note_session_valid() -> None:
    """Record that a read of the member's row found this session valid just now."""
    st.session_state[Keys.MEMBER_CHECKED_AT] = time.monotonic()


def member_now(username: str) -> Member | None:
    """The member's row read from the database now (None: no such member).

    One read: the team was set up by the whole-page run that logged this
    session in (`load_team_for` would check that again, two more reads)."""
    return MemberStore(_store(get_settings()).engine).get(username)


def list_members() -> list[Member]:
    """Everyone in the team (for an admin's per-member views); [] when it cannot be read."""
    try:
        return load_team_for(get_settings()).members()
    except (TeamError, SQLAlchemyError):
        return []


DEMO_PASSWORD_FIXED = N_(
    "This is a shared demo account: its password stays as the login "
    "page shows it, so nobody can lock the others out of the demo. "
    "With a real team (an API token set), members change their own "
    "passwords here."
)


def is_fixed_demo_account(settings: Settings, username: str) -> bool:
    """True for the demo team's accounts while in demo mode: their password is
    the one the login page shows, and stays so."""
    return settings.demo_mode and username in {name for name, *_ in DEMO_MEMBERS}


def change_password(member: Member, current: str, new: str, repeat: str) -> str | None:
    """Change the member's own password. Returns a problem, or None on success.

    Ends the member's other logins (their cookies and open sessions) and keeps
    this one: the session's login time moves past the change and a new login
    cookie is stored. A demo account's password cannot be changed in demo
    mode (`DEMO_PASSWORD_FIXED`)."""
    settings = get_settings()
    if is_fixed_demo_account(settings, member.username):
        return DEMO_PASSWORD_FIXED
    try:
        team = load_team_for(settings)
        problem = change_own_password(team, member, current, new, repeat)
    except TeamError as err:
        return str(err)
    except SQLAlchemyError:
        log.warning("Could not change a password", exc_info=True)
        return _("The password could not be changed: the app's database is not answering.")
    if problem:
        return problem
    st.session_state[Keys.AUTH_SINCE] = team.now()
    authenticator = st.session_state.get(Keys.AUTHENTICATOR)
    if authenticator is not None:
        store_login_cookie(authenticator, member.username)
        draw_cookie_ticket()
    return None


def logout() -> bool:
    """Log the member out: forget the session's login and the browser's cookie,
    and revoke on the server every login made before now (a copied cookie too).
    With single sign-on, also `st.logout()`; returns True when that sends the
    browser away (to the provider's end-session page, then back).

    The logout is written to the login log (the audit log reads it there),
    and the member's temporary chats are deleted."""
    member = member_or_none()
    if member is not None:
        try:
            load_team_for(get_settings()).revoke_logins(member.username)
        except (TeamError, SQLAlchemyError):
            log.warning("Could not revoke the logins of a logout", exc_info=True)
    authenticator = st.session_state.get(Keys.AUTHENTICATOR)
    if member is not None:
        _record_logout(member.username)
        _forget_temporary_chats(member)
    _forget_login(authenticator)
    # Single sign-on: Streamlit's identity cookie goes too, and the provider's
    # session where it publishes an end-session endpoint (st.logout).
    return sso_gate.end_provider_session()


def _forget_temporary_chats(member: Member | None) -> None:
    """A logout leaves no temporary chat behind (issue 26): `member`'s are
    deleted; and at every login and logout, anyone's whose session vanished
    a day ago (`TEMPORARY_MAX_AGE`) are swept."""
    try:
        organise = _store(get_settings()).organise
        if member is not None:
            organise.delete_temporaries(member)
        organise.sweep_temporaries()
    except SQLAlchemyError:  # logging in or out must not depend on this
        log.warning("Could not delete temporary chats", exc_info=True)


def _record_logout(username: str) -> None:
    settings = get_settings()
    try:
        address = client_address(
            st.context.ip_address, st.context.headers, settings.trusted_proxy_hops
        )
        LoginLog(_store(settings).engine).logout(username, address)
    except (SQLAlchemyError, OSError):  # the logout itself must not depend on the database
        log.warning("Could not record a logout in the login log", exc_info=True)


def logout_button(where: Any, *, key: str) -> None:
    """A Log out button in `where` (`st.sidebar`, or `st` for the page itself).

    Every Log out button is this one: a click logs out through `logout()` and
    reruns, and with no member the rerun lands on the login page. The logout
    runs in the script, not in an on_click callback: it draws the cookie
    component's delete call, and a callback has no place on the page to draw.
    """
    if where.button(_(LOGOUT_LABEL), key=key, icon=LOGOUT_ICON):
        if logout():
            st.stop()  # st.logout() is taking the browser away: draw nothing more
        st.rerun()


def _forget_login(authenticator: Any) -> None:
    if authenticator is not None:
        try:
            authenticator.logout(location="unrendered")
        except Exception:  # the cookie component may be gone; the session state is what counts
            log.debug("authenticator logout failed", exc_info=True)
    # Nothing of one member's session may be left for the next one in this browser.
    for key in list(st.session_state.keys()):
        if key != Keys.AUTHENTICATOR_LOGOUT:
            del st.session_state[key]
    st.session_state[Keys.AUTHENTICATOR_LOGOUT] = True
    st.session_state[_AUTH_STATUS] = None
    # The browser's login cookie goes in the runs that follow (delete_cookie_after_logout).
    st.session_state[Keys.AUTH_DELETE_COOKIE] = True


def demo_credentials(settings: Settings, team: MemberStore) -> list[tuple[str, str]]:
    """(username, password) pairs to show on the login page, in demo mode only."""
    if not settings.demo_mode:
        return []
    return [(username, DEMO_PASSWORD) for username in demo_password_users(team)]
