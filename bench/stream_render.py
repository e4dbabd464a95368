"""Streaming in the browser: the real app beside a tutorial-style reference app.

Issue 8's figures. Both `streamlit run serve.py` (the product, with a real token
pointed at an emulator this script starts in its own process, a team file and a
SQLite store seeded with saved conversations) and `bench/reference_app.py` (a
minimal app written like Streamlit's chat tutorial: `st.chat_input` +
`st.write_stream` over the raw `ablt_core` stream) run against the same
emulator, which streams one word per event at `--delay` seconds a word. Debian's
Chromium (`/usr/bin/chromium`, never a downloaded browser) drives both.

Part 1, one member, for each answer size (`--sizes`, words), median of `--runs`:
- bytes the browser receives over the WebSocket from Enter until the page is
  idle again, divided by the answer's own size (UTF-8 bytes);
- first word on screen after Enter (ms), the member having `--conversations`
  saved conversations;
- lag: from the emulator sending the answer's last event to the whole answer on
  screen (ms), and the browser's long tasks meanwhile (count over 200 ms, longest);
- server CPU seconds per answer: the Streamlit process's user+system time
  (/proc/<pid>/stat) from Enter until idle.
Part 2 (`--members N`, 0 skips it): N members' browser contexts press Enter at
once in one app process, then the same N sessions on the reference app: p50/p99
first word and whole answer after Enter, the lag after the server's last event,
errors, and answers lost, cut or mixed between members (each prompt is distinct
and the emulator's answer quotes it; the text on screen is compared with the
text the emulator sent; the product's saved answers are checked too).

Clocks: the browser's `performance.timeOrigin + performance.now()` and the
emulator's `time.time()` are the same machine's wall clock.

Run:  python -m bench.stream_render [--quick] [--sizes 200 1000 3000] [--runs 3]
          [--members 20] [--member-words 1000] [--app-only | --reference-only]
          [--app-dir OTHER_CHECKOUT] [--app-env NAME=VALUE] [--pg-url URL] [--keep]
The setup (emulator process, team, store, apps) is in `bench.stream_setup`, the
page side (what the page counts, judging an answer) in `bench.stream_page`.
It is not a test: the figures are noisy on a shared machine; compare the
product/reference ratios, which are measured in the same run.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.stream_page import (
    INIT_SCRIPT,
    Answer,
    Session,
    expected_ends,
    figures,
    judge,
    settle,
    wait_all,
)
from bench.stream_setup import (
    REPO_ROOT,
    Emulator,
    bench_setup,
    cpu_seconds,
    in_checkout,
    member_name,
    rss_mb,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.e2e.appserver import AppServer

DEFAULT_SIZES = (200, 1000, 3000)
QUICK_SIZES = (200, 1000)
DEFAULT_MEMBERS = 20
QUICK_MEMBERS = 4
DEFAULT_MEMBER_WORDS = 1000
QUICK_MEMBER_WORDS = 200
DEFAULT_DELAY = 0.005  # seconds between words: a brisk but realistic model
DEFAULT_CONVERSATIONS = 30
LONG_TASK_MS = 200
# How long a page may take beyond the stream itself before a run counts as failed.
SLACK_S = 90.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; `--quick` picks few sizes, one run and few members."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.stream_render", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="sizes 200 1000, 1 run, 4 members")
    parser.add_argument("--sizes", type=int, nargs="+", help="answer sizes in words")
    parser.add_argument("--runs", type=int, help="runs per size (median shown; default 3)")
    parser.add_argument("--members", type=int, help="members streaming at once (0: skip part 2)")
    parser.add_argument("--member-words", type=int, help="answer size in part 2 (words)")
    parser.add_argument(
        "--conversations", type=int, default=DEFAULT_CONVERSATIONS, help="saved per member"
    )
    parser.add_argument(
        "--delay", type=float, default=DEFAULT_DELAY, help="seconds between streamed words"
    )
    parser.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the product's process only, e.g. a Streamlit "
        "option to try: STREAMLIT_RUNNER_POST_SCRIPT_GC=false (repeatable)",
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=REPO_ROOT,
        help="the checkout whose app.py is the product (default: this one), e.g. a "
        "worktree of main to compare a branch with",
    )
    parser.add_argument(
        "--pg-url",
        default=None,
        help="store conversations in a throwaway schema of this PostgreSQL database "
        "(e.g. $ABLT_TEST_PG_URL) instead of a SQLite file",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (app logs, database)"
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--app-only", action="store_true", help="measure the product only")
    only.add_argument("--reference-only", action="store_true", help="the reference app only")
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or list(QUICK_SIZES if quick else DEFAULT_SIZES)
    args.runs = args.runs or (1 if quick else 3)
    if args.members is None:
        args.members = QUICK_MEMBERS if quick else DEFAULT_MEMBERS
    args.member_words = args.member_words or (QUICK_MEMBER_WORDS if quick else DEFAULT_MEMBER_WORDS)
    if any("=" not in item for item in args.app_env):
        parser.error("--app-env takes NAME=VALUE")
    args.app_env = dict(item.split("=", 1) for item in args.app_env)
    if not (args.app_dir / "app.py").is_file():
        parser.error(f"--app-dir: no app.py in {args.app_dir}")
    if min(args.sizes) < 20 or args.runs < 1 or args.members < 0 or args.delay < 0:
        parser.error("sizes must be >= 20 words, runs >= 1, members >= 0, delay >= 0")
    args.kinds = (
        ["product"]
        if args.app_only
        else ["reference"]
        if args.reference_only
        else ["product", "reference"]
    )
    return args


# -- part 1 ------------------------------------------------------------------------


def one_answer(session: Session, emulator: Emulator, words: int, delay: float, tag: str) -> Answer:
    """Part 1: a new chat, one prompt answered in `words` words, its figures."""
    ends = expected_ends()
    session.fresh_chat()
    emulator.set_answer_words(words)
    emulator.clear_streams()
    prompt = f"Bench {tag}: {words} words please"
    session.arm(prompt, ends)
    before = cpu_seconds(session.server.process.pid)
    session.press_enter()
    [watch] = wait_all([session], SLACK_S + words * delay * 4)
    settle(session)
    cpu = cpu_seconds(session.server.process.pid) - before
    watch = session.watch() | {k: watch[k] for k in ("first", "opener", "done")}
    record = next((r for r in emulator.streams() if r["prompt"] == prompt), None)
    answer = figures(session, watch, record, words)
    answer.cpu_s = cpu
    answer.verdict = judge(session.last_answer(), record, [], prompt)
    if session.errors_shown():
        answer.verdict = "error"
    return answer


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values present, or None."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, spec: str = ".0f") -> str:
    """`value` formatted, '-' when missing."""
    return "-" if value is None else format(value, spec)


def ratio(a: float | None, b: float | None) -> str:
    """a / b as '1.23x', '-' when either is missing or b is 0."""
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def report_part1(results: dict[tuple[str, int], list[Answer]], args: argparse.Namespace) -> None:
    """Print part 1's medians per size, product and reference side by side."""
    kinds = args.kinds
    print(
        f"\nPart 1: one member, {args.conversations} saved conversations, "
        f"{args.delay * 1000:g} ms per word, median of {args.runs} run(s)"
    )
    rows = [
        ("bytes received / answer size", lambda a: a.bytes_ratio, ".0f", "x"),
        ("first word on screen after Enter (ms)", lambda a: a.first_ms, ".0f", ""),
        ("first four words on screen after Enter (ms)", lambda a: a.opener_ms, ".0f", ""),
        ("last event -> whole answer on screen (ms)", lambda a: a.lag_ms, ".0f", ""),
        ("server CPU per answer (s)", lambda a: a.cpu_s, ".2f", ""),
        (
            f"long tasks > {LONG_TASK_MS} ms during the answer",
            lambda a: float(sum(d > LONG_TASK_MS for d in a.long_tasks)),
            ".0f",
            "",
        ),
        ("longest task (ms)", lambda a: max(a.long_tasks, default=0.0), ".0f", ""),
        ("browser busy in long tasks, total (ms)", lambda a: sum(a.long_tasks), ".0f", ""),
    ]
    for title, get, spec, unit in rows:
        print(f"\n  {title}")
        head = "    words " + "".join(f"{k:>12}" for k in kinds)
        print(head + ("  product/reference" if len(kinds) == 2 else ""))
        for words in args.sizes:
            values = [median([get(a) for a in results[(k, words)]]) for k in kinds]
            cells = "".join(f"{fmt(v, spec) + unit:>12}" for v in values)
            extra = f"  {ratio(values[0], values[1]):>17}" if len(kinds) == 2 else ""
            print(f"    {words:>5} {cells}{extra}")
    bad = [
        (k, w, a.verdict)
        for (k, w), answers in results.items()
        for a in answers
        if a.verdict != "ok"
    ]
    print(f"\n  answers not whole on screen: {len(bad)}" + (f" {bad}" if bad else ""))


# -- part 2 ------------------------------------------------------------------------


def percentile(values: Sequence[float | None], q: float) -> float | None:
    """Nearest-rank percentile of the values present."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return None
    rank = max(1, -(-int(q * len(present) * 100) // 100))
    return present[min(rank, len(present)) - 1]


def saved_answers_problems(
    app_dir: Path,
    db_url: str,
    auth_file: Path,
    prompts: dict[str, str],
    records: dict[str, dict[str, Any]],
) -> list[str]:
    """Members whose newest saved answer is not their whole answer, status complete."""
    saved = in_checkout(app_dir, "newest_answers", db_url, str(auth_file), list(prompts))
    problems = []
    for name, prompt in prompts.items():
        record = records.get(prompt)
        if saved[name] is None or record is None:
            problems.append(f"{name}: no saved answer")
            continue
        status, text = saved[name]
        if status != "complete" or text != record["text"]:
            problems.append(
                f"{name}: saved {status}, {len(text)} of {len(record['text'])} characters"
            )
    return problems


def many_members(
    browser: Browser,
    server: AppServer,
    kind: str,
    emulator: Emulator,
    args: argparse.Namespace,
    db_url: str,
    auth_file: Path,
) -> dict[str, Any]:
    """Part 2 on one app: `args.members` members log in (product) or open it
    (reference), type distinct prompts, press Enter one after another as fast as
    the browser takes it, and wait for every answer. {answers, verdicts, cpu, saved}."""
    from tests.e2e.conftest import VIEWPORT

    ends = expected_ends()
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(args.members)]
    try:
        sessions = []
        for i, context in enumerate(contexts, start=1):
            context.add_init_script(INIT_SCRIPT)
            context.set_default_timeout(60_000)
            session = Session(kind, context.new_page(), server, member_name(i))
            session.open()
            sessions.append(session)
        emulator.set_answer_words(args.member_words)
        emulator.clear_streams()
        run_tag = secrets.token_hex(3)
        prompts = {
            s.member: f"Member {s.member} asks {run_tag}-{i:02d}" for i, s in enumerate(sessions)
        }
        for session in sessions:
            session.arm(prompts[session.member], ends)
        before = cpu_seconds(server.process.pid)
        for session in sessions:
            session.press_enter()
        watches = wait_all(sessions, SLACK_S + args.member_words * args.delay * args.members)
        for session in sessions:
            settle(session)
        cpu = cpu_seconds(server.process.pid) - before
        records = {r["prompt"]: r for r in emulator.streams()}
        answers, verdicts = [], []
        for session, watch in zip(sessions, watches, strict=True):
            record = records.get(prompts[session.member])
            latest = session.watch() | {k: watch[k] for k in ("first", "opener", "done")}
            answer = figures(session, latest, record, args.member_words)
            verdict = judge(
                session.last_answer(), record, list(prompts.values()), prompts[session.member]
            )
            if session.errors_shown():
                verdict = "error"
            answers.append(answer)
            verdicts.append(verdict)
        saved = (
            saved_answers_problems(args.app_dir, db_url, auth_file, prompts, records)
            if (kind == "product")
            else []
        )
        return {"answers": answers, "verdicts": verdicts, "cpu": cpu, "saved": saved}
    finally:
        for context in contexts:
            context.close()


def report_part2(outcomes: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    """Print part 2's percentiles, CPU and verdict counts per app."""
    kinds = list(outcomes)
    print(
        f"\nPart 2: {args.members} members press Enter at once, "
        f"{args.member_words} words each, {args.delay * 1000:g} ms per word"
    )
    print(
        "    "
        + " " * 38
        + "".join(f"{k:>12}" for k in kinds)
        + ("  product/reference" if len(kinds) == 2 else "")
    )
    rows = [
        ("first word p50 (ms)", lambda a: a.first_ms, 0.5),
        ("first word p99 (ms)", lambda a: a.first_ms, 0.99),
        ("whole answer p50 (ms after Enter)", lambda a: a.whole_ms, 0.5),
        ("whole answer p99 (ms after Enter)", lambda a: a.whole_ms, 0.99),
        ("lag after last event p50 (ms)", lambda a: a.lag_ms, 0.5),
        ("lag after last event p99 (ms)", lambda a: a.lag_ms, 0.99),
        ("browser busy in long tasks p50 (ms)", lambda a: sum(a.long_tasks), 0.5),
        ("longest task p99 (ms)", lambda a: max(a.long_tasks, default=0.0), 0.99),
    ]
    for title, get, q in rows:
        values = [percentile([get(a) for a in outcomes[k]["answers"]], q) for k in kinds]
        extra = f"  {ratio(values[0], values[1]):>17}" if len(kinds) == 2 else ""
        print(f"    {title:<38}" + "".join(f"{fmt(v):>12}" for v in values) + extra)
    cpu = [outcomes[k]["cpu"] for k in kinds]
    extra = f"  {ratio(cpu[0], cpu[1]):>17}" if len(kinds) == 2 else ""
    print(f"    {'server CPU, all answers (s)':<38}" + "".join(f"{c:>12.2f}" for c in cpu) + extra)
    for label in ("error", "lost", "cut", "mixed"):
        counts = [sum(v == label for v in outcomes[k]["verdicts"]) for k in kinds]
        print(
            f"    {'answers ' + label + (' (app error shown)' if label == 'error' else ''):<38}"
            + "".join(f"{c:>12}" for c in counts)
        )
    for kind in kinds:
        for problem in outcomes[kind]["saved"]:
            print(f"    saved answer wrong ({kind}): {problem}")
    if "product" in outcomes:
        print(f"    {'saved answers wrong (product)':<38}{len(outcomes['product']['saved']):>12}")


# -- main --------------------------------------------------------------------------


# Issue 8's targets (product against reference, measured in the same run).
BYTES_TARGET = 25.0  # bytes received / answer size, at the largest size (3,000 words)
FIRST_WORD_TARGET = 1.2  # first word on screen, product / reference
CPU_TARGET = 1.5  # server CPU per answer, product / reference
LAG_TARGET = 1.5  # part 2: display lag p50, product / reference


def targets(
    results: dict[tuple[str, int], list[Answer]],
    outcomes: dict[str, dict[str, Any]] | None,
    args: argparse.Namespace,
) -> list[tuple[str, str, bool | None]]:
    """[(target, measured, met?)]: met is None when this run could not tell."""

    def worst_ratio(get: Any) -> float | None:
        """The largest product/reference ratio of medians over the sizes."""
        ratios = []
        for words in args.sizes:
            mine = median([get(a) for a in results.get(("product", words), [])])
            theirs = median([get(a) for a in results.get(("reference", words), [])])
            if mine is not None and theirs:
                ratios.append(mine / theirs)
        return max(ratios) if ratios else None

    rows: list[tuple[str, str, bool | None]] = []
    largest = max(args.sizes)
    ratio_bytes = median([a.bytes_ratio for a in results.get(("product", largest), [])])
    rows.append(
        (
            f"bytes / answer size at {largest} words <= {BYTES_TARGET:g}x",
            fmt(ratio_bytes) + "x",
            None if ratio_bytes is None else ratio_bytes <= BYTES_TARGET,
        )
    )
    for title, get, limit in (
        ("first word, product/reference (worst size)", lambda a: a.first_ms, FIRST_WORD_TARGET),
        ("server CPU, product/reference (worst size)", lambda a: a.cpu_s, CPU_TARGET),
    ):
        value = worst_ratio(get)
        rows.append(
            (
                f"{title} <= {limit:g}x",
                fmt(value, ".2f") + "x",
                None if value is None else value <= limit,
            )
        )
    if outcomes and set(outcomes) == {"product", "reference"}:
        lags = [
            percentile([a.lag_ms for a in outcomes[k]["answers"]], 0.5)
            for k in ("product", "reference")
        ]
        value = lags[0] / lags[1] if lags[0] is not None and lags[1] else None
        rows.append(
            (
                f"{args.members} members: lag p50, product/reference <= {LAG_TARGET:g}x",
                fmt(value, ".2f") + "x",
                None if value is None else value <= LAG_TARGET,
            )
        )
    if outcomes and "product" in outcomes:
        bad = sum(v != "ok" for v in outcomes["product"]["verdicts"])
        bad += len(outcomes["product"]["saved"])
        rows.append((f"{args.members} members: no answer lost, cut or mixed", str(bad), bad == 0))
    return rows


def report_targets(rows: list[tuple[str, str, bool | None]]) -> None:
    """Print `targets()`'s rows."""
    print("\nIssue 8 targets")
    for title, measured, met in rows:
        verdict = "not measured" if met is None else "met" if met else "NOT met"
        print(f"    {title:<58} {measured:>9}  {verdict}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run part 1, then part 2 (unless `--members 0`), printing as it goes."""
    args = parse_args(argv)
    # tests.e2e.appserver imports webapp modules whose Streamlit caches warn outside a runtime.
    logging.getLogger("streamlit.runtime.caching").setLevel(logging.ERROR)
    from playwright.sync_api import sync_playwright

    from tests.e2e.appserver import chromium_available, launch_chromium
    from tests.e2e.conftest import VIEWPORT

    if not chromium_available():
        sys.exit("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    print(
        f"bench.stream_render: {' and '.join(args.kinds)}, sizes {args.sizes}, "
        f"{args.runs} run(s), {args.members} members"
        + (f", product env {args.app_env}" if args.app_env else "")
        + (f", product from {args.app_dir}" if args.app_dir != REPO_ROOT else "")
        + (", PostgreSQL" if args.pg_url else ", SQLite")
        + f"; started {time.strftime('%H:%M:%S')}"
    )
    with bench_setup(args) as (emulator, servers, db_url, auth_file), sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            sessions = {}
            for kind in args.kinds:
                context = browser.new_context(viewport=VIEWPORT)
                context.add_init_script(INIT_SCRIPT)
                context.set_default_timeout(60_000)
                session = Session(kind, context.new_page(), servers[kind], member_name(1))
                session.open()
                sessions[kind] = session
            # One warm-up answer each: first imports, caches, the JS bundle.
            for kind in args.kinds:
                one_answer(sessions[kind], emulator, 20, args.delay, f"warm-{kind}")
            results: dict[tuple[str, int], list[Answer]] = {
                (k, w): [] for k in args.kinds for w in args.sizes
            }
            for run in range(args.runs):
                for words in args.sizes:
                    for kind in args.kinds:  # interleaved: drift hits both alike
                        answer = one_answer(
                            sessions[kind], emulator, words, args.delay, f"{kind}-{run}-{words}"
                        )
                        results[(kind, words)].append(answer)
                        print(
                            f"  run {run + 1} {kind:<9} {words:>5} words: first "
                            f"{fmt(answer.first_ms)} ms, lag {fmt(answer.lag_ms)} ms, "
                            f"{fmt(answer.bytes_ratio)}x bytes, cpu {fmt(answer.cpu_s, '.2f')}"
                            f" s, {answer.verdict}",
                            flush=True,
                        )
            for session in sessions.values():
                session.page.context.close()
            report_part1(results, args)
            memory = ", ".join(
                f"{kind} {rss_mb(servers[kind].process.pid):.0f} MB" for kind in args.kinds
            )
            print(f"  server memory (RSS) after part 1: {memory}")
            outcomes = None
            if args.members:
                outcomes = {
                    kind: many_members(
                        browser, servers[kind], kind, emulator, args, db_url, auth_file
                    )
                    for kind in args.kinds
                }
                report_part2(outcomes, args)
                memory = ", ".join(
                    f"{kind} {rss_mb(servers[kind].process.pid):.0f} MB" for kind in args.kinds
                )
                print(f"    server memory (RSS) after part 2: {memory}")
            if args.kinds == ["product", "reference"]:
                report_targets(targets(results, outcomes, args))
        finally:
            browser.close()
    print(f"\nfinished {time.strftime('%H:%M:%S')}")


if __name__ == "__main__":
    main()
