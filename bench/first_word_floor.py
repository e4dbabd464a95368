"""What Streamlit itself costs a chat page's first word: the reference app, grown.

Issue 8 asks for the product's first word on screen within 1.2x the tutorial
app's (`bench/stream_render.py`). This bench measures how far a page of the
product's shape can get in Streamlit at all, with none of the product's code:
the same tutorial-style app (`bench/reference_app.py`) in four variants, each
against one emulator streaming a word per event, driven by Debian's Chromium:

- `tutorial`: the app as Streamlit's chat tutorial writes it (the yardstick);
- `fragment`: the same, its chat in an `st.fragment` with the message box
  pinned by `st.bottom`, as the product draws its conversation;
- `history`: the tutorial with a sidebar like the product's, `--rows` conversation
  rows (a button with a tooltip and a closed ⋮ menu each), chat rerun whole;
- `history+fragment`: both: the product's shape.

For each: the median first word on screen after Enter (ms) over `--runs`
answers, and its ratio to `tutorial` measured in the same run. A ratio above
1.2 for `history+fragment` means no amount of work in the product's own code
brings its page under issue 8's target while it keeps that sidebar and draws
the answer with `st.write_stream`: the browser re-renders every element of the
page at the start of each run, fragment runs included.

Run:  python -m bench.first_word_floor [--runs 15] [--rows 30] [--words 200]
It is not a test: compare the ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.stream_page import INIT_SCRIPT, Session
from bench.stream_render import DEFAULT_DELAY, one_answer
from bench.stream_setup import REPO_ROOT, TOKEN, start_emulator

TARGET = 1.2  # issue 8: first word, product / reference
WARM_UP = 2  # answers per variant before measuring (imports, caches)


def variants(rows: int) -> dict[str, dict[str, str]]:
    """{variant name: the reference app's environment knobs}."""
    return {
        "tutorial": {},
        "fragment": {"ABLT_REFERENCE_FRAGMENT": "1"},
        "history": {"ABLT_REFERENCE_HISTORY_ROWS": str(rows)},
        "history+fragment": {
            "ABLT_REFERENCE_HISTORY_ROWS": str(rows),
            "ABLT_REFERENCE_FRAGMENT": "1",
        },
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.first_word_floor", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=15, help="answers per variant (median)")
    parser.add_argument("--rows", type=int, default=30, help="History rows in the sidebar")
    parser.add_argument("--words", type=int, default=200, help="answer size in words")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.appserver import free_port, launch_app, launch_chromium, stop_all, wait_ready
    from tests.e2e.conftest import VIEWPORT

    args = parse_args(argv)
    logging.getLogger("streamlit.runtime.caching").setLevel(logging.ERROR)
    emulator = start_emulator(DEFAULT_DELAY, free_port())
    servers = {}
    firsts: dict[str, list[float]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ablt-floor-") as tmp:
            cwd = Path(tmp) / "reference-cwd"  # Streamlit's defaults, as stream_render runs it
            cwd.mkdir()
            for name, knobs in variants(args.rows).items():
                servers[name] = launch_app(
                    Path(tmp) / name.replace("+", "-"),
                    script=str(REPO_ROOT / "bench" / "reference_app.py"),
                    cwd=cwd,
                    extra_env={
                        "ABLT_BEARER_TOKEN": TOKEN,
                        "ABLT_BASE_URL": emulator.url,
                        "PYTHONPATH": str(REPO_ROOT),
                        **knobs,
                    },
                )
            wait_ready(list(servers.values()))
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                for name, server in servers.items():
                    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                    context.add_init_script(INIT_SCRIPT)
                    session = Session("reference", context.new_page(), server)
                    print(f"{name}: measuring", flush=True)
                    session.open()
                    for n in range(WARM_UP):
                        one_answer(session, emulator, 20, DEFAULT_DELAY, f"{name} warm {n}")
                    firsts[name] = []
                    for n in range(args.runs):
                        # A prompt the emulator has answered before counts as a retry
                        # and opens differently: every prompt here is new, so every
                        # answer opens with the words the page watches for.
                        answer = one_answer(
                            session, emulator, args.words, DEFAULT_DELAY, f"{name} {n}"
                        )
                        if answer.first_ms is None:
                            print(f"  {name}: answer {n} never showed ({answer.verdict})")
                        else:
                            firsts[name].append(answer.first_ms)
                    context.close()
                browser.close()
    finally:
        stop_all(list(servers.values()))
        emulator.stop()
    report(firsts, args)


def report(firsts: dict[str, list[float]], args: argparse.Namespace) -> None:
    """The table: median first word per variant and its ratio to the tutorial's."""
    base = statistics.median(firsts["tutorial"])
    print(
        f"\nFirst word on screen after Enter: median of {args.runs} answers of {args.words} words"
    )
    print(f"    {'variant':<40} {'ms':>6} {'/ tutorial':>11}")
    for name, values in firsts.items():
        label = f"{name} ({args.rows} rows)" if name.startswith("history") else name
        value = statistics.median(values)
        print(f"    {label:<40} {value:6.0f} {value / base:10.2f}x")
    floor = statistics.median(firsts["history+fragment"]) / base
    verdict = "within" if floor <= TARGET else "above"
    print(f"\nStreamlit's own floor for a page of the product's shape: {floor:.2f}x, {verdict}")
    print(f"issue 8's first-word target ({TARGET}x), before any of the product's own code.")


if __name__ == "__main__":
    main()
