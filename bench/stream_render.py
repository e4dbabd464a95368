"""Streaming in the browser: the real app beside a tutorial-style reference app.

Issue 8's figures. Both `streamlit run app.py` (the product, with a real token
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
                                     [--members 20] [--app-only | --reference-only]
It is not a test: the figures are noisy on a shared machine; compare the
product/reference ratios, which are measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from tests.e2e.appserver import AppServer

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
PASSWORD = "bench-password-1"
BOT_SLUG = "omni"  # the product's default bot and the reference app's
DEFAULT_SIZES = (200, 1000, 3000)
QUICK_SIZES = (200, 1000)
DEFAULT_MEMBERS = 20
QUICK_MEMBERS = 4
DEFAULT_MEMBER_WORDS = 1000
QUICK_MEMBER_WORDS = 200
DEFAULT_DELAY = 0.005  # seconds between words: a brisk but realistic model
DEFAULT_CONVERSATIONS = 30
LONG_TASK_MS = 200
IDLE_QUIET_MS = 600
# How long a page may take beyond the stream itself before a run counts as failed.
SLACK_S = 90.0

# Counts every byte the page's WebSockets receive and every long task, from the
# first script on (Streamlit opens one WebSocket; it does not compress frames).
INIT_SCRIPT = """
(() => {
  const Native = window.WebSocket;
  window.__benchWsBytes = 0;
  window.__benchLongTasks = [];
  class CountingWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const d = event.data;
        window.__benchWsBytes += typeof d === 'string'
          ? new TextEncoder().encode(d).length : (d.byteLength ?? d.size ?? 0);
      });
    }
  }
  window.WebSocket = CountingWebSocket;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        window.__benchLongTasks.push([performance.timeOrigin + e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
})();
"""

# Arms the watch for one answer: the time of Enter in the message box, then the
# first time a NEW assistant bubble shows the answer's first words (the bot's
# opener), then the first time one shows its last words (the closer).
WATCH_SCRIPT = """
([opener, closer]) => {
  const now = () => performance.timeOrigin + performance.now();
  const sel = '[data-testid="stChatMessageContent"][aria-label="Chat message from assistant"]';
  const count = (needle) => {
    let n = 0;
    for (const el of document.querySelectorAll(sel))
      if (el.textContent.replace(/\\s+/g, ' ').includes(needle)) n += 1;
    return n;
  };
  if (window.__benchObserver) window.__benchObserver.disconnect();
  const m = {enter: null, first: null, done: null, bytesAtEnter: null,
             baseFirst: count(opener), baseDone: count(closer)};
  window.__benchWatch = m;
  const check = () => {
    if (m.enter === null) return;
    if (m.first === null && count(opener) > m.baseFirst) m.first = now();
    if (m.first !== null && m.done === null && count(closer) > m.baseDone) {
      m.done = now();
      window.__benchObserver.disconnect();
    }
  };
  window.__benchObserver = new MutationObserver(check);
  window.__benchObserver.observe(document.body,
    {subtree: true, childList: true, characterData: true});
  if (!window.__benchKeyHooked) {
    window.__benchKeyHooked = true;
    document.addEventListener('keydown', (event) => {
      const w = window.__benchWatch;
      if (event.key === 'Enter' && !event.shiftKey && w && w.enter === null
          && event.target && event.target.matches('[data-testid="stChatInputTextArea"]')) {
        w.enter = now();
        w.bytesAtEnter = window.__benchWsBytes;
      }
    }, true);
  }
}
"""

READ_SCRIPT = """
() => ({...window.__benchWatch, bytes: window.__benchWsBytes, now: performance.timeOrigin
        + performance.now(), longTasks: window.__benchLongTasks})
"""


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


# -- the emulator, in its own process ---------------------------------------------


@dataclass
class Emulator:
    """`python -m ablt_core.emulator` as a subprocess, and its control API."""

    process: subprocess.Popen[bytes]
    url: str

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def set_answer_words(self, words: int) -> None:
        self._call("PUT", "/_emulator/settings", {"answer_words": words})

    def streams(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/_emulator/streams"))

    def clear_streams(self) -> None:
        self._call("DELETE", "/_emulator/streams")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_emulator(delay: float, port: int) -> Emulator:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ablt_core.emulator",
            "--port",
            str(port),
            "--delay",
            str(delay),
            "--token",
            TOKEN,
            "--history-days",
            "0",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    emulator = Emulator(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while True:
        with contextlib.suppress(OSError):
            emulator._call("GET", "/_emulator/settings")
            return emulator
        if process.poll() is not None or time.monotonic() > deadline:
            emulator.stop()
            raise RuntimeError("the emulator did not start")
        time.sleep(0.1)


# -- the team and its saved conversations ----------------------------------------


def member_name(index: int) -> str:
    return f"bench-{index:02d}"


def in_checkout(app_dir: Path, function: str, *args: Any) -> Any:
    """Call `function(*args)` of this module in a fresh interpreter whose `webapp`
    is `app_dir`'s, so the team file and the store are written and read by the
    product's own code (another checkout may have another schema). JSON in, out."""
    code = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('bench_stream_render', sys.argv[1])\n"
        "module = sys.modules['bench_stream_render'] = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps(getattr(module, sys.argv[2])(*json.loads(sys.argv[3]))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, __file__, function, json.dumps(args)],
        cwd=app_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{function} failed in {app_dir}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare_team(workdir: str, members: int, conversations: int, db_url: str) -> tuple[str, str]:
    """A team file with `members` members and a SQLite store where each has
    `conversations` saved conversations of 6 messages; returns (team file, DB URL).
    Run through `in_checkout`."""
    from webapp import history
    from webapp import team as team_module
    from webapp.store import ConversationStore

    team_module.BCRYPT_ROUNDS = 4  # logging 20 members in should not cost a minute
    auth_file = Path(workdir) / "auth.yaml"
    team = team_module.load_team(auth_file, create=True)
    created = [
        team.add(
            member_name(i), name=f"Bench {i:02d}", email=f"b{i}@bench.invalid", password=PASSWORD
        )
        for i in range(1, members + 1)
    ]
    team.save()
    start = datetime.now(UTC) - timedelta(days=40)
    with ConversationStore(db_url) as store:
        for member in created:
            for c in range(conversations):
                at = start + timedelta(days=c)
                export = {
                    "format": "ablt-chat-conversation",
                    "version": 1,
                    "conversation": {
                        "title": f"Saved conversation {c + 1}",
                        "bot_slug": BOT_SLUG,
                        "bot_name": "Omni",
                        "created_at": at.isoformat(),
                    },
                    "messages": [
                        {
                            "role": "user" if i % 2 == 0 else "assistant",
                            "text": f"Message {i} of an older chat about topic {c}.",
                            "created_at": (at + timedelta(minutes=i)).isoformat(),
                        }
                        for i in range(6)
                    ],
                }
                store.import_conversation(member, history.parse_import(export))
    return str(auth_file), db_url


# -- the apps ---------------------------------------------------------------------


def start_apps(
    workdir: Path,
    emulator: Emulator,
    auth_file: Path,
    db_url: str,
    kinds: Sequence[str],
    product_env: dict[str, str],
    app_dir: Path,
) -> dict[str, AppServer]:
    from tests.e2e.appserver import launch_app, wait_ready

    env = {"ABLT_BEARER_TOKEN": TOKEN, "ABLT_BASE_URL": emulator.url}
    servers = {}
    for kind in kinds:
        if kind == "product":
            script, cwd, extra = "app.py", app_dir, env | product_env
        else:
            # Run from an empty folder: Streamlit's defaults, not the project's
            # .streamlit/config.toml (the tutorial app has none); ablt_core via PYTHONPATH.
            cwd = workdir / "reference-cwd"
            cwd.mkdir(exist_ok=True)
            script = str(REPO_ROOT / "bench" / "reference_app.py")
            extra = env | {"PYTHONPATH": str(REPO_ROOT)}
        servers[kind] = launch_app(
            workdir / kind,
            auth_file=auth_file,
            db_url=db_url,
            cookie_key=secrets.token_urlsafe(32),
            script=script,
            extra_env=extra,
            cwd=cwd,
        )
    wait_ready(list(servers.values()))
    return servers


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- one browser session -----------------------------------------------------------


@dataclass
class Session:
    """One member's page on one app, ready to send."""

    kind: str
    page: Page
    server: AppServer
    member: str = ""

    def open(self) -> None:
        from tests.e2e.appserver import CHAT_INPUT, UI_TIMEOUT_MS, log_in, wait_until_idle

        if self.kind == "product":
            log_in(self.page, self.server, self.member, PASSWORD)
        else:
            self.page.goto(self.server.url, wait_until="domcontentloaded")
            self.page.get_by_test_id(CHAT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)
        wait_until_idle(self.page, IDLE_QUIET_MS)

    def fresh_chat(self) -> None:
        """A new, empty conversation: the product's New chat; a new session for the reference."""
        from tests.e2e.appserver import CHAT_INPUT, UI_TIMEOUT_MS, wait_until_idle

        if self.kind == "product":
            self.page.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
        else:
            self.page.goto(self.server.url, wait_until="domcontentloaded")
            self.page.get_by_test_id(CHAT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)
        wait_until_idle(self.page, IDLE_QUIET_MS)

    def arm(self, prompt: str, opener: str, closer: str) -> None:
        from tests.e2e.appserver import CHAT_INPUT

        self.page.evaluate(WATCH_SCRIPT, [opener, closer])
        box = self.page.get_by_test_id(CHAT_INPUT)
        box.fill(prompt)
        box.focus()

    def press_enter(self) -> None:
        self.page.keyboard.press("Enter")

    def watch(self) -> dict[str, Any]:
        return dict(self.page.evaluate(READ_SCRIPT))

    def last_answer(self) -> str:
        from tests.e2e.appserver import ASSISTANT_MESSAGE

        answers = self.page.locator(ASSISTANT_MESSAGE)
        if answers.count() == 0:
            return ""
        return normalise(answers.last.inner_text())

    def errors_shown(self) -> int:
        return int(
            self.page.locator(
                '[data-testid="stException"], [data-testid="stAlertContentError"]'
            ).count()
        )


def normalise(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Answer:
    """One answer's figures (times in ms; None when it never happened)."""

    kind: str
    words: int
    first_ms: float | None = None
    whole_ms: float | None = None
    lag_ms: float | None = None
    bytes_ratio: float | None = None
    cpu_s: float | None = None
    long_tasks: list[float] = field(default_factory=list)
    verdict: str = "ok"  # ok, lost, cut, mixed, error


def judge(shown: str, record: dict[str, Any] | None, prompts: Sequence[str], mine: str) -> str:
    """ok / lost / cut / mixed: the text on screen against what the emulator sent."""
    if record is None or not shown:
        return "lost"
    if any(p != mine and p in shown for p in prompts):
        return "mixed"
    sent = normalise(record["text"])
    if not record["completed"] or sent not in shown:
        return "cut"
    return "ok"


def figures(
    session: Session, watch: dict[str, Any], record: dict[str, Any] | None, words: int
) -> Answer:
    answer = Answer(session.kind, words)
    enter = watch.get("enter")
    if enter is None:
        answer.verdict = "lost"
        return answer
    if watch.get("first") is not None:
        answer.first_ms = watch["first"] - enter
    if watch.get("done") is not None:
        answer.whole_ms = watch["done"] - enter
        if record and record.get("ended_at"):
            answer.lag_ms = watch["done"] - record["ended_at"] * 1000
    if record:
        size = len(record["text"].encode())
        answer.bytes_ratio = (watch["bytes"] - watch["bytesAtEnter"]) / size
    answer.long_tasks = [d for start, d in watch["longTasks"] if start >= enter]
    return answer


def expected_ends() -> tuple[str, str]:
    """The first words and the last words of every answer of the bench's bot."""
    from ablt_core.emulator import BOTS

    bot = next(b for b in BOTS if b.slug == BOT_SLUG)
    return " ".join(bot.opener.split()[:4]), bot.closer


def wait_all(sessions: Sequence[Session], timeout: float) -> list[dict[str, Any]]:
    """Poll the pages until every answer is whole on screen (or `timeout` s)."""
    deadline = time.monotonic() + timeout
    watches = [s.watch() for s in sessions]
    while any(w["done"] is None for w in watches) and time.monotonic() < deadline:
        time.sleep(0.5)
        watches = [
            w if w["done"] is not None else s.watch()
            for s, w in zip(sessions, watches, strict=True)
        ]
    return watches


def settle(session: Session) -> None:
    from tests.e2e.appserver import wait_until_idle

    with contextlib.suppress(Exception):
        wait_until_idle(session.page, IDLE_QUIET_MS, timeout_ms=60_000)


# -- part 1 ------------------------------------------------------------------------


def one_answer(session: Session, emulator: Emulator, words: int, delay: float, tag: str) -> Answer:
    opener, closer = expected_ends()
    session.fresh_chat()
    emulator.set_answer_words(words)
    emulator.clear_streams()
    prompt = f"Bench {tag}: {words} words please"
    session.arm(prompt, opener, closer)
    before = cpu_seconds(session.server.process.pid)
    session.press_enter()
    [watch] = wait_all([session], SLACK_S + words * delay * 4)
    settle(session)
    cpu = cpu_seconds(session.server.process.pid) - before
    watch = session.watch() | {"first": watch["first"], "done": watch["done"]}
    record = next((r for r in emulator.streams() if r["prompt"] == prompt), None)
    answer = figures(session, watch, record, words)
    answer.cpu_s = cpu
    answer.verdict = judge(session.last_answer(), record, [], prompt)
    if session.errors_shown():
        answer.verdict = "error"
    return answer


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def report_part1(results: dict[tuple[str, int], list[Answer]], args: argparse.Namespace) -> None:
    kinds = args.kinds
    print(
        f"\nPart 1: one member, {args.conversations} saved conversations, "
        f"{args.delay * 1000:g} ms per word, median of {args.runs} run(s)"
    )
    rows = [
        ("bytes received / answer size", lambda a: a.bytes_ratio, ".0f", "x"),
        ("first word on screen after Enter (ms)", lambda a: a.first_ms, ".0f", ""),
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


def newest_answers(db_url: str, auth_file: str, names: list[str]) -> dict[str, Any]:
    """{member: [status, text] of the newest conversation's last answer, or None}.
    Run through `in_checkout`."""
    from webapp.store import ConversationStore
    from webapp.team import load_team

    team = load_team(auth_file)
    found: dict[str, Any] = {}
    with ConversationStore(db_url) as store:
        for name in names:
            owner = team.get(name)
            conversations = store.list_conversations(owner) if owner else []
            messages = store.all_messages(owner, conversations[0].id) if conversations else []
            answer = next((m for m in reversed(messages) if m.role == "assistant"), None)
            found[name] = None if answer is None else [answer.status, answer.text]
    return found


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
    from tests.e2e.conftest import VIEWPORT

    opener, closer = expected_ends()
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
            session.arm(prompts[session.member], opener, closer)
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
            latest = session.watch() | {"first": watch["first"], "done": watch["done"]}
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


@contextlib.contextmanager
def bench_setup(
    args: argparse.Namespace,
) -> Iterator[tuple[Emulator, dict[str, AppServer], str, Path]]:
    from tests.e2e.appserver import free_port, stop_all

    with contextlib.ExitStack() as stack:
        if args.keep:
            tmp = tempfile.mkdtemp(prefix="ablt-bench-")
            print(f"workdir (kept: app logs, team file, database): {tmp}")
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ablt-bench-"))
        workdir = Path(tmp)
        if args.pg_url:
            db_url = stack.enter_context(throwaway_schema(args.pg_url))
        else:
            db_url = f"sqlite:///{workdir / 'conversations.db'}"
        auth_path, db_url = in_checkout(
            args.app_dir, "prepare_team", tmp, max(args.members, 1), args.conversations, db_url
        )
        auth_file = Path(auth_path)
        emulator = start_emulator(args.delay, free_port())
        stack.callback(emulator.stop)
        servers = start_apps(
            workdir, emulator, auth_file, db_url, args.kinds, args.app_env, args.app_dir
        )
        stack.callback(stop_all, list(servers.values()))
        yield emulator, servers, db_url, auth_file


@contextlib.contextmanager
def throwaway_schema(base_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose connections use a new, empty schema, dropped afterwards."""
    import sqlalchemy as sa

    name = f"bench_{secrets.token_hex(8)}"
    admin = sa.create_engine(base_url, poolclass=sa.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
        url = sa.make_url(base_url).update_query_dict({"options": f"-csearch_path={name}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        admin.dispose()


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
    print("\nIssue 8 targets")
    for title, measured, met in rows:
        verdict = "not measured" if met is None else "met" if met else "NOT met"
        print(f"    {title:<58} {measured:>9}  {verdict}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
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
