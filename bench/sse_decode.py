"""Events per second of three ways to turn an aBLT answer stream into text pieces.

The input is one aBLT-shaped stream of 100,000 `data: {"content": ...}` events
and a final `[DONE]`, held in memory so only decoding is measured:

- `ablt_core`: ChatStream (incremental SSE decoder + JSON) over an httpx
  response fed 4 KiB chunks;
- `httpx-sse`: EventSource.iter_sse() over the same response, plus JSON;
- the official wrapper: its real `chat()` generator (requests' `iter_lines`,
  then a split and JSON per line) over an in-memory requests response.

Run:  python -m bench.sse_decode [--events 100000] [--repeat 3] [--rounds 5]
Prints the best of --repeat runs for each, in events per second; then, over
--rounds rounds (ablt_core and httpx-sse timed in turn, so both see the same
machine load), each round's ratio ablt_core / httpx-sse and their median.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import statistics
import time
from collections.abc import Callable, Iterator
from unittest import mock

import httpx

from ablt_core import ChatStream

CHUNK = 4096
QUIET = logging.getLogger("bench.quiet")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False


def make_stream(events: int) -> bytes:
    words = ["To", " pay", " an", " invoice,", " open", " Billing", " — ", " then", " naïve", " 🚀"]
    parts = [b'data: {"content":""}\n\n']
    parts += [
        b"data: " + json.dumps({"content": words[i % len(words)]}).encode() + b"\n\n"
        for i in range(events)
    ]
    parts.append(b"data: [DONE]\n\n")
    return b"".join(parts)


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def _response(data: bytes) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=_chunks(data))


def run_ablt_core(data: bytes) -> int:
    stream = ChatStream(_response(data), logger=QUIET)
    return sum(1 for _ in stream)


def run_httpx_sse(data: bytes) -> int:
    from httpx_sse import EventSource

    count = 0
    for event in EventSource(_response(data)).iter_sse():
        if event.data == "[DONE]":
            break
        if json.loads(event.data).get("content"):
            count += 1
    return count


def run_official_wrapper(data: bytes) -> int:
    import requests
    from ablt_python_api import ABLTApi
    from ablt_python_api.utils.exceptions import DoneException

    response = requests.models.Response()
    response.status_code = 200
    response.raw = io.BytesIO(data)
    session = mock.Mock()
    session.post.return_value = response
    # Its constructor calls the health check; there is no server here.
    with mock.patch.object(ABLTApi, "update_api"):
        api = ABLTApi(bearer_token="bench", base_api_url="http://unused.invalid", logger=QUIET)
    count = 0
    with mock.patch("ablt_python_api.ablt_api_sync.requests.session", return_value=session):
        try:
            for piece in api.chat(bot_slug="omni", prompt="x", stream=True):
                if piece:
                    count += 1
        except DoneException:
            pass
    return count


def best_rate(run: Callable[[bytes], int], data: bytes, events: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        count = run(data)
        best = min(best, time.perf_counter() - start)
        if count != events:
            raise SystemExit(f"{run.__name__} decoded {count} pieces, expected {events}")
    return events / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    data = make_stream(args.events)
    print(f"{args.events:,} events, {len(data) / 1e6:.1f} MB, best of {args.repeat}")
    for name, run in {
        "ablt_core": run_ablt_core,
        "httpx-sse": run_httpx_sse,
        "official ablt-python-api": run_official_wrapper,
    }.items():
        rate = best_rate(run, data, args.events, args.repeat)
        print(f"{name:<26}{rate:>14,.0f} events/s")
    ratios = [
        best_rate(run_ablt_core, data, args.events, 1)
        / best_rate(run_httpx_sse, data, args.events, 1)
        for _ in range(args.rounds)
    ]
    shown = " ".join(f"{r:.2f}" for r in ratios)
    print(f"ablt_core / httpx-sse per round: {shown}; median {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
