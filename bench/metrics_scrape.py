"""Does scraping /metrics slow answers? And how fast is /readyz with the database down?

In one process, as in the app: an `AnswerService` on a SQLite file answering
from the emulator (`--delay` s per piece, `--words` words per answer), and
the operator's routes (`webapp.operations.routes`, the collector installed as
`serve.py` installs it) served by uvicorn on loopback. Rounds of `--answers`
answers (`--parallel` at once) alternate: with no requests, with a client in
a separate process (as Prometheus would be) asking /healthz `--rate` times a
second (what any request costs the process), and asking /metrics as often.
Prints the median time to the first piece and to the whole answer of each,
their ratios to the quiet rounds, and the scrapes per second reached.

Then /readyz with the database down, as a load balancer would ask it:
PostgreSQL on a closed port, and a server that accepts connections and never
answers (a stopped database); each should answer 503 within 2 s.

Run:  python -m bench.metrics_scrape [--rounds 3] [--answers 24] [--parallel 4] [--rate 50]
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette

from ablt_core import AsyncAbltClient
from ablt_core.emulator import start_emulator
from webapp.answers import AnswerService
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore
from webapp.db.engine import make_engine
from webapp.operations import collect
from webapp.operations.health import Readiness
from webapp.operations.routes import build_routes

TOKEN = "bench-token"
CONDITIONS = {
    "without": "no requests",
    "healthz": "GET /healthz (any request's cost)",
    "metrics": "GET /metrics",
}


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _served(app: Starlette) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def _one_answer(
    service: AnswerService, store: ConversationStore, member: Member
) -> tuple[float, float]:
    """(seconds to the first piece, seconds to the end) of one answer, from the send."""
    cid = store.create_conversation(member, "omni", "Omni").id
    started = time.perf_counter()
    sent = service.submit(member, cid, "Tell me about ferns")
    assert sent.answer_id
    first = None
    for piece in service.follow(member, sent.answer_id):
        if first is None and piece:
            first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started


def _round(
    service: AnswerService, store: ConversationStore, answers: int, parallel: int
) -> list[tuple[float, float]]:
    members = [Member(f"member{n}", n + 1) for n in range(answers)]
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(lambda m: _one_answer(service, store, m), members))


def scrape_loop(url: str, rate: float) -> None:
    """The scraper process: GET `url` `rate` times a second until its stdin
    closes; then prints the scrapes per second and their median in ms."""
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    latencies: list[float] = []
    interval = 1.0 / rate
    with httpx.Client(timeout=5) as client:
        began = next_at = time.perf_counter()
        while not stop.is_set():
            started = time.perf_counter()
            client.get(url).raise_for_status()
            latencies.append(time.perf_counter() - started)
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        took = time.perf_counter() - began
    print(f"{len(latencies) / took:.1f} {statistics.median(latencies) * 1000:.2f}", flush=True)


@contextlib.contextmanager
def _scraping(url: str, rate: float) -> Iterator[list[float]]:
    """A scraper process for the block; the list gets (scrapes/s, median ms) after it."""
    scraper = subprocess.Popen(
        [sys.executable, "-m", "bench.metrics_scrape", "--scrape", url, "--rate", str(rate)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    figures: list[float] = []
    try:
        time.sleep(1.0)  # the scraper is up and scraping
        yield figures
    finally:
        out, _ = scraper.communicate(input="", timeout=30)
        figures += [float(part) for part in out.split()]


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def measure(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        start_emulator(delay=args.delay, token=TOKEN, answer_words=args.words) as emulator,
        ConversationStore(f"sqlite:///{Path(folder) / 'bench.db'}") as store,
    ):
        service = AnswerService(
            store,
            lambda: AsyncAbltClient(TOKEN, emulator.base_url, max_connections=args.parallel),
            limits=ContextLimits(max_messages=None, max_words=None),
            max_workers=args.parallel,
        )
        collect.install(collect.AppCollector(lambda: [service]))
        app = Starlette(
            routes=build_routes(
                readiness=Readiness(lambda: store.engine, lambda: [service]),
                metrics_token=lambda: None,
                trusted_proxy_hops=lambda: 0,
            )
        )
        timings: dict[str, list[tuple[float, float]]] = {key: [] for key in CONDITIONS}
        scrapes: list[list[float]] = []
        try:
            with _served(app) as url:
                _round(service, store, args.parallel, args.parallel)  # warm up
                order = list(CONDITIONS)
                for n in range(args.rounds):
                    # Each round in another order, so a drift favours no condition.
                    for key in order[n % 3 :] + order[: n % 3]:
                        if key == "without":
                            timings[key] += _round(service, store, args.answers, args.parallel)
                            continue
                        with _scraping(f"{url}/{key}", args.rate) as figures:
                            timings[key] += _round(service, store, args.answers, args.parallel)
                        if key == "metrics":
                            scrapes.append(figures)
        finally:
            service.close()
    first = {k: _median_ms([a for a, _ in v]) for k, v in timings.items()}
    whole = {k: _median_ms([b for _, b in v]) for k, v in timings.items()}
    print(
        f"{args.rounds} rounds of {args.answers} answers ({args.parallel} at once, "
        f"{args.words} words at {args.delay * 1000:.0f} ms a piece); requests at {args.rate:g}/s"
    )
    print(f"{'':34}{'first piece':>12}{'ratio':>7}{'whole answer':>15}{'ratio':>7}")
    for key, label in CONDITIONS.items():
        print(
            f"{label:34}{first[key]:>9.1f} ms{first[key] / first['without']:>7.2f}"
            f"{whole[key]:>12.1f} ms{whole[key] / whole['without']:>7.2f}"
        )
    rates = ", ".join(f"{rate:.1f}/s (median {ms:.2f} ms)" for rate, ms in scrapes)
    print(f"/metrics scrapes reached while answering: {rates}")


def readyz_down() -> None:
    """/readyz with PostgreSQL on a closed port and on a server that never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    threading.Thread(
        target=lambda: [held.append(listener.accept()[0]) for _ in range(16)], daemon=True
    ).start()
    cases = {
        "closed port": f"postgresql+psycopg://a:b@127.0.0.1:{_free_port()}/x",
        "never answers": f"postgresql+psycopg://a:b@127.0.0.1:{listener.getsockname()[1]}/x",
    }
    for name, db_url in cases.items():
        engine = make_engine(db_url)
        app = Starlette(
            routes=build_routes(
                readiness=Readiness(lambda e=engine: e, lambda: []),  # type: ignore[misc]
                metrics_token=lambda: None,
                trusted_proxy_hops=lambda: 0,
            )
        )
        with _served(app) as url:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                status = httpx.get(f"{url}/readyz", timeout=10).status_code
                times.append(time.perf_counter() - started)
        print(
            f"/readyz, database {name}: {status}; "
            + ", ".join(f"{t * 1000:.0f}" for t in times)
            + " ms (three calls in a row)"
        )
    listener.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--answers", type=int, default=24)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--words", type=int, default=40)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--scrape", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scrape:
        scrape_loop(args.scrape, args.rate)
        return
    measure(args)
    readyz_down()


if __name__ == "__main__":
    main()
