"""Serve aBLT Chat: `streamlit run serve.py` (the same options as `streamlit run app.py`).

It runs app.py as the Streamlit app, plus the two small HTTP routes that
write and remove the login cookie from the server, so that the cookie is
HttpOnly (page scripts cannot read it) and Secure over HTTPS; see
`webapp.auth.cookie`. `streamlit run app.py` still works, with the
login cookie written by a script instead (not HttpOnly), and single sign-on
without the login page's word on a failed round trip (`webapp.auth.sso_routes`).
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine
from starlette.requests import Request
from streamlit import config

from webapp.auth import cookie as login_cookie
from webapp.auth import gate as auth
from webapp.auth import sso_routes
from webapp.auth.throttle import served_over_https
from webapp.settings import get_settings


def _engine() -> Engine:
    # Imported when the first request needs it: webapp.backend declares Streamlit
    # caches, which want the runtime that st.App starts after this file is read.
    from webapp import backend

    return backend.get_store().engine


def _secure(request: Request) -> bool:
    return served_over_https(str(request.url), request.headers, get_settings().trusted_proxy_hops)


_BASE_PATH = str(config.get_option("server.baseUrlPath") or "")

app = st.App(
    "app.py",
    # Single sign-on: Streamlit's own /auth/login and /oauth2callback run it (no
    # route here shadows them); this only marks a failed round trip for the login page.
    middleware=[sso_routes.middleware(_BASE_PATH)],
    routes=login_cookie.build_routes(
        engine=_engine,
        cookie_name=auth.COOKIE_NAME,
        cookie_key=lambda: auth.cookie_key(get_settings()),
        expiry_days=auth.COOKIE_EXPIRY_DAYS,
        secure=_secure,
        base_path=_BASE_PATH,
    ),
)
