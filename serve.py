"""Serve aBLT Chat: `streamlit run serve.py` (the same options as `streamlit run app.py`).

It runs app.py as the Streamlit app, plus small HTTP routes: the two that
write and remove the login cookie from the server, so that the cookie is
HttpOnly (page scripts cannot read it) and Secure over HTTPS (see
`webapp.auth.cookie`), and the one-time link of "Download all my data"
(`webapp.lifecycle.downloads`), which streams the zip from disk.
`streamlit run app.py` still works, with the login cookie written by a
script instead (not HttpOnly), without that download link, and with single
sign-on but without the login page's word on a failed round trip
(`webapp.auth.sso_routes`).

It also serves `/healthz`, `/readyz` and `/metrics` for the operator
(`webapp.operations.routes`, docs/deploy.md) and sets up the log lines
(`ABLT_LOG_FORMAT=json` for JSON lines, `webapp.operations.logs`).
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
from webapp.lifecycle import downloads as data_downloads
from webapp.lifecycle.downloads import DataDownloads
from webapp.operations import collect, logs
from webapp.operations import routes as operations
from webapp.operations.health import Readiness
from webapp.settings import get_settings
from webapp.ui.runtime import active_sessions

logs.configure_logging(logs.startup_secrets())


def _engine() -> Engine:
    # Imported when the first request needs it: webapp.backend declares Streamlit
    # caches, which want the runtime that st.App starts after this file is read.
    from webapp import backend

    return backend.get_store().engine


def _downloads() -> DataDownloads:
    from webapp import backend

    return backend.get_downloads()


def _api_reachable() -> bool:
    from webapp import backend

    return backend.api_is_healthy()


def _secure(request: Request) -> bool:
    return served_over_https(str(request.url), request.headers, get_settings().trusted_proxy_hops)


_base_path = str(config.get_option("server.baseUrlPath") or "")
collect.install(collect.AppCollector(collect.open_services, active_sessions))

app = st.App(
    "app.py",
    # Single sign-on: Streamlit's own /auth/login and /oauth2callback run it (no
    # route here shadows them); this only marks a failed round trip for the login page.
    middleware=[sso_routes.middleware(_base_path)],
    routes=data_downloads.build_routes(_downloads, base_path=_base_path)
    + login_cookie.build_routes(
        engine=_engine,
        cookie_name=auth.COOKIE_NAME,
        cookie_key=lambda: auth.cookie_key(get_settings()),
        expiry_days=auth.COOKIE_EXPIRY_DAYS,
        secure=_secure,
        base_path=_base_path,
    )
    + operations.build_routes(
        readiness=Readiness(_engine, collect.open_services, _api_reachable),
        metrics_token=lambda: get_settings().metrics_token,
        trusted_proxy_hops=lambda: get_settings().trusted_proxy_hops,
        base_path=_base_path,
    ),
)
