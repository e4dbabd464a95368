"""A hostile aBLT-compatible server and an "attacker" server that records what reaches it.

For the tests of issue 12 ("Content from the API is data, never markup"): the
server speaks the wire contract (ablt-api.md) exactly, but every text field of
its bots is an attack: `<script>`, `<img onerror>`, Markdown images pointing at
the attacker, `javascript:` links, Streamlit's `:red[...]` and `:material/...:`
directives, descriptions of hundreds of kilobytes, avatars that redirect to an
internal address, are huge, or drip a byte a second. Any request that reaches
the attacker's server (an image loaded, a link followed) is recorded there.

Both run on loopback in a thread (uvicorn), started and stopped by the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

TOKEN = "hostile-test-token"
ZERO_TOTALS = {
    name: 0
    for name in (
        "original_tokens",
        "enchancement_tokens",
        "response_tokens",
        "total_tokens",
        "original_words",
        "enchancement_words",
        "response_words",
        "total_words",
    )
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # run in a thread: no signals
        pass


@dataclass
class RunningServer:
    """A Starlette app served on loopback from a thread."""

    base_url: str
    server: _Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def serve(app: Starlette) -> RunningServer:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    thread = threading.Thread(target=server.run, name=f"test-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return RunningServer(f"http://127.0.0.1:{port}", server, thread)


# ------------------------------------------------------------------ the attacker


@dataclass
class Attacker:
    """Records every request that reaches it; answers each with a tiny image."""

    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Starlette:
        async def anything(request: Request) -> Response:
            with self.lock:
                self.requests.append(f"{request.method} {request.url.path}?{request.url.query}")
            return Response(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", media_type="image/gif")

        return Starlette(routes=[Route("/{path:path}", anything, methods=["GET", "POST"])])

    def seen(self) -> list[str]:
        with self.lock:
            return list(self.requests)


# ------------------------------------------------------------- the hostile bots


def hostile_texts(attacker: str) -> dict[str, str]:
    """Bot field values, each carrying every kind of markup attack."""
    return {
        "name": (
            f"<script>alert('name')</script> ![n]({attacker}/name.png) "
            ":red[Red] :material/home: [n](javascript:alert(1)) **Evil**"
        ),
        "description": (
            f"<img src=x onerror=alert('desc')> ![]({attacker}/desc.png) "
            f"[click](javascript:alert(1)) :red[coloured] :material/home: "
            f"<a href='{attacker}/a'>a</a>\n# Heading\n- item\n> quote"
        ),
        "model": f"![m]({attacker}/model.png) <b>gpt</b> :red[m]",
        # Without remote URLs: the welcome is shown like an answer, by the message
        # renderer; `REMOTE_WELCOME_SLUG`'s carries those.
        "welcome_message": (
            "Hello!\r\n<script>alert('welcome')</script> "
            "<img src=x onerror=alert('welcome')> :red[w] :material/home:"
        ),
        "remote_welcome": (
            f"Hello!\r\n![]({attacker}/welcome.png) [x](javascript:alert(1)) "
            f"<img src=x onerror=alert('welcome')> [data](data:text/html,<script>alert(1)</script>)"
        ),
    }


# The one bot whose welcome and answers carry remote images and script links:
# what the message renderer (not the bot-field display) must neutralise.
REMOTE_WELCOME_SLUG = "hostile-remote-welcome"


def hostile_bots(attacker: str, count: int, base_url: str) -> list[dict[str, Any]]:
    """`count` bots on the wire; every one hostile, some with huge descriptions
    and avatars that redirect inside, are huge, drip or sit on the attacker."""
    texts = hostile_texts(attacker)
    avatar_kinds = [
        f"{attacker}/avatar.png",  # on the attacker: the server must not fetch it
        f"{base_url}/avatar/redirect-internal",
        f"{base_url}/avatar/huge",
        f"{base_url}/avatar/drip",
        "javascript:alert(1)",
        None,
    ]
    bots = []
    for n in range(count - 1):  # and the remote-welcome bot: `count` in all
        description = texts["description"]
        if n % 50 == 1:
            description += " lorem ipsum" * 30_000  # ~360 KB
        bots.append(
            {
                "uid": f"HOSTILE-{n:05d}",
                "slug": f"hostile-{n:05d}",
                "name": f"{texts['name']} #{n}",
                "description": description,
                "welcome_message": texts["welcome_message"],
                "model": texts["model"] if n % 2 else f"model-{n % 7}",
                "avatar_url": avatar_kinds[n % len(avatar_kinds)],
            }
        )
    bots.append(
        {
            "uid": "HOSTILE-REMOTE",
            "slug": REMOTE_WELCOME_SLUG,
            "name": "Remote welcome",
            "description": "Its welcome and answers carry remote images.",
            "welcome_message": texts["remote_welcome"],
            "model": "model-remote",
            "avatar_url": None,
        }
    )
    return bots


def hostile_api(attacker: str, bot_count: int) -> tuple[Starlette, dict[str, Any]]:
    """The hostile aBLT-compatible app; its `state` records what was asked of it."""
    state: dict[str, Any] = {"base_url": "", "chat_bodies": [], "bots": None}

    def bots() -> list[dict[str, Any]]:
        if state["bots"] is None:
            state["bots"] = hostile_bots(attacker, bot_count, state["base_url"])
        return state["bots"]  # type: ignore[no-any-return]

    def authorised(request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def list_bots(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return Response(json.dumps(bots()), media_type="application/json")

    async def chat(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        body = await request.json()
        state["chat_bodies"].append(body)
        answer = ["Here is ", "<img src=x onerror=alert('answer')> ", ":red[done]."]
        if body.get("bot_slug") == REMOTE_WELCOME_SLUG:
            answer[1:1] = [f"![]({attacker}/answer.png) ", "[a link](javascript:alert(1)) "]
        if not body.get("stream"):
            return JSONResponse({"content": "".join(answer)})

        async def events() -> AsyncIterator[bytes]:
            yield b'data: {"content": ""}\n\n'
            for piece in answer:
                yield f"data: {json.dumps({'content': piece})}\n\n".encode()
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def statistics(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        return JSONResponse({"total": ZERO_TOTALS, "items": []})

    async def avatar(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind == "redirect-internal":
            return Response(
                status_code=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
            )
        if kind == "huge":

            async def endless() -> AsyncIterator[bytes]:
                chunk = b"\x00" * 65536
                for _ in range(300 * 16):  # 300 MB
                    yield chunk

            return StreamingResponse(endless(), media_type="image/png")

        async def drip() -> AsyncIterator[bytes]:
            for _ in range(100):
                yield b"\x00"
                await asyncio.sleep(1.0)

        return StreamingResponse(drip(), media_type="image/png")

    app = Starlette(
        routes=[
            Route("/health-check", health),
            Route("/v1/bots", list_bots),
            Route("/v1/chat", chat, methods=["POST"]),
            Route("/v1/user/usage-statistics", statistics, methods=["POST"]),
            Route("/avatar/{kind}", avatar),
        ]
    )
    return app, state


@dataclass
class HostileSetup:
    api_url: str
    attacker_url: str
    attacker: Attacker
    api_state: dict[str, Any]


@contextlib.contextmanager
def hostile_servers(bot_count: int) -> Iterator[HostileSetup]:
    """The attacker and the hostile API, both on loopback, stopped at the end."""
    attacker = Attacker()
    attacker_server = serve(attacker.app())
    try:
        app, state = hostile_api(attacker_server.base_url, bot_count)
        api_server = serve(app)
        state["base_url"] = api_server.base_url
        try:
            yield HostileSetup(api_server.base_url, attacker_server.base_url, attacker, state)
        finally:
            api_server.stop()
    finally:
        attacker_server.stop()
