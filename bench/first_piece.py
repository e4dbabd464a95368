"""Time to first piece and total time of a streamed answer, three ways.

Against the embedded emulator at 50 ms per piece (a slow, realistic stream),
the same request goes through:

- `ablt_core`  -- AbltClient.chat(stream=True)
- raw httpx    -- client.stream() + iter_lines + json.loads, the least a client can do
- the official `ablt-python-api` wrapper (installed by requirements-dev.txt)

Run:  python -m bench.first_piece [--runs 5] [--max-words 40] [--delay 0.05]
Prints the median and best time to the first non-empty piece and to the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time
from collections.abc import Callable, Iterator

import httpx

from ablt_core import AbltClient
from ablt_core.emulator import start_emulator

TOKEN = "bench-token"


def _ablt_core(base_url: str, body: dict) -> Iterator[str]:
    with AbltClient(bearer_token=TOKEN, base_url=base_url) as client:
        stream = client.chat(
            bot_slug=body["bot_slug"], prompt=body["prompt"], max_words=body["max_words"]
        )
        with stream:
            yield from stream


def _raw_httpx(base_url: str, body: dict) -> Iterator[str]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        httpx.Client(base_url=base_url, headers=headers) as client,
        client.stream("POST", "/v1/chat", json={**body, "stream": True}) as response,
    ):
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            piece = json.loads(data).get("content")
            if piece:
                yield piece


def _official_wrapper(base_url: str, body: dict) -> Iterator[str]:
    from ablt_python_api import ABLTApi
    from ablt_python_api.utils.exceptions import DoneException

    quiet = logging.getLogger("bench.official")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    api = ABLTApi(bearer_token=TOKEN, base_api_url=base_url, logger=quiet)
    try:
        for piece in api.chat(
            bot_slug=body["bot_slug"],
            prompt=body["prompt"],
            max_words=body["max_words"],
            stream=True,
        ):
            if piece:
                yield piece
    except DoneException:
        return


def measure(
    run: Callable[[str, dict], Iterator[str]], base_url: str, body: dict
) -> tuple[float, float, int]:
    """(seconds to first piece, seconds to the end, pieces)."""
    start = time.perf_counter()
    first = None
    count = 0
    for _piece in run(base_url, body):
        if first is None:
            first = time.perf_counter() - start
        count += 1
    total = time.perf_counter() - start
    return (first if first is not None else total), total, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-words", type=int, default=40)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds between pieces")
    args = parser.parse_args()

    body = {"bot_slug": "omni", "prompt": "How do I pay an invoice?", "max_words": args.max_words}
    contenders = {
        "ablt_core": _ablt_core,
        "raw httpx": _raw_httpx,
        "official ablt-python-api": _official_wrapper,
    }
    with start_emulator(delay=args.delay, token=TOKEN, history_days=0) as emulator:
        for run in contenders.values():  # warm up: imports, first connection
            measure(run, emulator.base_url, {**body, "max_words": 3})
        print(f"{args.runs} runs, {args.max_words} words, {args.delay * 1000:.0f} ms per piece")
        print(
            f"{'client':<26}{'first piece (median / best)':>30}{'total (median)':>18}{'pieces':>8}"
        )
        for name, run in contenders.items():
            results = [measure(run, emulator.base_url, body) for _ in range(args.runs)]
            firsts = [r[0] * 1000 for r in results]
            totals = [r[1] * 1000 for r in results]
            print(
                f"{name:<26}{statistics.median(firsts):>17.1f} / {min(firsts):>6.1f} ms"
                f"{statistics.median(totals):>15.0f} ms{results[0][2]:>8}"
            )


if __name__ == "__main__":
    main()
