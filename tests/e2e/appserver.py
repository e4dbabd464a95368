"""Start the real app (`streamlit run serve.py`) in demo mode and drive it with Chromium.

Shared by the browser tests (`tests/e2e/conftest.py`) and the screenshot script
(`python -m scripts.screenshot`), so both see the app exactly the same way:

- `start_app(workdir)` runs Streamlit as a subprocess in its own process group,
  with a clean environment (no `ABLT_BEARER_TOKEN`: demo mode; the team file
  and the conversation database under `workdir` unless `auth_file=` / `db_url=`
  name shared ones; no user or project secrets file), and returns once
  `/_stcore/health` answers. `AppServer.stop()` ends the whole group;
  `AppServer.log()` is what the app printed; `stop_all(...)` stops several at once.
- `start_apps(...)` starts several such processes at once (a scale-out test:
  same team file, same database, same cookie key) and waits for all of them.
- `launch_chromium(playwright)` launches Debian's Chromium, never a download.
- `emulator_url(server)` finds the app's demo emulator (its other listening
  port); `inject_fault(server, kind=..., ...)` queues a fault in it over HTTP.
- `log_in(page, ...)` fills the real login form; `log_in_as_member`, `chat`,
  `message_text` and `history_entry` are the steps the tests share;
  `seed_conversations(server, titles)` saves conversations for a member.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ablt_core.emulator.server import CONTROL_SECRET_HEADER
from webapp.backend import ENV_EMULATOR_CONTROL_SECRET

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Playwright

# The app's embedded emulator requires it on its control routes (/_emulator/*).
EMULATOR_CONTROL_SECRET = secrets.token_urlsafe(24)
REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_PATH = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
# Seconds between the emulator's streamed pieces: streaming is visible, yet quick.
DEFAULT_EMULATOR_DELAY = 0.02
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
HEALTH_PATH = "/_stcore/health"
# Environment variables passed through from the caller; everything else is dropped,
# so a developer's ABLT_* settings or proxies never reach the app under test.
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(
    workdir: Path,
    emulator_delay: float = DEFAULT_EMULATOR_DELAY,
    *,
    auth_file: Path | None = None,
    db_url: str | None = None,
    cookie_key: str | None = None,
) -> dict[str, str]:
    """A clean demo-mode environment whose files live under `workdir`.

    `auth_file`, `db_url` and `cookie_key` override the team file, the
    conversation database and the login cookie's key (default: a per-process
    random key), so several processes can share them.
    """
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.update(
        {
            # HOME under workdir: no ~/.streamlit config, credentials or secrets apply.
            "HOME": str(home),
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "ABLT_AUTH_FILE": str(auth_file or workdir / "auth.yaml"),
            "ABLT_DB_URL": db_url or f"sqlite:///{workdir / 'conversations.db'}",
            "ABLT_EMULATOR_DELAY": str(emulator_delay),
            # The embedded emulator's control routes need it (inject_fault sends it).
            ENV_EMULATOR_CONTROL_SECRET: EMULATOR_CONTROL_SECRET,
        }
    )
    if cookie_key is not None:
        env["ABLT_COOKIE_KEY"] = cookie_key
    return env


def app_command(port: int, secrets_file: Path, script: str = "serve.py") -> list[str]:
    """`streamlit run <script>` (a path relative to the repository) on loopback, headless."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,  # as deployed: serve.py, app.py plus the HttpOnly login cookie routes
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # Not the project's .streamlit/secrets.toml: a real token there would end demo mode.
        "--secrets.files",
        str(secrets_file),
    ]


@dataclass
class AppServer:
    """A running `streamlit run serve.py` and where to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    log_path: Path
    auth_file: Path  # the team file imported on the first start (the team lives in the DB)
    _log_file: object = field(repr=False, default=None)
    db_url: str = ""  # the app's database (conversations and the team)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the app wrote to stdout and stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def terminate(self) -> None:
        """Ask the app's process group to end (SIGTERM) without waiting; `stop()` waits."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        """End the app's whole process group: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_TIMEOUT)
        # Children (if any) may outlive the leader: make sure the group is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        close = getattr(self._log_file, "close", None)
        if close is not None:
            close()


def listening_ports(pid: int) -> set[int]:
    """TCP ports process `pid` listens on over IPv4 loopback or any address (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and inode in inodes:  # 0A: LISTEN
            ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports


def emulator_url(server: AppServer) -> str:
    """The base URL of the demo emulator inside `server` (started by its first page).

    The app listens on its own port and on the emulator's; the other one is it.
    Use it for the emulator's control endpoints (`/_emulator/faults`...).
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        others = listening_ports(server.process.pid) - {server.port}
        if len(others) == 1:
            return f"http://127.0.0.1:{others.pop()}"
        if time.monotonic() > deadline:
            raise RuntimeError(f"No single emulator port in the app's process: {others}")
        time.sleep(0.1)


def inject_fault(server: AppServer, **fault: Any) -> None:
    """Queue a fault (see `ablt_core.emulator`) in the app's demo emulator."""
    request = urllib.request.Request(
        emulator_url(server) + "/_emulator/faults",
        data=json.dumps(fault).encode(),
        headers={
            "Content-Type": "application/json",
            CONTROL_SECRET_HEADER: EMULATOR_CONTROL_SECRET,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status < 300, response.status


def stop_all(servers: Sequence[AppServer]) -> None:
    """Stop several apps, letting them shut down at the same time."""
    for server in servers:
        server.terminate()
    for server in servers:
        server.stop()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def launch_app(
    workdir: Path,
    *,
    emulator_delay: float = DEFAULT_EMULATOR_DELAY,
    auth_file: Path | None = None,
    db_url: str | None = None,
    cookie_key: str | None = None,
    script: str = "serve.py",
    extra_env: Mapping[str, str] | None = None,
    cwd: Path = REPO_ROOT,
    secrets: str = "",
) -> AppServer:
    """Start the app in demo mode without waiting for it (see `wait_ready`).

    `script` runs another Streamlit script instead (the bench's reference app);
    `extra_env` adds variables, e.g. `ABLT_BEARER_TOKEN` and `ABLT_BASE_URL` to
    run against an aBLT server of the caller's instead of the embedded emulator;
    `cwd` runs another checkout of the app (the bench compares branches so);
    `secrets` is the TOML of the app's secrets file (e.g. an `[auth]` section
    for single sign-on; no token, so still demo mode).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    secrets_file = workdir / "secrets.toml"
    secrets_file.write_text("# no token: demo mode\n" + secrets)
    log_path = workdir / "streamlit.log"
    log_file = log_path.open("wb")
    port = free_port()
    env = app_env(
        workdir, emulator_delay, auth_file=auth_file, db_url=db_url, cookie_key=cookie_key
    )
    env.update(extra_env or {})
    process = subprocess.Popen(
        app_command(port, secrets_file, script),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so stop() ends it all
    )
    return AppServer(
        process,
        port,
        workdir,
        log_path,
        Path(env["ABLT_AUTH_FILE"]),
        log_file,
        db_url=env["ABLT_DB_URL"],
    )


def wait_ready(servers: Sequence[AppServer], timeout: float = STARTUP_TIMEOUT) -> None:
    """Wait until every server's health endpoint answers; stop them all if one fails."""
    deadline = time.monotonic() + timeout
    waiting = list(servers)
    while waiting:
        waiting = [server for server in waiting if not _healthy(server.url)]
        for server in waiting:
            exited = server.process.poll() is not None
            if exited or time.monotonic() > deadline:
                why = (
                    f"exited with code {server.process.returncode}"
                    if exited
                    else f"did not answer {HEALTH_PATH} within {timeout:.0f} s"
                )
                log = server.log()
                stop_all(servers)
                raise RuntimeError(f"The app on port {server.port} {why}. Its log:\n{log}")
        if waiting:
            time.sleep(0.1)


def start_app(
    workdir: Path,
    *,
    emulator_delay: float = DEFAULT_EMULATOR_DELAY,
    timeout: float = STARTUP_TIMEOUT,
    auth_file: Path | None = None,
    db_url: str | None = None,
    cookie_key: str | None = None,
    script: str = "serve.py",
    extra_env: Mapping[str, str] | None = None,
    secrets: str = "",
) -> AppServer:
    """Start the app in demo mode; return once its health endpoint answers."""
    server = launch_app(
        workdir,
        emulator_delay=emulator_delay,
        auth_file=auth_file,
        db_url=db_url,
        cookie_key=cookie_key,
        script=script,
        extra_env=extra_env,
        secrets=secrets,
    )
    wait_ready([server], timeout)
    return server


def start_apps(
    workdirs: Sequence[Path],
    *,
    emulator_delay: float = DEFAULT_EMULATOR_DELAY,
    timeout: float = STARTUP_TIMEOUT,
    auth_file: Path | None = None,
    db_url: str | None = None,
    cookie_key: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    secrets: str = "",
) -> list[AppServer]:
    """Start one app per workdir, all at once, sharing the given team file,
    database and cookie key (a scale-out deployment in miniature); `extra_env`
    and `secrets` as for `launch_app` (e.g. one aBLT server for all of them)."""
    servers: list[AppServer] = []
    try:
        for workdir in workdirs:
            servers.append(
                launch_app(
                    workdir,
                    emulator_delay=emulator_delay,
                    auth_file=auth_file,
                    db_url=db_url,
                    cookie_key=cookie_key,
                    extra_env=extra_env,
                    secrets=secrets,
                )
            )
    except BaseException:
        stop_all(servers)
        raise
    wait_ready(servers, timeout)
    return servers


@contextlib.contextmanager
def running_app(workdir: Path, **kwargs: Any) -> Iterator[AppServer]:
    server = start_app(workdir, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def running_in_ci() -> bool:
    """CI sets `CI`; there the browser is installed, so its absence is a failure."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def chromium_available() -> bool:
    return CHROMIUM_PATH.exists()


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless (never a downloaded browser)."""
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM_PATH), headless=True, args=list(CHROMIUM_ARGS)
    )


# -- driving the UI ---------------------------------------------------------------

CHAT_INPUT = "stChatInputTextArea"
CHAT_MESSAGE = "stChatMessage"
# The content of a chat bubble (its text, without the avatar) carries who said it.
ASSISTANT_MESSAGE = '[data-testid="stChatMessageContent"][aria-label="Chat message from assistant"]'
USER_MESSAGE = '[data-testid="stChatMessageContent"][aria-label="Chat message from user"]'
# Generous: the tests run beside others on two cores (pytest-xdist); waiting
# longer costs nothing when the page is fine, and a loaded machine is not a bug.
UI_TIMEOUT_MS = 40_000
# The demo team's member (webapp.team.DEMO_MEMBERS).
MEMBER = "demo-member"


def open_login(page: Page, server: AppServer) -> None:
    """Open the app and wait for its login form; it takes input at once (no settling)."""
    page.goto(server.url, wait_until="domcontentloaded")
    page.get_by_label("Username").wait_for(timeout=UI_TIMEOUT_MS)


def submit_login(page: Page, username: str, password: str, *, once: bool = False) -> None:
    """Fill the login form and click Log in.

    On a loaded CI machine a click was lost about once in three full runs: the
    app stayed idle and the page unchanged, the form still filled. A person
    clicks again, and so does this (one more click, only when the app is idle
    and nothing on the page answered the first). `once=True` for the tests
    whose point is that the first click counts.
    """
    from playwright.sync_api import Error as PlaywrightError

    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    alerts = page.get_by_test_id("stAlertContainer")
    alerts_before = alerts.count()
    button = page.get_by_role("button", name="Log in")
    button.click()
    if once:
        return
    with contextlib.suppress(PlaywrightError):
        wait_until_idle(page, quiet_ms=2000, timeout_ms=20_000)
        unanswered = (
            page.get_by_label("Username").count() == 1
            and alerts.count() == alerts_before
            and page.get_by_label("Password", exact=True).input_value(timeout=1000) == password
        )
        if unanswered:
            button.click(timeout=5000)


def log_in(page: Page, server: AppServer, username: str, password: str) -> None:
    """Log in through the real form and wait for the chat input."""
    open_login(page, server)
    # The login page's first runs (the cookie component reporting back) can
    # replace the run a click lands in on a busy machine: let them settle first.
    wait_until_idle(page)
    submit_login(page, username, password)
    page.get_by_test_id(CHAT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)


def wait_until_idle(page: Page, quiet_ms: int = 400, timeout_ms: int = UI_TIMEOUT_MS) -> None:
    """Wait until the app's script has not been running for `quiet_ms` in a row.

    Streamlit marks its root with `data-test-script-state`; an `st.rerun()` makes
    it flip to "notRunning" for a moment between two runs, hence the quiet time.
    """
    page.evaluate("() => { window.__abltBusyAt = performance.now(); }")
    page.wait_for_function(
        """(quietMs) => {
            const app = document.querySelector('[data-testid="stApp"]');
            const state = app && app.getAttribute('data-test-script-state');
            const now = performance.now();
            if (state !== 'notRunning') window.__abltBusyAt = now;
            return now - window.__abltBusyAt >= quietMs;
        }""",
        arg=quiet_ms,
        timeout=timeout_ms,
    )


def send_prompt(page: Page, prompt: str) -> None:
    """Type into the chat input and press Enter, as a user would."""
    box = page.get_by_test_id(CHAT_INPUT)
    box.click()
    page.keyboard.type(prompt)
    page.keyboard.press("Enter")


def log_in_as_member(page: Page, server: AppServer | None = None) -> None:
    """Log in as the demo member with the credentials exactly as the login page shows them.

    Opens the login page first when given `server`, else uses the open one.
    """
    from playwright.sync_api import expect

    if server is not None:
        open_login(page, server)
    password = shown_demo_credentials(page)[MEMBER]
    wait_until_idle(page)  # as in log_in: let the login page's first runs settle
    submit_login(page, MEMBER, password)
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()
    # The new conversation opens with the bot's welcome.
    expect(page.locator(ASSISTANT_MESSAGE).first).to_be_visible()
    wait_until_idle(page)


def chat(page: Page, prompt: str) -> str:
    """Send `prompt` with the keyboard; return the finished answer's text."""
    from playwright.sync_api import expect

    answers_before = page.locator(ASSISTANT_MESSAGE).count()
    send_prompt(page, prompt)
    expect(page.locator(USER_MESSAGE).last).to_contain_text(prompt)
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(answers_before + 1)
    # Finished: the app's runs are over and the input's Stop button is Send again.
    wait_until_idle(page)
    expect(page.get_by_role("button", name="Stop script")).to_have_count(0)
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(answers_before + 1)
    return message_text(page.locator(ASSISTANT_MESSAGE).last)


def message_text(message: Locator) -> str:
    """A chat bubble's text as written (its blocks, see `webapp.render`), without
    the Copy control or status notes; blocks apart by a blank line."""
    blocks = message.locator(".ablt-block").all_inner_texts()
    if blocks:
        return "\n\n".join(block.strip() for block in blocks)
    return message.get_by_test_id("stMarkdownContainer").first.inner_text().strip()


def seed_conversations(server: AppServer, titles: Sequence[str], username: str = MEMBER) -> None:
    """Save a conversation per title for `username` in the app's own database
    (through the store's import, as a member's Import does), one a day, the
    first title the most recent; each has two prompts and their answers.
    The team must exist: open the login page once before."""
    from datetime import UTC, datetime, timedelta

    from webapp.conversations import context as history
    from webapp.conversations.store import ConversationStore
    from webapp.team import MemberStore

    start = datetime.now(UTC) - timedelta(days=len(titles) + 1)
    with ConversationStore(f"sqlite:///{server.workdir / 'conversations.db'}") as store:
        member = MemberStore(store.engine).get(username)
        if member is None:
            raise RuntimeError(f"{username} is not a member of the app's team")
        for age, title in enumerate(reversed(titles)):
            at = start + timedelta(days=age)
            export = {
                "format": "ablt-chat-conversation",
                "version": 1,
                "conversation": {
                    "title": title,
                    "bot_slug": "omni",
                    "bot_name": "Omni",
                    "created_at": at.isoformat(),
                },
                "messages": [
                    {
                        "role": "user" if i % 2 == 0 else "assistant",
                        "text": f"Question {i // 2 + 1} about {title}."
                        if i % 2 == 0
                        else f"Answer {i // 2 + 1}.",
                        "created_at": (at + timedelta(minutes=i)).isoformat(),
                    }
                    for i in range(4)
                ],
            }
            store.import_conversation(member, history.parse_import(export))


def nav_link(page: Page, title: str) -> Locator:
    """The link to the page titled `title` in the app's navigation: across the
    top on a wide screen (app.py's `position="top"`), in the sidebar on a phone
    (Streamlit moves it there)."""
    nav = page.locator('[data-testid="stTopNav"], [data-testid="stSidebarNav"]')
    return nav.get_by_role("link", name=title, exact=True)


def history_entry(page: Page, title: str) -> Locator:
    """The conversation titled `title` in the chat page's History sidebar."""
    return page.get_by_test_id("stSidebar").get_by_role("button", name=title, exact=True)


_DEMO_LINE = re.compile(r"^\s*(demo-[\w.-]+)\s*/\s*(\S+)\s*$", re.MULTILINE)


def shown_demo_credentials(page: Page) -> dict[str, str]:
    """{username: password} as the login page's demo-mode notice shows them."""
    notice = page.get_by_test_id("stAlert").filter(has_text="Demo mode")
    notice.wait_for(timeout=UI_TIMEOUT_MS)
    return dict(_DEMO_LINE.findall(notice.inner_text()))
