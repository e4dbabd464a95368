"""What the team's slots cost an answer, beside what an answer already costs.

Each answer now takes a slot (`SlotBook.claim`, one write transaction) and
gives it back (`release`, another). This measures, on a real SQLite file and
on PostgreSQL when `--pg-url` (or ABLT_TEST_PG_URL) is given, in the same run:

- the reference: one `save_progress` (the save an answer already makes about
  once a second while it streams);
- one claim + release pair, with nobody else about;
- the same pair while `--threads` other threads claim and release at once
  (several sessions sending together), and the pairs per second they reach.

Run:  python -m bench.slots [--rounds 200] [--threads 8] [--pg-url URL]
Prints medians in milliseconds and the ratio pair / reference.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from webapp.answers.slots_store import SlotBook
from webapp.conversations.store import ConversationStore


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


ANN = Member("ann", 1)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure(url: str, rounds: int, threads: int) -> None:
    with ConversationStore(url) as store:
        cid = store.create_conversation(ANN, "omni", "Omni").id
        store.enqueue_prompt(ANN, cid, "Bench")
        claim = store.claim_next(ANN, cid)
        assert claim is not None
        book = SlotBook(store.engine, "bench", configured=threads + 1)

        saves, pairs = [], []
        for n in range(rounds):
            started = time.perf_counter()
            store.save_progress(ANN, claim.answer.id, f"text {n}")
            saves.append(time.perf_counter() - started)
            answer = str(uuid.uuid4())
            started = time.perf_counter()
            assert book.claim(answer, "ann").granted
            book.release(answer)
            pairs.append(time.perf_counter() - started)

        stop = threading.Event()
        done = [0]
        lock = threading.Lock()

        def busy() -> None:
            other = SlotBook(store.engine, f"busy-{uuid.uuid4().hex[:6]}", configured=threads + 1)
            while not stop.is_set():
                answer = str(uuid.uuid4())
                other.claim(answer, "bob")
                other.release(answer)
                with lock:
                    done[0] += 1

        workers = [threading.Thread(target=busy) for _ in range(threads)]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        contended = []
        for _ in range(max(rounds // 4, 10)):
            answer = str(uuid.uuid4())
            started = time.perf_counter()
            book.claim(answer, "ann")
            book.release(answer)
            contended.append(time.perf_counter() - started)
        stop.set()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - began
        backend = sa_backend(url)
        reference, pair = _median_ms(saves), _median_ms(pairs)
        print(f"{backend}: save_progress (reference) {reference:.2f} ms")
        print(f"{backend}: claim + release           {pair:.2f} ms  ({pair / reference:.1f}x)")
        print(
            f"{backend}: claim + release, {threads} threads busy "
            f"{_median_ms(contended):.2f} ms; {(done[0] + len(contended)) / elapsed:.0f} pairs/s"
        )


def sa_backend(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg-url", default=os.environ.get("ABLT_TEST_PG_URL", ""))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.rounds, args.threads)
    if args.pg_url:
        from tests.pg import fresh_schema_url

        with fresh_schema_url("benchslots") as url:
            measure(url, args.rounds, args.threads)


if __name__ == "__main__":
    main()
