"""A member's browser tab without a browser: Streamlit's own WebSocket protocol.

What the front end does, and this does too (streamlit 1.67, read from
`streamlit/web/server/starlette/starlette_websocket.py`, `runtime/app_session.py`
and `proto/`):

1. GET the page: the response sets cookies (Streamlit's `_streamlit_xsrf`;
   behind nginx the sticky `ablt_route`), which every later request carries.
2. Open `ws(s)://HOST/_stcore/stream` with the subprotocols `streamlit` and the
   XSRF token, plus `Origin` and the cookies (so a login cookie, once made,
   reaches `st.context.cookies`).
3. Send a `BackMsg{rerun_script: ClientState}` (query string, widget states,
   context info); the server runs the script and answers with `ForwardMsg`s:
   `new_session`, `delta`s (each an element or block at a `delta_path`),
   `script_finished`.
4. A widget event is another `rerun_script` whose `widget_states` carry the
   widget's value under the id the server gave it in its element (a form's
   fields plus its submit button's trigger; `chat_input_value` for the message
   box), with the `fragment_id` of the fragment the widget lives in.

The screen is kept as {delta_path: element}; every text body change after a
prompt is logged with its arrival time, so the bench can find, once the
emulator says what it sent, when the first piece of the answer arrived and
whether the final screen holds all of it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import httpx
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

COOKIE_PATH = re.compile(r"/_ablt/login-cookie/[A-Za-z0-9_\-]+")
LOGIN_COOKIE = "ablt_chat_login"
TEXT_KINDS = ("markdown", "html", "text", "heading", "code", "alert")


def body_of(element: Any) -> str | None:
    """The text an element shows (Markdown, HTML, code...), or None."""
    kind = element.WhichOneof("type")
    if kind not in TEXT_KINDS:
        return None
    inner = getattr(element, kind)
    return str(getattr(inner, "body", "") or getattr(inner, "code_text", ""))


@dataclass
class Tab:
    """One simulated browser tab on one app (URL), with its own cookies."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    screen: dict[tuple[int, ...], Any] = field(default_factory=dict)
    fragments: dict[tuple[int, ...], str] = field(default_factory=dict)
    trace: list[tuple[float, str]] = field(default_factory=list)  # (arrival, body) after a prompt
    errors: list[str] = field(default_factory=list)
    finished: int = 0  # script_finished messages so far
    last_message_at: float = 0.0
    sent_at: float | None = None
    bytes_in: int = 0
    _ws: Any = None
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # -- HTTP with the tab's cookies ----------------------------------------------

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    async def get(self, http: httpx.AsyncClient, path: str) -> httpx.Response:
        """GET `path` with this tab's cookies; keeps the cookies it sets."""
        response = await http.get(
            self.base_url + path, headers={"Cookie": self._cookie_header()} if self.cookies else {}
        )
        http.cookies.clear()  # the tab keeps its own jar (a shared client serves many tabs)
        for header in response.headers.get_list("set-cookie"):
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response

    # -- the socket ---------------------------------------------------------------

    async def open(self, http: httpx.AsyncClient, timeout: float) -> None:
        """GET the page, open the socket, run the script once; returns when it finished."""
        page = await self.get(http, "/")
        page.raise_for_status()
        xsrf = self.cookies.get("_streamlit_xsrf", "")
        ws_url = "ws" + self.base_url.removeprefix("http") + "/_stcore/stream"
        headers = {"Origin": self.base_url}
        if self.cookies:
            headers["Cookie"] = self._cookie_header()
        self._ws = await websockets.connect(
            ws_url,
            subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],  # type: ignore[list-item]
            additional_headers=headers,
            max_size=None,
            open_timeout=timeout,
            ping_interval=None,
        )
        self._reader = asyncio.create_task(self._read())
        await self.rerun([], timeout=timeout)

    async def close(self) -> None:
        """Close the socket (the server ends the session)."""
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                now = time.perf_counter()
                self.bytes_in += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._on_message(msg, now)
        except websockets.ConnectionClosed as err:
            if err.rcvd is None or err.rcvd.code not in (1000, 1001):
                self.errors.append(f"socket closed: {err}")
        except Exception as err:  # a bench counts every failure
            self.errors.append(f"reader: {err!r}")
        finally:
            self._changed.set()

    def _on_message(self, msg: ForwardMsg, now: float) -> None:
        kind = msg.WhichOneof("type")
        self.last_message_at = now
        if kind == "delta":
            path = tuple(msg.metadata.delta_path)
            delta = msg.delta
            which = delta.WhichOneof("type")
            if which == "new_element":
                element = delta.new_element
                self.screen[path] = element
                self.fragments[path] = delta.fragment_id
                if element.WhichOneof("type") == "exception":
                    self.errors.append("exception: " + element.exception.message[:200])
                body = body_of(element)
                if body is not None and self.sent_at is not None:
                    self.trace.append((now, body))
        elif kind == "script_finished":
            self.finished += 1
        elif kind == "ref_hash":
            self.errors.append("ref_hash for a message this tab never cached")
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """True once `predicate()` holds (checked after each message), False at `timeout`."""
        deadline = time.perf_counter() + timeout
        while not predicate():
            left = deadline - time.perf_counter()
            if left <= 0 or (self._reader is not None and self._reader.done()):
                return predicate()
            self._changed.clear()
            with_timeout = asyncio.wait_for(self._changed.wait(), left)
            try:
                await with_timeout
            except TimeoutError:
                return predicate()
        return True

    async def rerun(
        self, states: list[WidgetState], *, fragment_id: str = "", timeout: float = 60
    ) -> bool:
        """Send a rerun with `states` (a widget event); True once a run finished."""
        msg = BackMsg()
        client_state = msg.rerun_script
        client_state.query_string = ""
        client_state.page_script_hash = ""
        client_state.fragment_id = fragment_id
        client_state.widget_states.widgets.extend(states)
        info = client_state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url = self.base_url + "/"
        before = self.finished
        await self._ws.send(msg.SerializeToString())
        return await self.wait_for(lambda: self.finished > before, timeout)

    # -- what is on screen ---------------------------------------------------------

    def widget(self, kind: str, label: str | None = None) -> tuple[Any, str] | None:
        """(the widget's proto, its fragment id) of the first `kind` element whose
        label (or placeholder) is `label`; None if none is on screen."""
        for path in sorted(self.screen):
            element = self.screen[path]
            if element.WhichOneof("type") != kind:
                continue
            inner = getattr(element, kind)
            if label is None or label in (getattr(inner, "label", None), inner.placeholder):
                return inner, self.fragments.get(path, "")
        return None

    def texts(self) -> list[str]:
        """Every text body on screen, in page order."""
        return [b for p in sorted(self.screen) if (b := body_of(self.screen[p])) is not None]

    # -- the two things a member does ---------------------------------------------

    async def log_in(self, http: httpx.AsyncClient, username: str, password: str) -> None:
        """Fill the login form and submit it (one rerun, as the form does), then
        fetch the login cookie's route the page draws, as the browser would.
        Raises RuntimeError when any step does not happen."""
        user = self.widget("text_input", "Username")
        secret = self.widget("text_input", "Password")
        submit = next(
            (
                self.screen[p].button
                for p in sorted(self.screen)
                if self.screen[p].WhichOneof("type") == "button"
                and self.screen[p].button.is_form_submitter
            ),
            None,
        )
        if user is None or secret is None or submit is None:
            raise RuntimeError("no login form on the page")
        states = [
            WidgetState(id=user[0].id, string_value=username),
            WidgetState(id=secret[0].id, string_value=password),
            WidgetState(id=submit.id, trigger_value=True),
        ]
        self.screen.clear()
        await self.rerun(states, fragment_id=user[1], timeout=60)
        if not await self.wait_for(lambda: self.widget("chat_input") is not None, 60):
            raise RuntimeError("no message box after logging in: " + " | ".join(self.texts())[:300])
        found = next((m.group(0) for t in self.texts() if (m := COOKIE_PATH.search(t))), None)
        if found is None:
            raise RuntimeError("the page drew no login cookie route")
        await self.get(http, found)
        if LOGIN_COOKIE not in self.cookies:
            raise RuntimeError("the login cookie route set no cookie")

    async def send_prompt(self, prompt: str) -> None:
        """Type `prompt` in the message box and press Enter."""
        box = self.widget("chat_input")
        if box is None:
            raise RuntimeError("no message box")
        self.trace.clear()
        self.sent_at = time.perf_counter()
        state = WidgetState(id=box[0].id)
        state.chat_input_value.data = prompt
        msg = BackMsg()
        msg.rerun_script.widget_states.widgets.append(state)
        msg.rerun_script.fragment_id = box[1]
        msg.rerun_script.context_info.url = self.base_url + "/"
        msg.rerun_script.context_info.timezone = "UTC"
        await self._ws.send(msg.SerializeToString())

    async def read_answer(self, quiet: float, timeout: float) -> None:
        """Read until a run finished after the prompt and nothing came for `quiet` s."""
        sent = self.sent_at or time.perf_counter()
        deadline = sent + timeout
        while time.perf_counter() < deadline:
            ended = self.finished
            await self.wait_for(
                lambda ended=ended: self.finished > ended, deadline - time.perf_counter()
            )
            if self._reader is not None and self._reader.done():
                return
            while time.perf_counter() < deadline:
                gap = time.perf_counter() - self.last_message_at
                if gap >= quiet:
                    if self.trace:
                        return
                    break
                await asyncio.sleep(quiet - gap)
