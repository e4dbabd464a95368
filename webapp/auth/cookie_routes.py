"""The login cookie in the browser, from the Streamlit side: store it after a
login, remove it after a logout.

With `serve.py`'s routes mounted (`webapp.auth.cookie`) the server writes
the cookie (HttpOnly): the script issues a one-time ticket and draws a hidden
image that trades it (`store_login_cookie`, `draw_cookie_ticket`). Without
them (`streamlit run app.py`, AppTest) streamlit-authenticator's cookie
component writes it from a script (`set_login_cookie`). The token is the
library's JWT; `webapp.auth.gate` decides who is logged in.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from webapp.auth import cookie as login_cookie
from webapp.auth.cookie import Tickets, image_tag
from webapp.auth.throttle import served_over_https
from webapp.settings import get_settings
from webapp.ui.state import Keys

if TYPE_CHECKING:
    import streamlit_authenticator as stauth

log = logging.getLogger(__name__)

COOKIE_NAME: Final = "ablt_chat_login"
COOKIE_EXPIRY_DAYS: Final = 30
# Our own key for the cookie component's delete call ("delete" is the library's).
DELETE_COOKIE_KEY: Final = "auth_cookie_delete"


def _tickets() -> Any:
    # Imported when first needed: serve.py imports this module before Streamlit's
    # runtime starts, and webapp.backend declares Streamlit caches, which want it.
    from webapp import backend

    return Tickets(backend.get_store().engine)


_warned_script_cookie = False


def store_login_cookie(authenticator: stauth.Authenticate, username: str) -> None:
    """Have the browser store the login cookie: from the server (HttpOnly) when
    `serve.py` mounted the cookie routes, else from a script (`set_login_cookie`)."""
    global _warned_script_cookie

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
    from streamlit import config

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
