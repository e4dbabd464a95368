"""First words of a 4-bot comparison against those of a single chat, same run.

Issue 10's figure: comparing bots must not make anyone wait longer for the
first words. Against the emulator (a slow first byte, then 30 ms per piece),
through the app's own background answers (`webapp.answers.AnswerService`) on a
real SQLite file, each round times:

- a single chat: one prompt, the time from submit to its first words;
- a comparison of 4 bots (`webapp.compare.run.start`): the time from submit to
  the LAST of the four columns' first words (the one the member waits for).

Run:  python -m bench.compare_first_word [--runs 7] [--first-byte 0.3]
Prints each median and the ratio comparison / single chat, round by round
(target: at most 1.2x).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ablt_core import AsyncAbltClient
from ablt_core.emulator import Fault, start_emulator
from webapp.answers import AnswerService
from webapp.compare import Comparisons, run
from webapp.conversations.context import ContextLimits, ConversationOptions
from webapp.conversations.store import ConversationStore

TOKEN = "bench-token"
BOTS = [("omni", "Omni"), ("chef", "Chef"), ("code-mentor", "Code Mentor"), ("copywriter", "Copy")]
TIMEOUT = 60.0


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


def _first_words(service: AnswerService, answer_ids: list[str]) -> float:
    """Seconds from the answers' start to the last of their first words."""
    deadline = time.monotonic() + TIMEOUT
    lives = [service.live(i) for i in answer_ids]
    while any(lv is None or lv.first_text_at is None for lv in lives):
        if time.monotonic() > deadline:
            raise TimeoutError("no first words in time")
        time.sleep(0.005)
        lives = [service.live(i) for i in answer_ids]
    return max(lv.first_text_at - lv.started_at for lv in lives if lv and lv.first_text_at)


def _wait_done(service: AnswerService, answer_ids: list[str]) -> None:
    for answer_id in answer_ids:
        live = service.live(answer_id)
        if live is not None:
            live.wait_done(TIMEOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--first-byte", type=float, default=0.3, help="seconds before each answer")
    args = parser.parse_args()
    member = Member("bench", 1)
    with (
        tempfile.TemporaryDirectory() as folder,
        start_emulator(delay=0.03, token=TOKEN) as emulator,
        ConversationStore(f"sqlite:///{Path(folder) / 'bench.db'}") as store,
    ):
        service = AnswerService(
            store,
            lambda: AsyncAbltClient(TOKEN, emulator.base_url, max_connections=8),
            limits=ContextLimits(max_messages=None, max_words=None),
            max_workers=8,
        )
        comparisons = Comparisons(store)
        singles: list[float] = []
        compared: list[float] = []
        ratios: list[float] = []
        try:
            for round_no in range(args.runs + 1):  # the first round warms up
                emulator.inject(Fault(kind="slow_first_byte", seconds=args.first_byte, times=5))
                conv = store.create_conversation(member, "omni", "Omni")
                submitted = service.submit(member, conv.id, f"Single question {round_no}?")
                assert submitted.answer_id is not None
                single = _first_words(service, [submitted.answer_id])
                _wait_done(service, [submitted.answer_id])

                comparison = run.start(
                    comparisons,
                    service,
                    member,
                    BOTS,
                    [ConversationOptions()] * len(BOTS),
                    f"Compared question {round_no}?",
                )
                ids = run.streaming_answers(service, member, comparison)
                four = _first_words(service, ids)
                _wait_done(service, ids)
                emulator.clear_faults()
                if round_no == 0:
                    continue
                singles.append(single)
                compared.append(four)
                ratios.append(four / single)
        finally:
            service.close()
    print(f"runs: {args.runs} (after one warm-up), first byte {args.first_byte:.2f} s")
    print(f"single chat, first words:        median {statistics.median(singles) * 1000:7.1f} ms")
    print(f"4 compared bots, last first words: median {statistics.median(compared) * 1000:5.1f} ms")
    print(
        f"ratio comparison / single (per round): median {statistics.median(ratios):.2f}x "
        f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x); target at most 1.2x: "
        + ("met" if statistics.median(ratios) <= 1.2 else "not met")
    )


if __name__ == "__main__":
    main()
