"""How long an evaluation run takes, and how it scales with the team's limit
on simultaneous answers.

A run of `--prompts` prompts x `--bots` bots (20 x 4 = 80 answers by default)
against the emulator (`--words` words per answer at `--delay` s per piece),
through the app's own machinery: `webapp.evaluations.EvaluationRunner` starting
the answers through `webapp.answers.AnswerService` (admission, the team's
slots in the database, the worker cap of 16) on a real SQLite file. For each
team limit (`--limits`, default 1, 4, 16), a fresh database holds the limit
and the run is timed from Run to its end (every answer recorded).

The reference, measured in the same run: one answer alone (median of 3),
so `ideal = answers x single / limit` is what perfect packing would give;
the efficiency is ideal / measured.

Run:  python -m bench.evaluation_run [--prompts 20] [--bots 4] [--limits 1 4 16]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle, start_emulator
from webapp.answers import AnswerService
from webapp.answers.slots import holder_id
from webapp.answers.slots_store import SlotBook
from webapp.conversations.context import ContextLimits, ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.evaluations import EvaluationRunner, Evaluations, RunBot
from webapp.evaluations.model import progress_of

TOKEN = "bench-token"
BOTS = ["omni", "chef", "code-mentor", "stoic-sage"]
TIMEOUT = 600.0


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


BENCH = Member("bench", 1)


def _service(store: ConversationStore, emulator: EmulatorHandle, limit: int) -> AnswerService:
    return AnswerService(
        store,
        lambda: AsyncAbltClient(TOKEN, emulator.base_url, max_connections=16),
        limits=ContextLimits(max_messages=None, max_words=None),
        max_workers=16,
        slots=SlotBook(store.engine, holder_id(), configured=limit),
        slot_poll=0.05,
    )


def single_answer(folder: Path, emulator: EmulatorHandle) -> float:
    """Seconds for one answer alone, Run to end, through the same machinery."""
    with ConversationStore(f"sqlite:///{folder / 'single.db'}") as store:
        service = _service(store, emulator, 1)
        try:
            times = []
            for n in range(4):  # the first warms up
                conv = store.create_conversation(BENCH, "omni", "Omni")
                started = time.perf_counter()
                submitted = service.submit(BENCH, conv.id, f"Alone {n}?")
                live = service.live(submitted.answer_id or "")
                assert live is not None
                live.wait_done(TIMEOUT)
                if n:
                    times.append(time.perf_counter() - started)
            return statistics.median(times)
        finally:
            service.close()


def timed_run(folder: Path, emulator: EmulatorHandle, limit: int, prompts: int, bots: int) -> float:
    """Seconds from Run to the end of a run of `prompts` x `bots` at team limit `limit`."""
    with ConversationStore(f"sqlite:///{folder / f'limit{limit}.db'}") as store:
        service = _service(store, emulator, limit)
        evaluations = Evaluations(store)
        eval_set = evaluations.create_set(
            BENCH, "Bench", [f"Question {n}?" for n in range(prompts)]
        )
        picked = [RunBot(slug, slug, ConversationOptions()) for slug in BOTS[:bots]]
        runner = EvaluationRunner(evaluations, service, poll=0.05)
        try:
            started = time.perf_counter()
            run = evaluations.create_run(BENCH, eval_set, picked)
            runner.wake()
            while evaluations.run(run.id).active:
                if time.perf_counter() - started > TIMEOUT:
                    raise TimeoutError("the run did not end")
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            progress = progress_of(evaluations.cells(run.id))
            assert progress.done == prompts * bots, progress
            return elapsed
        finally:
            runner.close()
            service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--bots", type=int, default=4, choices=range(2, len(BOTS) + 1))
    parser.add_argument("--limits", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--words", type=int, default=20, help="words per answer")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per piece")
    args = parser.parse_args()
    answers = args.prompts * args.bots
    with (
        tempfile.TemporaryDirectory() as name,
        start_emulator(delay=args.delay, token=TOKEN) as emulator,
    ):
        emulator.set_answer_words(args.words)
        folder = Path(name)
        single = single_answer(folder, emulator)
        print(
            f"{args.prompts} prompts x {args.bots} bots = {answers} answers of {args.words} words "
            f"at {args.delay * 1000:.0f} ms per piece; one answer alone: {single:.2f} s"
        )
        print("| team limit | run time | answers/s | speed-up vs limit 1 | ideal | efficiency |")
        print("|---|---|---|---|---|---|")
        first = None
        for limit in args.limits:
            elapsed = timed_run(folder, emulator, limit, args.prompts, args.bots)
            first = first or elapsed
            ideal = answers * single / limit
            print(
                f"| {limit} | {elapsed:.1f} s | {answers / elapsed:.1f} | "
                f"{first / elapsed:.1f}x | {ideal:.1f} s | {ideal / elapsed:.0%} |"
            )


if __name__ == "__main__":
    main()
