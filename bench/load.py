"""Capacity without a browser: N members at once over Streamlit's own WebSocket protocol.

For each N (default 10, 25, 50, 100, 200), N simulated members are connected
(`bench.load_client.Tab`: the page, the socket, the script's messages), each
logged in through the real login form as a member of their own (made with the
team CLI, 30 saved conversations each; the login cookie fetched from the route
the page draws), the chat open; then all send a prompt at the same moment and
read until their answer is complete. Members stay connected from one level to
the next (a level adds members). Per level:

- first piece on the member's socket (prompt sent to the first text of the
  answer arriving) p50/p95/p99, whole answer (to its last piece) p50/p95;
- errors (connect, login, socket, exceptions drawn), answers lost / cut / mixed:
  each member's final screen against the emulator's record of what it sent for
  that member's prompt (lost: not on screen; cut: only its start; mixed:
  another member's prompt on this member's screen);
- server CPU per answer (/proc/<pid>/stat of the app processes, prompt to end)
  and resident memory per connected member (RSS growth since no member / N).

Capacity = the largest N with p95 first piece <= 1 s and nothing lost, cut or
mixed; climbing stops at the first level that fails. Setups, in one run on one
emulator: `product` (one serve.py process), `reference` (the tutorial app,
bench/reference_app.py) and `nginx2` (two product processes behind Debian's
nginx configured exactly as docs/deploy.md, one PostgreSQL).

Run:  python -m bench.load --pg-url "$ABLT_TEST_PG_URL" \\
          [--levels 10,25,50,100,200] [--setups product,reference,nginx2] \\
          [--words 50] [--delay 0.02] [--level-seconds 60]
Without --pg-url the product uses a SQLite file and `nginx2` is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import load_setup as setup
from bench.load_client import Tab
from bench.stream_setup import PASSWORD, cpu_seconds, rss_mb, start_emulator, throwaway_schema
from tests.e2e.appserver import AppServer, free_port, stop_all

FIRST_PIECE_LIMIT = 1.0  # s, p95: what "carried" means
QUIET = 1.0  # s without a message after a finished run: the answer is complete
JOINING_AT_ONCE = 8  # members opening the page and logging in together
TAG = re.compile(r"\b(?:load|ref)-\d{3}\b")


def norm(text: str) -> str:
    """The words a reader sees: no <style>/<script>, no HTML tags or entities, no
    Markdown marks, single spaces (the screen's and the emulator's text compare
    equal however the page escapes it)."""
    text = re.sub(r"<(style|script)\b.*?</\1>", " ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", re.sub(r"[\\*_`>#|▌]", "", text)).strip()


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100, nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class Level:
    """One level's figures."""

    members: int
    first: list[float] = field(default_factory=list)
    whole: list[float] = field(default_factory=list)
    errors: int = 0
    lost: int = 0
    cut: int = 0
    mixed: int = 0
    cpu_per_answer: float = float("nan")
    rss_per_member: float = float("nan")
    join_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """p95 first piece within the limit, nothing lost/cut/mixed, no error."""
        whole = self.lost + self.cut + self.mixed + self.errors == 0
        return whole and pct(self.first, 95) <= FIRST_PIECE_LIMIT

    def row(self) -> str:
        """One line of the report."""
        ms = [pct(self.first, q) * 1000 for q in (50, 95, 99)]
        whole = [pct(self.whole, q) for q in (50, 95)]
        return (
            f"{self.members:>5} {ms[0]:>7.0f} {ms[1]:>7.0f} {ms[2]:>7.0f} {whole[0]:>7.2f} "
            f"{whole[1]:>7.2f} {self.errors:>4} {self.lost:>4} {self.cut:>4} {self.mixed:>4} "
            f"{self.cpu_per_answer * 1000:>8.0f} {self.rss_per_member:>7.2f} "
            f"{self.join_seconds:>6.0f}"
            f"  {'ok' if self.passed else 'FAIL'}"
        )


HEADER = (
    "    N   p50ms   p95ms   p99ms whole50 whole95  err lost  cut  mix cpu/ansms MB/memb join_s"
)


def judge(tab: Tab, tag: str, prompt: str, record: dict[str, Any] | None, level: Level) -> None:
    """Add `tab`'s answer to `level`: times from its trace, and lost/cut/mixed."""
    screen = norm(" ".join(tab.texts()))
    if os.environ.get("LOAD_DEBUG"):
        print("SCREEN", tab.texts(), "\nTRACE", tab.trace[:5], tab.trace[-3:], "\nREC", record)
    others = {t for t in TAG.findall(screen) if t != tag}
    if others:
        level.mixed += 1
        level.notes.append(f"{tag}: shows {sorted(others)[:3]}")
    if record is None:
        level.lost += 1
        level.notes.append(f"{tag}: the emulator never streamed its prompt")
        return
    expected = norm(record["text"])
    # The page draws an answer block by block (paragraphs): each must be on screen.
    blocks = [b for part in re.split(r"\n\s*\n", record["text"]) if (b := norm(part))]
    shown = [b in screen for b in blocks]
    if not all(shown) or not record.get("completed"):
        level.cut += shown[0]
        level.lost += not shown[0]
        level.notes.append(f"{tag}: final screen lacks part of the answer ({len(expected)} chars)")
    sent = tab.sent_at or 0.0
    own = norm(prompt)
    pieces = [
        (t, b) for t, raw in tab.trace if (b := norm(raw)) and b != own and b[:40] in expected
    ]
    starts = [t for t, b in pieces if expected.startswith(b[:20])]
    if starts:
        level.first.append(starts[0] - sent)
        level.whole.append(pieces[-1][0] - sent)
    else:
        level.first.append(float("inf"))


async def join(tab: Tab, http: httpx.AsyncClient, username: str | None, timeout: float) -> None:
    """Open the page; log in as `username` (the product) until the chat is open."""
    await tab.open(http, timeout)
    if username is not None:
        await tab.log_in(http, username, PASSWORD)


async def run_setup(
    name: str,
    url: str,
    servers: Sequence[AppServer],
    emulator: Any,
    args: argparse.Namespace,
) -> list[Level]:
    """The levels against one setup (members open `url`; `servers` are its app
    processes), climbing until one fails; every member's socket closed at the end."""
    pids = [s.process.pid for s in servers]
    warm_urls = [s.url for s in servers]
    product = name != "reference"
    tabs: list[tuple[str, Tab]] = []
    levels: list[Level] = []
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        # One answer on each process first (straight to its port: behind nginx a
        # member cannot pick one), not counted: imports, caches, connections warm.
        for direct in warm_urls:
            warm = Tab(direct)
            try:
                await join(warm, http, setup.member_name(0) if product else None, 60)
                await warm.send_prompt("Warm-up question")
                await warm.read_answer(QUIET, args.level_seconds)
            finally:
                await warm.close()
        rss0 = sum(rss_mb(p) for p in pids)
        try:
            for n in args.levels:
                level = Level(n)
                levels.append(level)
                gate = asyncio.Semaphore(JOINING_AT_ONCE)
                started = time.perf_counter()

                async def one(
                    index: int, level: Level = level, gate: asyncio.Semaphore = gate
                ) -> None:
                    tag = setup.member_name(index) if product else f"ref-{index:03d}"
                    tab = Tab(url)
                    async with gate:
                        try:
                            await join(tab, http, tag if product else None, args.level_seconds)
                            tabs.append((tag, tab))
                        except Exception as err:  # counted, not raised
                            level.errors += 1
                            level.notes.append(f"{tag} join: {err!r}"[:300])
                            await tab.close()

                await asyncio.gather(*(one(i) for i in range(len(tabs) + 1, n + 1)))
                level.join_seconds = time.perf_counter() - started
                level.rss_per_member = (sum(rss_mb(p) for p in pids) - rss0) / max(len(tabs), 1)
                emulator.clear_streams()
                cpu0 = sum(cpu_seconds(p) for p in pids)
                prompts = {
                    tag: f"Question {n} from {tag}: how do I pay an invoice?" for tag, _ in tabs
                }
                await asyncio.gather(*(tab.send_prompt(prompts[tag]) for tag, tab in tabs))
                await asyncio.gather(
                    *(tab.read_answer(QUIET, args.level_seconds) for _, tab in tabs)
                )
                cpu = sum(cpu_seconds(p) for p in pids) - cpu0
                records = {r["prompt"]: r for r in emulator.streams()}
                for tag, tab in tabs:
                    judge(tab, tag, prompts[tag], records.get(prompts[tag]), level)
                    level.errors += len(tab.errors)
                    level.notes.extend(f"{tag}: {e}"[:300] for e in tab.errors)
                    tab.errors.clear()
                level.cpu_per_answer = cpu / max(len(level.whole), 1)
                print(level.row(), flush=True)
                for note in level.notes[:5]:
                    print("      ", note, flush=True)
                if not level.passed:
                    break
        finally:
            await asyncio.gather(*(tab.close() for _, tab in tabs), return_exceptions=True)
    return levels


def capacity(levels: Sequence[Level]) -> int:
    """The largest N that passed (0: none)."""
    return max((level.members for level in levels if level.passed), default=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="10,25,50,100,200")
    parser.add_argument("--setups", default="product,reference,nginx2")
    parser.add_argument("--pg-url", default=os.environ.get("ABLT_TEST_PG_URL", ""))
    parser.add_argument("--words", type=int, default=50, help="words per answer")
    parser.add_argument("--delay", type=float, default=0.02, help="emulator s per word")
    parser.add_argument("--level-seconds", type=float, default=60.0)
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(",")]
    setups = args.setups.split(",")
    if not args.pg_url and "nginx2" in setups:
        print("nginx2 needs --pg-url (one PostgreSQL for both processes): skipped")
        setups.remove("nginx2")
    print(f"load average at start: {os.getloadavg()}, {os.cpu_count()} cores")
    print(
        f"levels {args.levels}, {args.words} words at {args.delay * 1000:.0f} ms a word, "
        f"{args.conversations} saved conversations a member, "
        f"at most {args.level_seconds:.0f} s a level"
    )
    with contextlib.ExitStack() as stack:
        tmp = tempfile.mkdtemp(prefix="ablt-load-") if args.keep else None
        if tmp is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ablt-load-"))
        workdir = Path(tmp)
        db_url = (
            stack.enter_context(throwaway_schema(args.pg_url))
            if args.pg_url
            else f"sqlite:///{workdir / 'conversations.db'}"
        )
        auth_file = workdir / "auth.yaml"
        if any(s != "reference" for s in setups):
            took = setup.run_seed(auth_file, db_url, max(args.levels), args.conversations)
            print(f"{max(args.levels)} members made with the team CLI in {took:.0f} s")
        emulator = start_emulator(args.delay, free_port())
        stack.callback(emulator.stop)
        emulator._call("PUT", "/_emulator/settings", {"answer_words": args.words})
        results: dict[str, list[Level]] = {}
        for name in setups:
            print(f"\n== {name} (load average {os.getloadavg()[0]:.1f})\n{HEADER}", flush=True)
            if name == "reference":
                servers = [setup.start_reference(workdir, emulator)]
            else:
                servers = setup.start_products(
                    workdir / name,
                    emulator,
                    auth_file,
                    db_url,
                    2 if name == "nginx2" else 1,
                    {"ABLT_TRUSTED_PROXY_HOPS": "1"} if name == "nginx2" else {},
                )
            try:
                with contextlib.ExitStack() as proxy:
                    url = servers[0].url
                    if name == "nginx2":
                        url = proxy.enter_context(
                            setup.nginx(workdir / name, [s.port for s in servers])
                        ).url
                    results[name] = asyncio.run(run_setup(name, url, servers, emulator, args))
            finally:
                stop_all(servers)
        print(f"\nload average at end: {os.getloadavg()}")
        for name, levels in results.items():
            found = capacity(levels)
            said = f"{found} members" if found else f"below {args.levels[0]} members"
            print(f"capacity {name}: {said}")
        if "product" in results and "reference" in results:
            ours, ref = capacity(results["product"]), capacity(results["reference"])
            if ours and ref:
                print(f"product / reference: {ours / ref:.2f}x")
            else:
                print(f"product / reference: below {args.levels[0]} / {ref or 'below'}: no ratio")


if __name__ == "__main__":
    main()
