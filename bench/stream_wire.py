"""Bytes per answer in the page and on the wire, by answer shape, WebSocket
compression off and on.

The product (`serve.py`, a real token pointed at the emulator, as in
`bench.stream_render`) is started twice in one run: with Streamlit's
`server.enableWebsocketCompression` off and on (`.streamlit/config.toml` sets
it; the other run overrides it by environment variable). Debian's Chromium
reaches it through a small TCP proxy in this script that counts the bytes the
server sends: the wire. The page counts what its WebSocket delivers after
decompression (`bench.stream_page.INIT_SCRIPT`): the page. For each shape of a
`--words`-word answer (`ablt_core.emulator.answers.SHAPES`: the persona's
paragraphs, one paragraph, one code fence, a table, a list), one answer from
Enter until the page is idle again, both divided by the answer's size (UTF-8
bytes), and the server's CPU seconds for the answer (/proc).

With `--breakdown`, also where the page's bytes go with compression on: the
messages the page received during each answer (Streamlit's `ForwardMsg`s, by
kind; the chat page's script, the Copy line and the styles apart), with the
deflated size of each (an estimate: the server's settings, context kept).

Run:  python -m bench.stream_wire [--words 3000] [--delay 0.005] [--shapes ...] [--breakdown]
Noisy on a shared machine: compare the two settings within the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ablt_core.emulator.answers import SHAPES
from bench.stream_page import INIT_SCRIPT, Session, expected_ends, settle
from bench.stream_setup import Emulator, bench_setup, cpu_seconds, member_name
from webapp.render._stream import DEFLATE_MEMLEVEL, DEFLATE_WINDOW_BITS

COMPRESSION_ENV = "STREAMLIT_SERVER_ENABLE_WEBSOCKET_COMPRESSION"


class CountingProxy:
    """A TCP proxy on a free port to 127.0.0.1:`target`, counting bytes sent back."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.received = 0  # bytes from the server to the browser
        self.port = 0
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def pipe(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool
        ) -> None:
            with contextlib.suppress(Exception):
                while data := await reader.read(65536):
                    if count:
                        self.received += len(data)
                    writer.write(data)
                    await writer.drain()
            writer.close()

        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target)
            await asyncio.gather(pipe(client_r, server_w, False), pipe(server_r, client_w, True))

        async def start() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            await server.serve_forever()

        self._loop.run_until_complete(start())


def message_kind(data: bytes) -> str:
    """A `ForwardMsg`'s kind: its type, a delta's type and element, our HTML apart."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = ForwardMsg()
    msg.ParseFromString(data)
    kind = str(msg.WhichOneof("type"))
    if kind != "delta":
        return kind
    delta = msg.delta
    kind = f"delta {delta.WhichOneof('type')}"
    if delta.WhichOneof("type") != "new_element":
        return kind
    element = str(delta.new_element.WhichOneof("type"))
    body = delta.new_element.html.body if element == "html" else ""
    if body.startswith('<div class="ablt-tools"'):
        return "html: a message's time and Copy line"
    if body.startswith('<script type="application/json">{"copied_label"'):
        return "html: the chat page's script"
    if body.startswith("<style>"):
        return "html: styles"
    return f"{kind} {element}"


def breakdown(frames: list[bytes]) -> None:
    """Print the page's messages by kind: count, bytes, deflated bytes (estimate)."""
    # the server's settings (uvicorn's websockets)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -DEFLATE_WINDOW_BITS, DEFLATE_MEMLEVEL)
    size: Counter[str] = Counter()
    packed: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for data in frames:
        kind = message_kind(data)
        count[kind] += 1
        size[kind] += len(data)
        packed[kind] += len(deflate.compress(data)) + len(deflate.flush(zlib.Z_SYNC_FLUSH))
    for kind, total in packed.most_common(8):
        print(f"      {kind:<40} {count[kind]:>4} msgs {size[kind]:>7} B  deflated {total:>6} B")


def set_shape(emulator: Emulator, words: int, shape: str) -> None:
    emulator._call("PUT", "/_emulator/settings", {"answer_words": words, "answer_shape": shape})


def one_answer(
    session: Session, proxy: CountingProxy, emulator: Emulator, shape: str, words: int
) -> dict[str, Any]:
    """One answer of `shape`: page and wire bytes / answer size, server CPU s."""
    session.fresh_chat()
    frames: list[bytes] = getattr(session, "frames", [])
    frames.clear()
    set_shape(emulator, words, shape)
    emulator.clear_streams()
    prompt = f"Bench {shape} {time.monotonic():.3f}"
    session.arm(prompt, expected_ends())
    page_before = session.watch()["bytes"]
    wire_before = proxy.received
    cpu_before = cpu_seconds(session.server.process.pid)
    session.press_enter()
    deadline = time.monotonic() + 300
    record = None
    while time.monotonic() < deadline:
        record = next((r for r in emulator.streams() if r["prompt"] == prompt), None)
        if record and record["ended_at"]:
            break
        time.sleep(0.5)
    settle(session)
    size = len(record["text"].encode()) if record else float("nan")
    return {
        "page": (session.watch()["bytes"] - page_before) / size,
        "wire": (proxy.received - wire_before) / size,
        "cpu": cpu_seconds(session.server.process.pid) - cpu_before,
        "size": size,
        "frames": list(frames),
    }


@contextlib.contextmanager
def product(args: argparse.Namespace, compress: bool) -> Iterator[tuple[Emulator, Session]]:
    from playwright.sync_api import sync_playwright

    from tests.e2e.appserver import launch_chromium
    from tests.e2e.conftest import VIEWPORT

    args.app_env = {COMPRESSION_ENV: "true" if compress else "false"}
    with bench_setup(args) as (emulator, servers, _db, _auth), sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            proxy = CountingProxy(servers["product"].port)
            proxied = dataclasses.replace(servers["product"], port=proxy.port)
            context = browser.new_context(viewport=VIEWPORT)
            context.add_init_script(INIT_SCRIPT)
            context.set_default_timeout(60_000)
            page = context.new_page()
            frames: list[bytes] = []
            page.on(
                "websocket",
                lambda ws: ws.on(
                    "framereceived",
                    lambda data: frames.append(data.encode() if isinstance(data, str) else data),
                ),
            )
            session = Session("product", page, proxied, member_name(1))
            session.frames = frames  # type: ignore[attr-defined]
            session.open()
            session.proxy = proxy  # type: ignore[attr-defined]
            yield emulator, session
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=3000)
    parser.add_argument("--delay", type=float, default=0.005)
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=SHAPES)
    parser.add_argument("--conversations", type=int, default=5)
    parser.add_argument("--breakdown", action="store_true", help="where the page's bytes go")
    cli = parser.parse_args()
    logging.getLogger("streamlit.runtime.caching").setLevel(logging.ERROR)
    from bench.stream_setup import REPO_ROOT

    args = argparse.Namespace(
        keep=False,
        pg_url=None,
        app_dir=REPO_ROOT,
        members=1,
        conversations=cli.conversations,
        delay=cli.delay,
        kinds=["product"],
        app_env={},
    )
    results: dict[tuple[bool, str], dict[str, Any]] = {}
    for compress in (False, True):
        with product(args, compress) as (emulator, session):
            proxy = session.proxy  # type: ignore[attr-defined]
            for shape in cli.shapes:  # warm-up: code blocks load a script of their own once
                one_answer(session, proxy, emulator, shape, 20)
            for shape in cli.shapes:
                found = one_answer(session, proxy, emulator, shape, cli.words)
                results[(compress, shape)] = found
                print(
                    f"  compression {'on ' if compress else 'off'} {shape:<11} "
                    f"page {found['page']:6.1f}x  wire {found['wire']:6.1f}x  "
                    f"cpu {found['cpu']:.2f} s",
                    flush=True,
                )
                if compress and cli.breakdown:
                    breakdown(found["frames"])
    print(f"\n{cli.words} words, {cli.delay * 1000:g} ms a word; bytes / answer size")
    print(
        f"  {'shape':<11} {'page':>7} {'wire off':>9} {'wire on':>8} {'cpu off':>8} {'cpu on':>7}"
    )
    for shape in cli.shapes:
        off, on = results[(False, shape)], results[(True, shape)]
        print(
            f"  {shape:<11} {off['page']:6.1f}x {off['wire']:8.1f}x {on['wire']:7.1f}x "
            f"{off['cpu']:7.2f}s {on['cpu']:6.2f}s"
        )


if __name__ == "__main__":
    sys.exit(main())
