"""What became of a round trip to the identity provider, for the login page to say.

Streamlit's own routes run single sign-on: `/auth/login` sends the browser
to the provider, `/oauth2callback` takes its answer (Authlib checks the
`state`, exchanges the code, verifies the ID token's signature, `iss`, `aud`,
`exp` and nonce) and sets its identity cookie. When anything fails there (the
provider down or its metadata garbage: `/auth/login` answers a bare 400
"Authentication error"; a wrong `iss`, an expired or tampered token, a
replayed callback or a wrong `state`, an `error=` from the provider: the
callback redirects to the app without a cookie), the app would only see a
login page with nothing said.

`SsoOutcome` (an ASGI middleware serve.py adds; it shadows no route) watches
those two answers only: a 400 from `/auth/login` becomes a redirect to the
app with `?sso=unavailable`, a callback that sets no cookie gets
`?sso=failed` on its redirect (not a bare one: that is the way back from
the provider's end-session page after Log out); the login page turns the parameter into a
plain message (`outcome_message`). Nothing of the request or the error is
passed on: the details are in the server's log (Streamlit logs them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

OUTCOME_PARAM: Final = "sso"
UNAVAILABLE: Final = "unavailable"
FAILED: Final = "failed"
LOGIN_PATH: Final = "/auth/login"
CALLBACK_PATH: Final = "/oauth2callback"
# The cookie Streamlit's callback sets on a login (st.user reads it).
IDENTITY_COOKIE: Final = b"_streamlit_user"
_MESSAGES: Final = {
    UNAVAILABLE: (
        "Single sign-on is not available right now: the identity provider could not "
        "be reached or answered something unusable. Try again later"
    ),
    FAILED: (
        "Single sign-on did not complete: the identity provider's answer could not be "
        "accepted (it was cancelled, expired, replayed or not valid). Try again"
    ),
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def outcome_message(outcome: str, password_form: bool = True) -> str:
    """The login page's words for `?sso=<outcome>` (any other value: FAILED's)."""
    text = _MESSAGES.get(outcome, _MESSAGES[FAILED])
    return text + (", or log in with your password." if password_form else ".")


def _with_outcome(location: str, outcome: str) -> str:
    parts = urlsplit(location)
    query = "&".join(q for q in (parts.query, urlencode({OUTCOME_PARAM: outcome})) if q)
    return urlunsplit(parts._replace(query=query))


def _sets_identity_cookie(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a response stores Streamlit's identity cookie (a login), not
    only deletes cookies (tests/webapp/auth/test_sso_routes.py checks the
    name against the installed Streamlit)."""
    for name, value in headers:
        if name.lower() != b"set-cookie" or not value.startswith(IDENTITY_COOKIE + b"="):
            continue
        low = value.lower()
        if b"max-age=0" not in low and b"expires=thu, 01 jan 1970" not in low:
            return True
    return False


class SsoOutcome:
    """ASGI middleware: marks the redirects of failed single sign-on round trips.

    `base_path`: the app's `server.baseUrlPath` ('' at the root).
    """

    def __init__(self, app: ASGIApp, base_path: str = "") -> None:
        self.app = app
        base = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self._login = base + LOGIN_PATH
        self._callback = base + CALLBACK_PATH
        self._home = base + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if path not in (self._login, self._callback):
            await self.app(scope, receive, send)
            return
        is_login = path == self._login
        # The provider's answer carries code/state or error; a bare callback is the
        # return from its end-session page after Log out (Streamlit sends it there).
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        answered = any(key in query for key in ("code", "state", "error"))
        replaced = False  # the app's answer was replaced: drop the rest of it

        async def watch(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 200))
                headers = list(message.get("headers", []))
                if is_login and status == 400:
                    replaced = True
                    await send(self._redirect(UNAVAILABLE))
                    await send({"type": "http.response.body", "body": b""})
                    return
                failed = answered and not _sets_identity_cookie(headers)
                if not is_login and 300 <= status < 400 and failed:
                    message["headers"] = [
                        (k, _with_outcome(v.decode("latin-1"), FAILED).encode("latin-1"))
                        if k.lower() == b"location"
                        else (k, v)
                        for k, v in headers
                    ]
            await send(message)

        await self.app(scope, receive, watch)

    def _redirect(self, outcome: str) -> Message:
        location = _with_outcome(self._home, outcome).encode("latin-1")
        return {
            "type": "http.response.start",
            "status": 302,
            "headers": [(b"location", location), (b"content-length", b"0")],
        }


def middleware(base_path: str = "") -> Any:
    """`SsoOutcome` as a Starlette `Middleware` entry for `st.App(middleware=[...])`."""
    from starlette.middleware import Middleware

    return Middleware(SsoOutcome, base_path=base_path)
