"""serve.py leaves Streamlit's single sign-on routes alone, and `SsoOutcome`
marks a failed round trip to the identity provider for the login page."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from streamlit.web.server.starlette import starlette_server_config

from webapp.auth import sso_routes
from webapp.auth.sso_routes import FAILED, OUTCOME_PARAM, UNAVAILABLE, SsoOutcome

RESERVED = ("/auth/login", "/auth/logout", "/oauth2callback")
ROOT = Path(__file__).resolve().parents[3]


SERVE_ROUTES = """
import json, serve
print(json.dumps({
    "paths": [str(getattr(r, "path", "")) for r in serve.app._user_routes],
    "middleware": [m.cls.__name__ for m in serve.app._user_middleware],
}))
"""


def test_no_route_of_serve_py_shadows_streamlits_sso_routes() -> None:
    # In a process of its own: importing serve.py mounts the cookie routes and
    # sets up logging for the whole process, which other tests must not inherit.
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ROUTES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    paths = found["paths"]
    assert paths, "serve.py adds its login cookie routes"
    for path in paths:
        for reserved in RESERVED:
            assert not path.rstrip("/").endswith(reserved), path
            assert not reserved.startswith(path.rstrip("/") + "/") or path in ("", "/"), path
    # The middleware only watches, and only these two paths.
    assert found["middleware"] == [SsoOutcome.__name__]


def test_identity_cookie_name_is_streamlits() -> None:
    assert starlette_server_config.USER_COOKIE_NAME.encode() == sso_routes.IDENTITY_COOKIE


def _run(app: Any, path: str, query: bytes = b"code=c&state=s") -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "path": path, "method": "GET", "headers": [], "query_string": query}
    asyncio.run(SsoOutcome(app, "")(scope, receive, send))
    return sent


def _answer(status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def _location(sent: list[dict[str, Any]]) -> str:
    headers = dict(sent[0]["headers"])
    return str(headers[b"location"].decode())


def test_provider_down_at_login_becomes_a_redirect_with_a_plain_outcome() -> None:
    sent = _run(_answer(400, [], b"Authentication error"), "/auth/login")
    assert sent[0]["status"] == 302
    assert _location(sent) == f"/?{OUTCOME_PARAM}={UNAVAILABLE}"
    assert b"Authentication error" not in b"".join(m.get("body", b"") for m in sent)


def test_callback_without_identity_cookie_is_marked_failed() -> None:
    deleted = [(b"location", b"/"), (b"set-cookie", b"_streamlit_user=; Max-Age=0; Path=/")]
    sent = _run(_answer(302, deleted), "/oauth2callback")
    assert _location(sent) == f"/?{OUTCOME_PARAM}={FAILED}"
    # The bare return from the provider's end-session page (after Log out) is no failure.
    assert _location(_run(_answer(302, deleted), "/oauth2callback", b"")) == "/"


def test_successful_callback_and_other_paths_pass_untouched() -> None:
    stored = [
        (b"location", b"/"),
        (b"set-cookie", b'_streamlit_user="x|y"; HttpOnly; Max-Age=2592000; Path=/'),
    ]
    assert _location(_run(_answer(302, stored), "/oauth2callback")) == "/"
    assert _run(_answer(400, []), "/_stcore/health")[0]["status"] == 400


def test_outcome_messages_are_plain() -> None:
    for outcome in (FAILED, UNAVAILABLE, "<script>"):
        text = sso_routes.outcome_message(outcome)
        assert "<" not in text and "Traceback" not in text
    assert sso_routes.outcome_message(FAILED, password_form=False).endswith("Try again.")
