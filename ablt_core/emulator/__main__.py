"""``python -m ablt_core.emulator``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from .runner import _url_host, run_forever
from .server import DEFAULT_DELAY

DEFAULT_PORT = 8765


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m ablt_core.emulator",
        description="Run an aBLT-compatible API server (bots, chat, usage statistics).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default %(default)s)"
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s)")
    parser.add_argument(
        "--delay",
        type=float,
        default=DEFAULT_DELAY,
        help="seconds between streamed pieces (default %(default)s)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("ABLT_EMULATOR_TOKEN"),
        help="the only bearer token accepted (default: any non-empty token)",
    )
    parser.add_argument(
        "--history-days",
        type=int,
        default=90,
        help="days of seeded usage history before today (default %(default)s)",
    )
    parser.add_argument(
        "--answer-words",
        type=int,
        default=None,
        help="make every answer exactly this many words (benchmarks; default: 90-150)",
    )
    args = parser.parse_args(argv)
    if args.answer_words is not None and args.answer_words < 1:
        parser.error("--answer-words must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Print the URL, then serve until Ctrl-C."""
    args = parse_args(argv)
    print(f"aBLT emulator on http://{_url_host(args.host)}:{args.port}", flush=True)
    run_forever(args.host, args.port, args.delay, args.token, args.history_days, args.answer_words)


if __name__ == "__main__":
    main()
