"""Team login with streamlit-authenticator, and who is logged in.

How it fits together (app.py drives it every run):

1. `configuration_problem(settings)`: with a real token, a missing or short
   cookie key stops the app before any login is possible.
2. `load_team_for(settings)`: the credentials file (`webapp.team`); in demo
   mode a missing file becomes the demo team.
3. `make_authenticator(...)`: streamlit-authenticator gets the credentials as
   a dict, not the file path. With a path it would rewrite the file on every
   login (logged_in flags, failed attempts) and read its cookie settings from
   the file; we keep the file ours and take the cookie key from the settings.
   With a real token, members still using the public demo password are left
   out of that dict, so the login form refuses them.
4. `restore_from_cookie` / `render_login`: its cookie, and our login form
   through its credential check, set `st.session_state["authentication_status"]`,
   `["username"]`, `["name"]`, `["roles"]`. `sync_member` turns that into our
   `Member` (from the file, so a role change or removal applies on the next
   run) under `Keys.MEMBER`.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from webapp.logins import WRONG_CREDENTIALS, client_address, served_over_https
from webapp.passwords import DEMO_PASSWORD, WHITESPACE_NOTE, password_problem
from webapp.settings import Settings, get_settings
from webapp.state import Keys
from webapp.team import DEMO_MEMBERS, Member, Team, TeamError, create_demo_team, load_team

if TYPE_CHECKING:
    import streamlit_authenticator as stauth

__all__ = [
    "Member",
    "change_password",
    "configuration_problem",
    "current_member",
    "delete_cookie_after_logout",
    "list_members",
    "load_team_for",
    "logout",
    "logout_button",
]

log = logging.getLogger(__name__)

COOKIE_NAME = "ablt_chat_login"
COOKIE_EXPIRY_DAYS = 30
LOGIN_FORM_KEY = "login"
LOGOUT_LABEL = "Log out"
LOGOUT_ICON = ":material/logout:"
SIDEBAR_LOGOUT_KEY = "sidebar_logout"
# Our own key for the cookie component's delete call ("delete" is the library's).
DELETE_COOKIE_KEY = "auth_cookie_delete"
# The authenticator's own session-state keys (it owns them; we only read).
_AUTH_STATUS = "authentication_status"
_AUTH_USERNAME = "username"

# Demo mode may run without ABLT_COOKIE_KEY: a random key per server process
# (login cookies then last until the server restarts, which is fine for a demo).
_DEMO_COOKIE_KEY = secrets.token_urlsafe(32)

_team_lock = threading.Lock()
_demo_users_cache: dict[str, tuple[tuple[int, int, int], list[str]]] = {}


def configuration_problem(settings: Settings) -> str | None:
    """What must be set before the app may start with a real token, or None."""
    return settings.cookie_key_problem


def cookie_key(settings: Settings) -> str:
    return settings.cookie_key or _DEMO_COOKIE_KEY


def load_team_for(settings: Settings) -> Team:
    """The team file; in demo mode a missing one becomes the demo team. Raises TeamError."""
    path = Path(settings.auth_file)
    with _team_lock:  # two first sessions must not both create the demo team
        if not path.exists():
            if not settings.demo_mode:
                raise TeamError(
                    f"No team file at {path}. Create it and add the first admin with "
                    f"`python -m webapp.team add USER --name NAME --email EMAIL --role admin` "
                    f"(or set ABLT_AUTH_FILE to an existing file)."
                )
            log.info("Demo mode: creating the demo team in %s", path)
            create_demo_team(path)
        return load_team(path)


def demo_password_users(team: Team) -> list[str]:
    """Members whose password is the public demo password, cached per file version."""
    try:
        stat = team.path.stat()
        # Saves replace the file, so a new inode marks a new version even within one mtime tick.
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return team.demo_password_users()
    key = str(team.path.resolve())
    cached = _demo_users_cache.get(key)
    if cached and cached[0] == version:
        return cached[1]
    # bcrypt is slow on purpose: check each member once per change of the file.
    users = team.demo_password_users()
    _demo_users_cache[key] = (version, users)
    return users


def refused_usernames(settings: Settings, team: Team) -> list[str]:
    """Members who may not log in: demo passwords are public, so not with a real token."""
    return [] if settings.demo_mode else demo_password_users(team)


def make_authenticator(settings: Settings, team: Team) -> stauth.Authenticate:
    import streamlit_authenticator as stauth

    return stauth.Authenticate(
        team.credentials(exclude=refused_usernames(settings, team)),
        cookie_name=COOKIE_NAME,
        cookie_key=cookie_key(settings),
        cookie_expiry_days=COOKIE_EXPIRY_DAYS,
        auto_hash=False,  # the file holds bcrypt hashes only (webapp.team sees to it)
        # Its default 0.7 s pause predates reading cookies from st.context.
        login_sleep_time=0,
    )


def login_cookie_verifies(token: object, key: str) -> bool:
    """Whether `token` (the login cookie's value) is a token signed with `key`.

    Checked before streamlit-authenticator sees the cookie: it prints the
    decoding error of a missing, foreign or stale cookie (e.g. signed with the
    key of a demo server since restarted) to stdout on every run. The value
    itself is never logged.
    """
    import jwt

    if not isinstance(token, str) or not token:
        return False
    try:
        jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError as err:
        log.debug("Login cookie ignored: %s", type(err).__name__)
        return False
    return True


def restore_from_cookie(authenticator: stauth.Authenticate, settings: Settings) -> None:
    """Log in from a valid login cookie, if the browser sent one."""
    from streamlit_authenticator.utilities import LoginError

    if not st.session_state.get("authentication_status") and not login_cookie_verifies(
        st.context.cookies.get(COOKIE_NAME), cookie_key(settings)
    ):
        return  # no cookie of ours: nothing to restore (the library would only print noise)
    try:
        authenticator.login(location="unrendered", key="login")
    except LoginError:
        # The cookie names someone who may no longer log in (removed, refused).
        _forget_login(authenticator)


def render_login(authenticator: stauth.Authenticate, settings: Settings, team: Team) -> None:
    """The login form. The check runs in the submit button's callback.

    A callback runs before the script body, so the login is done even when the
    run that follows the click is cut short: the login cookie component reports
    to the server once it has loaded in the browser, which reruns the script,
    and a rerun request cuts off the run in progress; the run that replaces it
    no longer carries the click. With the check in the form's own body (as
    streamlit-authenticator's form has it) a click within about a second of the
    page loading was silently lost.
    """
    with st.form(LOGIN_FORM_KEY):
        st.subheader("Log in")
        st.text_input("Username", key=Keys.LOGIN_USERNAME, autocomplete="username")
        st.text_input(
            "Password", type="password", key=Keys.LOGIN_PASSWORD, autocomplete="current-password"
        )
        st.caption(WHITESPACE_NOTE)
        st.form_submit_button(
            "Log in", type="primary", on_click=submit_login, args=(authenticator, settings, team)
        )
    problem = st.session_state.pop(Keys.LOGIN_PROBLEM, None)
    if problem:
        st.error(problem)
        if problem == WRONG_CREDENTIALS and refused_usernames(settings, team):
            st.warning(
                "Demo accounts cannot log in while a real aBLT token is configured: "
                "their password is public. An admin can set a new one with "
                "`python -m webapp.team passwd USER`."
            )


def submit_login(authenticator: stauth.Authenticate, settings: Settings, team: Team) -> None:
    """The login form's callback: check the credentials, log in or say why not.

    The check is ours (`webapp.logins.authenticate`: the throttle, then
    bcrypt, a dummy hash for unknown usernames, whitespace kept); the
    password never reaches streamlit-authenticator, which strips it and
    skips bcrypt for unknown usernames. On success the library is told who
    logged in through its token path (the one its cookie uses), which sets
    its session-state keys: authentication_status, username, name, roles.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from webapp import backend, logins
    from webapp.store.logins import LoginLog

    username = str(st.session_state.get(Keys.LOGIN_USERNAME) or "")
    password = str(st.session_state.get(Keys.LOGIN_PASSWORD) or "")
    address = client_address(st.context.ip_address, st.context.headers, settings.trusted_proxy_hops)
    try:
        log_book = LoginLog(backend.get_store(settings).engine)
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
        st.session_state[Keys.LOGIN_PROBLEM] = (
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
    # The password has done its job: keep it out of session state.
    st.session_state.pop(Keys.LOGIN_PASSWORD, None)
    # sync_member stores the login cookie in the browser during this same run.
    st.session_state[Keys.AUTH_SET_COOKIE] = True


def sync_member(authenticator: stauth.Authenticate, team: Team) -> Member | None:
    """The logged-in member from the team file, kept under Keys.MEMBER; else None."""
    if not st.session_state.get(_AUTH_STATUS):
        st.session_state.pop(Keys.MEMBER, None)
        return None
    username = st.session_state.get(_AUTH_USERNAME) or ""
    member = team.get(username)
    if member is None:  # removed from the team since logging in
        _forget_login(authenticator)
        return None
    st.session_state[Keys.MEMBER] = member
    st.session_state[Keys.AUTHENTICATOR] = authenticator
    st.session_state.pop(Keys.AUTH_DELETE_COOKIE, None)  # logged in again: keep the new one
    if st.session_state.pop(Keys.AUTH_SET_COOKIE, False):
        store_login_cookie(authenticator, member.username)
    return member


def _tickets() -> Any:
    from webapp import backend
    from webapp.login_cookie import Tickets

    return Tickets(backend.get_store().engine)


_warned_script_cookie = False


def store_login_cookie(authenticator: stauth.Authenticate, username: str) -> None:
    """Have the browser store the login cookie: from the server (HttpOnly) when
    `serve.py` mounted the cookie routes, else from a script (`set_login_cookie`)."""
    global _warned_script_cookie
    from sqlalchemy.exc import SQLAlchemyError

    from webapp import login_cookie

    if not login_cookie.routes_mounted():
        if not _warned_script_cookie:
            _warned_script_cookie = True
            log.warning(
                "The login cookie is written by a script, so it is not HttpOnly: "
                "serve the app with `streamlit run serve.py` (see docs/security.md)."
            )
        set_login_cookie(authenticator)
        return
    try:
        ticket = _tickets().issue(login_cookie.SET, username)
    except (SQLAlchemyError, OSError):
        # Logged in all the same; only a reload will ask for the password again.
        log.warning("Could not issue a login cookie ticket", exc_info=True)
        return
    st.session_state[Keys.AUTH_COOKIE_TICKET] = (login_cookie.SET_PATH, ticket)


def draw_cookie_ticket() -> None:
    """Draw the hidden image that trades a pending ticket for the cookie (or its
    removal), on every run until the browser has fetched it; for app.py."""
    from sqlalchemy.exc import SQLAlchemyError
    from streamlit import config

    from webapp.login_cookie import image_tag

    pending = st.session_state.get(Keys.AUTH_COOKIE_TICKET)
    if not pending:
        return
    path, ticket = pending
    try:
        used = _tickets().used(ticket)
    except (SQLAlchemyError, OSError):
        log.warning("Could not read a login cookie ticket", exc_info=True)
        used = False
    if used:
        st.session_state.pop(Keys.AUTH_COOKIE_TICKET, None)
        return
    st.sidebar.html(image_tag(path, ticket, str(config.get_option("server.baseUrlPath") or "")))


def set_login_cookie(authenticator: stauth.Authenticate) -> None:
    """Store the signed login cookie in the browser: SameSite=Strict, and Secure when
    the app is served over HTTPS (its URL, or a trusted proxy's X-Forwarded-Proto).

    It cannot be HttpOnly: streamlit-authenticator writes it from JavaScript
    (extra_streamlit_components' CookieManager), and a cookie written by a
    script is always readable by scripts. docs/security.md says why and what
    limits the harm. This is the library's `CookieModel.set_cookie` with the
    Secure flag added (its own call never sets one).
    """
    settings = get_settings()
    model = authenticator.cookie_controller.cookie_model
    model.exp_date = model._set_exp_date()
    token = model._token_encode()
    secure = served_over_https(st.context.url, st.context.headers, settings.trusted_proxy_hops)
    model.cookie_manager.set(
        COOKIE_NAME,
        token,
        expires_at=datetime.now() + timedelta(days=COOKIE_EXPIRY_DAYS),
        secure=secure or None,
        same_site="strict",
    )


def current_member() -> Member | None:
    """The logged-in member, or None."""
    if not st.session_state.get(_AUTH_STATUS):
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


def list_members() -> list[Member]:
    """Everyone in the team file (for an admin's per-member views)."""
    try:
        return load_team_for(get_settings()).members()
    except TeamError:
        return []


DEMO_PASSWORD_FIXED = (
    "This is a shared demo account: its password stays as the login page shows it, so "
    "nobody can lock the others out of the demo. With a real team (an API token set), "
    "members change their own passwords here."
)


def is_fixed_demo_account(settings: Settings, username: str) -> bool:
    """True for the demo team's accounts while in demo mode: their password is
    the one the login page shows, and stays so."""
    return settings.demo_mode and username in {name for name, *_ in DEMO_MEMBERS}


def change_password(member: Member, current: str, new: str, repeat: str) -> str | None:
    """Change the member's password in the team file. Returns a problem, or None on success.

    A demo account's password cannot be changed in demo mode (`DEMO_PASSWORD_FIXED`)."""
    settings = get_settings()
    if is_fixed_demo_account(settings, member.username):
        return DEMO_PASSWORD_FIXED
    try:
        team = load_team_for(settings)
        if not team.check_password(member.username, current):
            return "The current password is not correct."
        problem = password_problem(new, repeat)
        if problem:
            return problem
        team.set_password(member.username, new)
        team.save()
    except TeamError as err:
        return str(err)
    except OSError:
        log.warning("Could not write the team file", exc_info=True)
        return "The team file could not be written. Ask an admin to check its permissions."
    return None


def logout() -> None:
    """Log the member out: forget the session's login and the browser's cookie.

    The logout is written to the login log (the audit log reads it there)."""
    authenticator = st.session_state.get(Keys.AUTHENTICATOR)
    member = current_member()
    if member is not None:
        _record_logout(member.username)
    _forget_login(authenticator)


def _record_logout(username: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from webapp import backend
    from webapp.store.logins import LoginLog

    settings = get_settings()
    try:
        address = client_address(
            st.context.ip_address, st.context.headers, settings.trusted_proxy_hops
        )
        LoginLog(backend.get_store(settings).engine).logout(username, address)
    except (SQLAlchemyError, OSError):  # the logout itself must not depend on the database
        log.warning("Could not record a logout in the login log", exc_info=True)


def logout_button(where: Any, *, key: str) -> None:
    """A Log out button in `where` (`st.sidebar`, or `st` for the page itself).

    Every Log out button is this one: a click logs out through `logout()` and
    reruns, and with no member the rerun lands on the login page. The logout
    runs in the script, not in an on_click callback: it draws the cookie
    component's delete call, and a callback has no place on the page to draw.
    """
    if where.button(LOGOUT_LABEL, key=key, icon=LOGOUT_ICON):
        logout()
        st.rerun()


def _forget_login(authenticator: Any) -> None:
    if authenticator is not None:
        try:
            authenticator.logout(location="unrendered")
        except Exception:  # the cookie component may be gone; the session state is what counts
            log.debug("authenticator logout failed", exc_info=True)
    # Nothing of one member's session may be left for the next one in this browser.
    for key in list(st.session_state.keys()):
        if key != "logout":
            del st.session_state[key]
    st.session_state["logout"] = True
    st.session_state[_AUTH_STATUS] = None
    # The browser's login cookie goes in the runs that follow (delete_cookie_after_logout).
    st.session_state[Keys.AUTH_DELETE_COOKIE] = True


def delete_cookie_after_logout(authenticator: stauth.Authenticate) -> None:
    """After a logout, remove the login cookie from the browser; for the login page.

    The "logout" flag only keeps this session from logging in again from the
    cookie: a reload starts a new session, which would. The library's own
    delete (drawn by `authenticator.logout`) is drawn in the Log out click's
    run, which ends in a rerun at once, so its component is gone before it has
    loaded and the cookie stayed. Here the delete call is drawn in every run
    until the component reports the cookie removed (it reruns the app then).
    """
    if not st.session_state.get(Keys.AUTH_DELETE_COOKIE):
        return
    from sqlalchemy.exc import SQLAlchemyError

    from webapp import login_cookie

    if login_cookie.routes_mounted():
        # A cookie the server wrote HttpOnly is removed by the server too.
        st.session_state.pop(Keys.AUTH_DELETE_COOKIE, None)
        try:
            ticket = _tickets().issue(login_cookie.CLEAR)
        except (SQLAlchemyError, OSError):  # the database is down: the cookie stays
            log.warning("Could not issue a logout cookie ticket", exc_info=True)
            return
        st.session_state[Keys.AUTH_COOKIE_TICKET] = (login_cookie.CLEAR_PATH, ticket)
        return
    # The authenticator's extra_streamlit_components CookieManager. Its component
    # is called as CookieManager.delete calls it, minus that method's bookkeeping
    # of the cookies it last read (which prints a KeyError when ours is not among
    # them) and with the component's answer kept: True once the cookie is removed.
    manager = authenticator.cookie_controller.cookie_model.cookie_manager
    removed = manager.cookie_manager(
        method="delete", cookie=COOKIE_NAME, key=DELETE_COOKIE_KEY, default=False
    )
    if removed is True:
        st.session_state.pop(Keys.AUTH_DELETE_COOKIE, None)


def demo_credentials(settings: Settings, team: Team) -> list[tuple[str, str]]:
    """(username, password) pairs to show on the login page, in demo mode only."""
    if not settings.demo_mode:
        return []
    return [(username, DEMO_PASSWORD) for username in demo_password_users(team)]
