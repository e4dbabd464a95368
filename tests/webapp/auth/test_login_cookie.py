"""The server-written login cookie (webapp.auth.cookie): one-time tickets and the two
routes, over a real SQLite file; the browser side is tests/e2e/test_login_cookie.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from starlette.applications import Starlette

from webapp.auth import cookie as login_cookie
from webapp.auth.cookie import CLEAR, SET, Tickets, build_routes, image_tag
from webapp.auth.gate import COOKIE_NAME, login_cookie_verifies
from webapp.auth.throttle import served_over_https
from webapp.conversations.store import ConversationStore

KEY = "k" * 40


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    with ConversationStore(f"sqlite:///{tmp_path / 'app.db'}") as opened:
        yield opened


class Client:
    """GET requests to an ASGI app in this thread (httpx's ASGI transport)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.get(path, headers=headers)

        return asyncio.run(fetch())


@pytest.fixture
def client(store: ConversationStore, monkeypatch: pytest.MonkeyPatch) -> Client:
    # build_routes marks this process as serving the cookie routes; undone after
    # the test, or every later AppTest would issue tickets instead of cookies.
    monkeypatch.setattr(login_cookie, "_mounted", login_cookie.routes_mounted())
    routes = build_routes(
        engine=lambda: store.engine,
        cookie_name=COOKIE_NAME,
        cookie_key=lambda: KEY,
        expiry_days=30,
        secure=lambda request: served_over_https(str(request.url), request.headers, 1),
        base_path="chat",
    )
    return Client(Starlette(routes=routes))


def set_cookie_header(response: httpx.Response) -> str:
    return str(response.headers.get("set-cookie", ""))


def test_a_ticket_buys_one_httponly_cookie_holding_a_signed_login(
    store: ConversationStore, client: Client
) -> None:
    ticket = Tickets(store.engine).issue(SET, "bob")
    assert not Tickets(store.engine).used(ticket)
    response = client.get(f"/_ablt/login-cookie/{ticket}")
    assert response.status_code == 204
    header = set_cookie_header(response)
    assert header.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/" in header
    assert "Max-Age=2592000" in header  # 30 days
    assert "Secure" not in header  # plain http
    token = header.split(";")[0].split("=", 1)[1]
    assert login_cookie_verifies(token, KEY)
    assert jwt.decode(token, KEY, algorithms=["HS256"])["username"] == "bob"
    assert Tickets(store.engine).used(ticket)

    # Once only: a replayed ticket gets nothing.
    again = client.get(f"/_ablt/login-cookie/{ticket}")
    assert again.status_code == 404 and not set_cookie_header(again)


def test_secure_when_a_trusted_proxy_says_https_and_under_the_base_path(
    store: ConversationStore, client: Client
) -> None:
    ticket = Tickets(store.engine).issue(SET, "bob")
    response = client.get(
        f"/chat/_ablt/login-cookie/{ticket}", headers={"X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 204 and "Secure" in set_cookie_header(response)


def test_unknown_expired_or_wrong_kind_tickets_get_nothing(
    store: ConversationStore, client: Client
) -> None:
    assert client.get("/_ablt/login-cookie/made-up").status_code == 404
    clear_ticket = Tickets(store.engine).issue(CLEAR)
    assert client.get(f"/_ablt/login-cookie/{clear_ticket}").status_code == 404
    past = datetime.now(UTC) - timedelta(minutes=5)
    old = Tickets(store.engine, clock=lambda: past).issue(SET, "bob")
    assert Tickets(store.engine).used(old)  # expired: nothing to wait for
    assert client.get(f"/_ablt/login-cookie/{old}").status_code == 404
    with pytest.raises(ValueError):
        Tickets(store.engine).issue(SET)


def test_the_logout_ticket_expires_the_cookie(store: ConversationStore, client: Client) -> None:
    ticket = Tickets(store.engine).issue(CLEAR)
    response = client.get(f"/_ablt/logout-cookie/{ticket}")
    assert response.status_code == 204
    header = set_cookie_header(response)
    assert header.startswith(f'{COOKIE_NAME}=""') and "Max-Age=0" in header


def test_only_the_digest_of_a_ticket_is_stored(store: ConversationStore) -> None:
    ticket = Tickets(store.engine).issue(SET, "bob")
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT ticket_hash FROM login_tickets").scalars().all()
    assert ticket not in stored and len(stored[0]) == 64


def test_the_image_points_at_the_route_under_the_base_path() -> None:
    assert 'src="/chat/_ablt/login-cookie/abc"' in image_tag(login_cookie.SET_PATH, "abc", "chat/")
    assert 'src="/_ablt/logout-cookie/abc"' in image_tag(login_cookie.CLEAR_PATH, "abc")


def test_the_cookie_says_when_it_was_issued_for_revocation(
    store: ConversationStore, client: Client
) -> None:
    """The cookie's issue time is what revocation compares with the member's last logout."""
    before = datetime.now(UTC)
    ticket = Tickets(store.engine).issue(SET, "bob")
    header = set_cookie_header(client.get(f"/_ablt/login-cookie/{ticket}"))
    token = header.split(";")[0].split("=", 1)[1]
    claims = jwt.decode(token, KEY, algorithms=["HS256"])
    issued = login_cookie.issued_at(claims, 30)
    assert issued is not None and before <= issued <= datetime.now(UTC)
    # streamlit-authenticator's own token (script-written) has no iat: its exp_date tells.
    library_token = {"username": "bob", "exp_date": (before + timedelta(days=30)).timestamp()}
    assert login_cookie.issued_at(library_token, 30) == pytest.approx(before, abs=timedelta(0, 1))
    assert login_cookie.issued_at({"username": "bob"}, 30) is None  # no time: refused
