"""How far behind a page on another app process follows an answer.

Two `AnswerService`s, each with its own store (engine and pool) on one
database, stand for two app processes: A generates answers from the emulator,
B follows them (`AnswerService.follow`, as the chat page does). For every
piece of text A receives, the delay is the time until B yields text that
covers it. Modes, measured in the same run:

- `notify`: PostgreSQL, B woken by each save's NOTIFY; A saves every 0.1 s
  while B says it follows (`webapp.answers.signals`);
- `polling`: the same PostgreSQL database with listening off: B reads the
  row every 0.5 s, A saves every second (what SQLite deployments do);
- `sqlite polling`: the same on a SQLite file (one host).

Both services share this Python process (and its GIL), which adds a little to
every mode alike. `--answers` answers of `--words` words stream at once per mode,
the emulator sending a piece every `--delay` s.

Run:  python -m bench.follow_delay [--answers 5] [--words 150] [--delay 0.03] [--pg-url URL]
Prints p50/p99 delay in milliseconds per mode and the reads of the row per
answer B made (the cost of following). Needs PostgreSQL (`--pg-url` or
ABLT_TEST_PG_URL) for the first two modes.
"""

from __future__ import annotations

import argparse
import bisect
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ablt_core import AsyncAbltClient
from ablt_core.emulator import start_emulator
from webapp.answers import AnswerService
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore

TOKEN = "bench-token"


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


Timeline = list[tuple[float, int]]  # (time.monotonic(), characters so far)


def record(pieces: object, timeline: Timeline) -> None:
    total = 0
    for piece in pieces:  # type: ignore[attr-defined]
        if piece:
            total += len(piece)
            timeline.append((time.monotonic(), total))


def delays(generated: Timeline, followed: Timeline) -> list[float]:
    """For each text A received: seconds until B had yielded at least as much."""
    lengths = [length for _, length in followed]
    out = []
    for at, length in generated:
        index = bisect.bisect_left(lengths, length)
        if index < len(followed):
            out.append(max(0.0, followed[index][0] - at))
    return out


def run_mode(url: str, base_url: str, *, listen: bool, answers: int) -> tuple[list[float], float]:
    stores = [ConversationStore(url), ConversationStore(url)]
    services = [
        AnswerService(
            store,
            lambda: AsyncAbltClient(TOKEN, base_url, max_retry_after=60),
            limits=ContextLimits(max_messages=None, max_words=None),
            listen=listen,
        )
        for store in stores
    ]
    a, b = services
    reads = [0]
    real_read = b.store.answer_row

    def counted(*args: object, **kw: object) -> object:
        reads[0] += 1
        return real_read(*args, **kw)  # type: ignore[arg-type]

    b.store.answer_row = counted  # type: ignore[method-assign]
    try:
        if b.signals is not None:
            b.signals.listener.connected.wait(10)
        threads, pairs = [], []
        for n in range(answers):
            member = Member(f"m{n}", 100 + n)
            cid = a.store.create_conversation(member, "omni", "Omni").id
            sent = a.submit(member, cid, f"Question {n}")
            assert sent.answer_id
            generated: Timeline = []
            followed: Timeline = []
            pairs.append((generated, followed))
            for service, line in ((a, generated), (b, followed)):
                pieces = service.follow(member, sent.answer_id)
                threads.append(threading.Thread(target=record, args=(pieces, line)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        found = [d for generated, followed in pairs for d in delays(generated, followed)]
        return found, reads[0] / answers
    finally:
        for service in services:
            service.close()
        for store in stores:
            store.close()


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=5)
    parser.add_argument("--words", type=int, default=150)
    parser.add_argument("--delay", type=float, default=0.03)
    parser.add_argument("--pg-url", default=os.environ.get("ABLT_TEST_PG_URL", ""))
    args = parser.parse_args()
    modes = []
    emulating = start_emulator(delay=args.delay, token=TOKEN, answer_words=args.words)
    with emulating as emulator, tempfile.TemporaryDirectory() as folder:
        if args.pg_url:
            from tests.pg import fresh_schema_url

            with fresh_schema_url("benchfollow") as url:
                for name, listen in (("notify", True), ("polling", False)):
                    found = run_mode(url, emulator.base_url, listen=listen, answers=args.answers)
                    modes.append((name, *found))
        sqlite = f"sqlite:///{Path(folder) / 'follow.db'}"
        found = run_mode(sqlite, emulator.base_url, listen=False, answers=args.answers)
        modes.append(("sqlite polling", *found))
    print(f"{args.answers} answers of {args.words} words at once, a piece every {args.delay} s")
    for name, found, reads in modes:
        p50, p99 = quantile(found, 0.5) * 1000, quantile(found, 0.99) * 1000
        print(
            f"{name:<15} p50 {p50:6.0f} ms  p99 {p99:6.0f} ms  "
            f"reads/answer {reads:5.1f}  ({len(found)} pieces)"
        )


if __name__ == "__main__":
    main()
