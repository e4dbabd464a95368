"""The login cookie, written by the server so that page scripts cannot read it (HttpOnly).

streamlit-authenticator writes its login cookie from JavaScript (the
extra_streamlit_components CookieManager), and a cookie a script writes is
a cookie scripts can read. Streamlit 1.67 can serve extra HTTP routes next
to the app (`st.App(..., routes=...)`, run with `streamlit run serve.py`),
so the server writes it instead:

1. After a login the script issues a one-time ticket (random, 2 minutes,
   only its SHA-256 is stored, in the database so any app process can
   redeem it) and draws a hidden ``<img src="/_ablt/login-cookie/TICKET">``.
2. The browser fetches it; the route redeems the ticket and answers with
   ``Set-Cookie: ablt_chat_login=<signed token>; HttpOnly; SameSite=Strict;
   Path=/; Max-Age=...`` plus ``Secure`` when the request came over HTTPS
   (its URL, or a trusted proxy's ``X-Forwarded-Proto``).
3. The script draws the image on every run until the ticket is used, so a
   rerun that removes it before the browser fetched it costs nothing.

Log out does the same with ``/_ablt/logout-cookie/TICKET``, which expires
the cookie. The token is the one streamlit-authenticator writes and reads
(a JWT, HS256, ``{"username", "exp_date"}``, signed with the cookie key,
plus ``iat``: a cookie issued before the member's last logout, password
change or disabling is refused, `webapp.team.members.MemberStore.login_still_valid`),
and the browser sends the cookie on the websocket's handshake, so the
library's restore from `st.context.cookies` works unchanged.

When the routes are not mounted (`streamlit run app.py`, AppTest) the app
falls back to the library's script-written cookie, with SameSite=Strict
and Secure over HTTPS, and logs once that the cookie is not HttpOnly.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Final

import jwt
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from webapp.db.engine import reading
from webapp.db.schema import login_tickets as T
from webapp.ui.i18n import _

SET_PATH: Final = "/_ablt/login-cookie"
CLEAR_PATH: Final = "/_ablt/logout-cookie"
SET: Final = "set"
CLEAR: Final = "clear"
TICKET_TTL: Final = timedelta(minutes=2)
# Tickets are deleted this long after they expire (they only matter for minutes).
TICKET_KEEP: Final = timedelta(days=1)

_mounted = False


def routes_mounted() -> bool:
    """Whether this process serves the cookie routes (`serve.py` built them)."""
    return _mounted


def _digest(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class Tickets:
    """One-time tickets in the `login_tickets` table (a migrated store's engine)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(ablt_write=True)  # BEGIN IMMEDIATE on SQLite
            with conn.begin():
                yield conn

    def issue(self, kind: str, username: str | None = None) -> str:
        """A new ticket for `kind` (SET needs the username); returns the ticket itself."""
        if kind not in (SET, CLEAR) or (kind == SET and not username):
            raise ValueError(_("a SET ticket needs a username; kinds are SET and CLEAR"))
        ticket = secrets.token_urlsafe(32)
        now = self._clock()
        with self._write() as conn:
            conn.execute(T.delete().where(T.c.expires_at < now - TICKET_KEEP))
            conn.execute(
                T.insert().values(
                    ticket_hash=_digest(ticket),
                    kind=kind,
                    username=username,
                    expires_at=now + TICKET_TTL,
                    used_at=None,
                )
            )
        return ticket

    def used(self, ticket: str) -> bool:
        """Whether the browser has redeemed `ticket` (or it can no longer be)."""
        with reading(self.engine) as conn:
            row = conn.execute(
                sa.select(T.c.used_at, T.c.expires_at).where(T.c.ticket_hash == _digest(ticket))
            ).first()
        return row is None or row.used_at is not None or row.expires_at <= self._clock()

    def redeem(self, ticket: str, kind: str) -> tuple[bool, str | None]:
        """Use `ticket` once: (True, username) the first time in its life, else (False, None)."""
        now = self._clock()
        with self._write() as conn:
            row = conn.execute(
                sa.select(T.c.username)
                .where(
                    T.c.ticket_hash == _digest(ticket),
                    T.c.kind == kind,
                    T.c.used_at.is_(None),
                    T.c.expires_at > now,
                )
                .with_for_update()
            ).first()
            if row is None:
                return False, None
            conn.execute(T.update().where(T.c.ticket_hash == _digest(ticket)).values(used_at=now))
            return True, row.username


def login_token(username: str, key: str, expiry_days: float, now: datetime) -> str:
    """The login cookie's value: streamlit-authenticator's token (JWT, HS256,
    ``{"username", "exp_date"}`` with exp_date a Unix timestamp) plus its issue
    time ``iat`` (RFC 7519 section 4.1.6), which revocation compares with the
    member's `sessions_valid_after`."""
    exp_date = (now + timedelta(days=expiry_days)).timestamp()
    claims = {"username": username, "exp_date": exp_date, "iat": now.timestamp()}
    return jwt.encode(claims, key, algorithm="HS256")


def issued_at(claims: Mapping[str, object], expiry_days: float) -> datetime | None:
    """When a login token was issued (UTC): its ``iat``, else (a token
    streamlit-authenticator wrote from a script, which has none) its
    ``exp_date`` minus `expiry_days`; None when it has neither."""
    iat = claims.get("iat")
    if isinstance(iat, int | float) and not isinstance(iat, bool):
        return datetime.fromtimestamp(iat, UTC)
    exp = claims.get("exp_date")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return datetime.fromtimestamp(exp, UTC) - timedelta(days=expiry_days)
    return None


def image_tag(path: str, ticket: str, base_path: str = "") -> str:
    """The hidden image whose fetch trades `ticket` for the cookie (or its removal)."""
    prefix = f"/{base_path.strip('/')}" if base_path.strip("/") else ""
    return (
        f'<img src="{prefix}{path}/{ticket}" alt="" width="1" height="1" '
        'style="position:absolute;width:1px;height:1px;opacity:0" referrerpolicy="no-referrer">'
    )


def build_routes(
    *,
    engine: Callable[[], Engine],
    cookie_name: str,
    cookie_key: Callable[[], str],
    expiry_days: float,
    secure: Callable[[Request], bool],
    base_path: str = "",
) -> list[BaseRoute]:
    """The two routes, under `/` and under the app's base URL path if it has one.

    `engine`, `cookie_key` and `secure` are called per request (the store,
    the key and the proxy settings are the app's, read when needed).
    Answers: 204 with Set-Cookie for a good ticket, 404 for any other.
    """
    global _mounted

    async def set_cookie(request: Request) -> Response:
        ticket = request.path_params["ticket"]
        ok, username = await run_in_threadpool(Tickets(engine()).redeem, ticket, SET)
        if not ok or not username:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        token = login_token(username, cookie_key(), expiry_days, datetime.now(UTC))
        response = Response(status_code=204, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            cookie_name,
            token,
            max_age=int(expiry_days * 86400),
            path="/",
            secure=secure(request),
            httponly=True,
            samesite="strict",
        )
        return response

    async def clear_cookie(request: Request) -> Response:
        ticket = request.path_params["ticket"]
        ok, _ = await run_in_threadpool(Tickets(engine()).redeem, ticket, CLEAR)
        response = Response(status_code=204 if ok else 404, headers={"Cache-Control": "no-store"})
        if ok:
            response.delete_cookie(
                cookie_name, path="/", secure=secure(request), httponly=True, samesite="strict"
            )
        return response

    prefixes = [""]
    if base_path.strip("/"):
        prefixes.append(f"/{base_path.strip('/')}")
    routes: list[BaseRoute] = []
    for prefix in prefixes:
        routes.append(Route(f"{prefix}{SET_PATH}/{{ticket}}", set_cookie, methods=["GET"]))
        routes.append(Route(f"{prefix}{CLEAR_PATH}/{{ticket}}", clear_cookie, methods=["GET"]))
    _mounted = True
    return routes
