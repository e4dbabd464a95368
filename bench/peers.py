"""The peers beside us: the product, the tutorial app and a Chainlit app, one run.

Issue 24's "peers" figures. Three apps against one emulator (a word per event,
`--delay` s a word), driven one page at a time by Debian's Chromium:

- `product`: `streamlit run serve.py`, the member logged in through the real
  form, `--conversations` saved conversations (as `bench.stream_render`);
- `reference`: `bench/reference_app.py`, Streamlit's chat tutorial
  (`st.chat_input` + `st.write_stream`), Streamlit's default settings;
- `chainlit`: `bench/chainlit_app.py`, written as Chainlit's documentation shows
  (`@cl.on_message`, `msg.stream_token(token)`, `msg.send()`) over
  `ablt_core.AsyncAbltClient`, in its own virtualenv (`--venv`, created here
  from `bench/requirements-chainlit.txt` with `python3.11 -m venv` when missing);
- `floor` (first word only): the reference app grown to the product's page
  shape (`--conversations` sidebar rows, chat in a fragment), as
  `bench.first_word_floor`'s `history+fragment`: Streamlit's own floor.

Part 1, per answer shape (`--shapes`: the emulator's `paragraphs` and
`paragraph`, one long block) and size (`--sizes`), median of `--runs`: first
word on screen after Enter (ms); last event sent -> whole answer on screen
(ms); bytes per answer in the page (what its WebSocket delivers, decompressed)
and on the wire (a counting TCP proxy in front of each app, as
`bench.stream_wire`), both / the answer's UTF-8 size; server CPU per answer
(the app process's user+system time, /proc). Then the first word as a ratio:
product / floor, product / Chainlit, floor / Chainlit.
Part 2 (`--members N`, 0 skips it): N members press Enter at once on each app
in turn: first word and whole answer p50/p99, lag p50, server CPU, answers
lost/cut/mixed.

Run:  python -m bench.peers [--quick] [--sizes 200 3000] [--runs 1] [--members 20]
It is not a test: the machine is shared; compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.peers_page import ChainlitSession, settle_any
from bench.stream_page import INIT_SCRIPT, Answer, Session, expected_ends, figures, judge, wait_all
from bench.stream_render import SLACK_S, fmt, median, percentile, ratio, saved_answers_problems
from bench.stream_setup import (
    REPO_ROOT,
    TOKEN,
    Emulator,
    bench_setup,
    cpu_seconds,
    member_name,
)
from bench.stream_wire import CountingProxy, set_shape

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.e2e.appserver import AppServer

VENV = Path("/tmp/ablt-bench-chainlit/.venv")
REQUIREMENTS = REPO_ROOT / "bench" / "requirements-chainlit.txt"
KINDS = ("product", "reference", "chainlit")
STARTUP_S = 120.0
OPEN_ATTEMPTS = 3
# Chainlit at 3,000 words can take minutes to draw the whole answer on a loaded machine.
WAIT_S = 300.0
FIRST_WORD_RUNS = 3  # answers for the first-word figures, whatever --runs


# -- Chainlit in its own virtualenv ---------------------------------------------------


def ensure_venv(venv: Path) -> str:
    """`venv` with the pinned Chainlit (created and installed when missing); its version."""
    python = venv / "bin" / "python"
    if not (venv / "bin" / "chainlit").exists():
        print(f"installing Chainlit into {venv} ...", flush=True)
        subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True
        )
    found = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('chainlit'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


def start_chainlit(workdir: Path, emulator: Emulator, venv: Path) -> AppServer:
    """`chainlit run bench/chainlit_app.py --headless` from an empty folder (Chainlit's
    defaults: it writes its .chainlit/config.toml there), `ablt_core` via PYTHONPATH;
    returns once its page answers."""
    from tests.e2e.appserver import AppServer, free_port

    port = free_port()
    cwd = workdir / "chainlit"
    cwd.mkdir(exist_ok=True)
    log_path = cwd / "chainlit.log"
    log_file = log_path.open("wb")
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(cwd),
        "PYTHONPATH": str(REPO_ROOT),
        "ABLT_BEARER_TOKEN": TOKEN,
        "ABLT_BASE_URL": emulator.url,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    script = str(REPO_ROOT / "bench" / "chainlit_app.py")
    command = [str(venv / "bin" / "chainlit"), "run", script, "--headless"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: AppServer.stop() ends it whole
    )
    server = AppServer(process, port, cwd, log_path, cwd / "none", _log_file=log_file)
    deadline = time.monotonic() + STARTUP_S
    while True:
        with contextlib.suppress(OSError), urllib.request.urlopen(server.url, timeout=5) as page:
            if page.status == 200:
                return server
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"Chainlit did not start:\n{server.log()[-3000:]}")
        time.sleep(0.5)


def start_floor(workdir: Path, emulator: Emulator, rows: int) -> AppServer:
    """The reference app in the product's page shape (`bench.first_word_floor`)."""
    from tests.e2e.appserver import launch_app, wait_ready

    cwd = workdir / "floor-cwd"
    cwd.mkdir(exist_ok=True)
    server = launch_app(
        workdir / "floor",
        script=str(REPO_ROOT / "bench" / "reference_app.py"),
        cwd=cwd,
        extra_env={
            "ABLT_BEARER_TOKEN": TOKEN,
            "ABLT_BASE_URL": emulator.url,
            "PYTHONPATH": str(REPO_ROOT),
            "ABLT_REFERENCE_HISTORY_ROWS": str(rows),
            "ABLT_REFERENCE_FRAGMENT": "1",
        },
    )
    wait_ready([server])
    return server


# -- one page, one answer -------------------------------------------------------------


def make_session(browser: Browser, kind: str, server: AppServer, member: str) -> Session:
    """A new browser context on `server` (through its proxy), opened and idle."""
    from playwright.sync_api import Error as PlaywrightError

    from tests.e2e.conftest import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_SCRIPT)
    context.set_default_timeout(60_000)
    page = context.new_page()
    session = (
        ChainlitSession(kind, page, server, member)
        if kind == "chainlit"
        else Session("product" if kind == "product" else "reference", page, server, member)
    )
    for attempt in range(OPEN_ATTEMPTS):  # a loaded machine can miss a page's timeout
        try:
            session.open()
            return session
        except PlaywrightError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            print(f"  {kind}: page did not open in time, trying again", flush=True)
    return session


def one_answer(
    session: Session,
    proxy: CountingProxy,
    emulator: Emulator,
    pid: int,
    shape: str,
    words: int,
    delay: float,
    tag: str,
) -> tuple[Answer, float]:
    """One answer of `words` words laid out as `shape`: (its figures, wire bytes / size)."""
    session.fresh_chat()
    set_shape(emulator, words, shape)
    emulator.clear_streams()
    prompt = f"Bench {tag}: {words} words please"
    session.arm(prompt, expected_ends())
    wire_before = proxy.received
    before = cpu_seconds(pid)
    session.press_enter()
    [watch] = wait_all([session], WAIT_S + words * delay * 4)
    settle_any(session)
    cpu = cpu_seconds(pid) - before
    # The page stamps each moment as it happens: a stamp after the wait still counts.
    latest = session.watch()
    latest |= {k: watch[k] for k in ("first", "opener", "done") if latest[k] is None}
    record = next((r for r in emulator.streams() if r["prompt"] == prompt), None)
    answer = figures(session, latest, record, words)
    answer.cpu_s = cpu
    answer.verdict = judge(session.last_answer(), record, [], prompt)
    if session.errors_shown():
        answer.verdict = "error"
    size = len(record["text"].encode()) if record else 0
    wire = (proxy.received - wire_before) / size if size else float("nan")
    return answer, wire


# -- part 2: many members at once -----------------------------------------------------


def many_members(
    browser: Browser,
    kind: str,
    server: AppServer,
    pid: int,
    emulator: Emulator,
    args: argparse.Namespace,
    db_url: str,
    auth_file: Path,
) -> dict[str, Any]:
    """`args.members` pages on one app press Enter one after another as fast as the
    browser takes it; every answer waited for. {answers, verdicts, cpu, saved}."""
    ends = expected_ends()
    sessions: list[Session] = []
    try:
        for i in range(1, args.members + 1):
            sessions.append(make_session(browser, kind, server, member_name(i)))
        set_shape(emulator, args.member_words, "paragraphs")
        emulator.clear_streams()
        run_tag = secrets.token_hex(3)
        prompts = {
            s.member: f"Member {s.member} asks {run_tag}-{i:02d}" for i, s in enumerate(sessions)
        }
        for session in sessions:
            session.arm(prompts[session.member], ends)
        before = cpu_seconds(pid)
        for session in sessions:
            session.press_enter()
        watches = wait_all(sessions, SLACK_S + args.member_words * args.delay * args.members)
        for session in sessions:
            settle_any(session)
        cpu = cpu_seconds(pid) - before
        records = {r["prompt"]: r for r in emulator.streams()}
        answers, verdicts = [], []
        for session, watch in zip(sessions, watches, strict=True):
            record = records.get(prompts[session.member])
            latest = session.watch() | {k: watch[k] for k in ("first", "opener", "done")}
            answers.append(figures(session, latest, record, args.member_words))
            verdict = judge(
                session.last_answer(), record, list(prompts.values()), prompts[session.member]
            )
            verdicts.append("error" if session.errors_shown() else verdict)
        saved = (
            saved_answers_problems(REPO_ROOT, db_url, auth_file, prompts, records)
            if kind == "product"
            else []
        )
        return {"answers": answers, "verdicts": verdicts, "cpu": cpu, "saved": saved}
    finally:
        for session in sessions:
            session.page.context.close()


# -- the run --------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.peers", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="200 words, 1 run, 4 members")
    parser.add_argument("--sizes", type=int, nargs="+", help="answer sizes (default 200 3000)")
    parser.add_argument(
        "--shapes", nargs="+", default=["paragraphs", "paragraph"], help="emulator shapes"
    )
    parser.add_argument("--runs", type=int, default=1, help="answers per cell (median)")
    parser.add_argument("--members", type=int, help="members at once (0 skips; default 20)")
    parser.add_argument("--member-words", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--delay", type=float, default=0.005, help="seconds between words")
    parser.add_argument("--venv", type=Path, default=VENV, help="Chainlit's virtualenv")
    parser.add_argument(
        "--apps", nargs="+", choices=KINDS, default=list(KINDS), help="apps measured"
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the floor's first word")
    args = parser.parse_args(argv)
    args.sizes = args.sizes or ([200] if args.quick else [200, 3000])
    if args.members is None:
        args.members = 4 if args.quick else 20
    if args.quick:
        args.member_words = 200
    # What bench_setup expects of stream_render's command line.
    args.keep, args.pg_url, args.app_dir, args.app_env = False, None, REPO_ROOT, {}
    args.kinds = ["product", "reference"]
    return args


Cells = dict[tuple[str, str, int], list[tuple[Answer, float]]]


def report_part1(cells: Cells, floor: list[float], args: argparse.Namespace) -> None:
    """Medians per shape and size, the three apps side by side; first-word ratios."""
    print(f"\nPart 1: one member, {args.delay * 1000:g} ms a word, median of {args.runs}")
    rows = [
        ("first word on screen after Enter (ms)", lambda c: c[0].first_ms, ".0f", ""),
        ("last event -> whole answer on screen (ms)", lambda c: c[0].lag_ms, ".0f", ""),
        ("bytes in the page / answer size", lambda c: c[0].bytes_ratio, ".1f", "x"),
        ("bytes on the wire / answer size", lambda c: c[1], ".1f", "x"),
        ("server CPU per answer (s)", lambda c: c[0].cpu_s, ".2f", ""),
    ]
    for title, get, spec, unit in rows:
        print(f"\n  {title}")
        print(f"    {'shape':<11}{'words':>6}" + "".join(f"{k:>11}" for k in args.apps))
        for shape in args.shapes:
            for words in args.sizes:
                values = [median([get(c) for c in cells[(k, shape, words)]]) for k in args.apps]
                print(
                    f"    {shape:<11}{words:>6}"
                    + "".join(f"{fmt(v, spec) + unit:>11}" for v in values)
                )
    bad = [
        (key, c[0].verdict) for key, found in cells.items() for c in found if c[0].verdict != "ok"
    ]
    print(f"\n  answers not whole on screen: {len(bad)}" + (f" {bad}" if bad else ""))
    shape, words = args.shapes[0], min(args.sizes)
    first = {k: median([c[0].first_ms for c in cells[(k, shape, words)]]) for k in args.apps}
    first["floor"] = median(floor)
    for kind in KINDS:
        first.setdefault(kind, None)
    print(
        f"\n  first word, {shape} {words} words (ms): "
        + ", ".join(f"{k} {fmt(v)}" for k, v in first.items() if v is not None)
    )
    floor_ratio = ratio(first["product"], first["floor"])
    print(f"    product / floor (Streamlit's own, same page shape): {floor_ratio}")
    print(f"    product / Chainlit: {ratio(first['product'], first['chainlit'])}")
    print(f"    floor / Chainlit: {ratio(first['floor'], first['chainlit'])}")
    print(f"    tutorial / Chainlit: {ratio(first['reference'], first['chainlit'])}")
    if first["floor"] is not None and first["chainlit"] is not None:
        above = first["floor"] > first["chainlit"]
        print(
            "    Streamlit's floor for this page shape stands "
            + ("ABOVE" if above else "below")
            + " Chainlit's first word"
        )


def report_part2(outcomes: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\nPart 2: {args.members} members press Enter at once, {args.member_words} words each")
    kinds = list(outcomes)
    print("    " + " " * 36 + "".join(f"{k:>11}" for k in kinds))
    rows = [
        ("first word p50 (ms)", lambda a: a.first_ms, 0.5),
        ("first word p99 (ms)", lambda a: a.first_ms, 0.99),
        ("whole answer p50 (ms after Enter)", lambda a: a.whole_ms, 0.5),
        ("whole answer p99 (ms after Enter)", lambda a: a.whole_ms, 0.99),
        ("lag after last event p50 (ms)", lambda a: a.lag_ms, 0.5),
        ("lag after last event p99 (ms)", lambda a: a.lag_ms, 0.99),
    ]
    for title, get, q in rows:
        values = [percentile([get(a) for a in outcomes[k]["answers"]], q) for k in kinds]
        print(f"    {title:<36}" + "".join(f"{fmt(v):>11}" for v in values))
    print(
        f"    {'server CPU, all answers (s)':<36}"
        + "".join(f"{outcomes[k]['cpu']:>11.2f}" for k in kinds)
    )
    for label in ("error", "lost", "cut", "mixed"):
        counts = [sum(v == label for v in outcomes[k]["verdicts"]) for k in kinds]
        print(f"    {'answers ' + label:<36}" + "".join(f"{c:>11}" for c in counts))
    for problem in outcomes.get("product", {}).get("saved", []):
        print(f"    saved answer wrong (product): {problem}")


@contextlib.contextmanager
def proxied(server: AppServer) -> Iterator[tuple[AppServer, CountingProxy]]:
    """`server` as reached through a counting proxy (the wire bytes it sends)."""
    proxy = CountingProxy(server.port)
    yield dataclasses.replace(server, port=proxy.port), proxy


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def part1(
    browser: Browser,
    reach: dict[str, tuple[AppServer, CountingProxy]],
    pids: dict[str, int],
    emulator: Emulator,
    args: argparse.Namespace,
) -> Cells:
    """Every app in turn (one page busy at a time): two warm-up answers, then each
    shape and size, the first word's cell at least `FIRST_WORD_RUNS` times."""
    cells: Cells = {(k, s, w): [] for k in args.apps for s in args.shapes for w in args.sizes}
    for kind in args.apps:
        server, proxy = reach[kind]
        session = make_session(browser, kind, server, member_name(1))
        measure = functools.partial(one_answer, session, proxy, emulator, pids[kind])
        for n in range(2):  # imports, caches, the JS bundle
            measure("paragraphs", 20, args.delay, f"warm-{kind}-{n}")
        for shape in args.shapes:
            for words in args.sizes:
                first_cell = (shape, words) == (args.shapes[0], min(args.sizes))
                runs = max(FIRST_WORD_RUNS, args.runs) if first_cell else args.runs
                for run in range(runs):
                    answer, wire = measure(shape, words, args.delay, f"{kind}-{run}-{shape}")
                    cells[(kind, shape, words)].append((answer, wire))
                    print(
                        f"  {kind:<9} {shape:<10} {words:>5} words: first "
                        f"{fmt(answer.first_ms)} ms, lag {fmt(answer.lag_ms)} ms, page "
                        f"{fmt(answer.bytes_ratio, '.1f')}x, wire {wire:.1f}x, "
                        f"cpu {fmt(answer.cpu_s, '.2f')} s, {answer.verdict}",
                        flush=True,
                    )
        session.page.context.close()
    return cells


def floor_first_words(
    browser: Browser, server: AppServer, emulator: Emulator, args: argparse.Namespace
) -> list[float]:
    """The first word on Streamlit's floor app (ms), after two warm-up answers."""
    session = make_session(browser, "reference", server, member_name(1))
    proxy = CountingProxy(server.port)  # unused: the page is reached directly
    firsts = []
    for n in range(2 + max(FIRST_WORD_RUNS, args.runs)):
        answer, _ = one_answer(
            session,
            proxy,
            emulator,
            server.process.pid,
            args.shapes[0],
            min(args.sizes) if n >= 2 else 20,
            args.delay,
            f"floor-{n}",
        )
        if n >= 2 and answer.first_ms is not None:
            firsts.append(answer.first_ms)
    session.page.context.close()
    return firsts


def main(argv: Sequence[str] | None = None) -> None:
    """Part 1, the floor's first word, then part 2, printing as it goes."""
    args = parse_args(argv)
    logging.getLogger("streamlit.runtime.caching").setLevel(logging.ERROR)
    from playwright.sync_api import sync_playwright

    from tests.e2e.appserver import chromium_available, launch_chromium, stop_all

    if not chromium_available():
        sys.exit("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    version = ensure_venv(args.venv)
    print(
        f"bench.peers: product, tutorial reference, Chainlit {version}; sizes {args.sizes}, "
        f"shapes {args.shapes}, {args.runs} run(s), {args.members} members; load average "
        f"{load_average()}; started {time.strftime('%H:%M:%S')}",
        flush=True,
    )
    with (
        bench_setup(args) as (emulator, servers, db_url, auth_file),
        tempfile.TemporaryDirectory(prefix="ablt-peers-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        servers["chainlit"] = start_chainlit(Path(tmp), emulator, args.venv)
        stack.callback(servers["chainlit"].stop)
        floor_server = start_floor(Path(tmp), emulator, args.conversations)
        stack.callback(stop_all, [floor_server])
        pids = {k: s.process.pid for k, s in servers.items()}
        reach = {k: stack.enter_context(proxied(servers[k])) for k in KINDS}
        browser = launch_chromium(stack.enter_context(sync_playwright()))
        stack.callback(browser.close)
        cells = part1(browser, reach, pids, emulator, args)
        floor = [] if args.no_floor else floor_first_words(browser, floor_server, emulator, args)
        report_part1(cells, floor, args)
        print(f"  load average after part 1: {load_average()}", flush=True)
        if args.members:
            outcomes = {}
            for kind in args.apps:
                try:
                    outcomes[kind] = many_members(
                        browser, kind, reach[kind][0], pids[kind], emulator, args, db_url, auth_file
                    )
                except Exception as error:  # one app failing does not hide the others' figures
                    print(f"  part 2 {kind}: failed: {error!r}"[:500], flush=True)
                    continue
                report_part2({kind: outcomes[kind]}, args)  # each as it ends: a long run may stop
            report_part2(outcomes, args)
    print(f"\nfinished {time.strftime('%H:%M:%S')}; load average {load_average()}")


if __name__ == "__main__":
    main()
