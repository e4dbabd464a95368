"""bench.stream_render's setup: the emulator in its own process, the team and its
saved conversations, the two apps, and the server process's CPU and memory.

Only the standard library at module level: `in_checkout` runs this very file in
a fresh interpreter inside another checkout, whose `webapp` must be the one
imported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.e2e.appserver import AppServer

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"
PASSWORD = "bench-password-1"
BOT_SLUG = "omni"  # the product's default bot and the reference app's


# -- the emulator, in its own process ---------------------------------------------


@dataclass
class Emulator:
    """`python -m ablt_core.emulator` as a subprocess, and its control API."""

    process: subprocess.Popen[bytes]
    url: str

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        """One control-API call; its JSON reply (None when empty)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def set_answer_words(self, words: int) -> None:
        """Every answer from now on is exactly `words` words."""
        self._call("PUT", "/_emulator/settings", {"answer_words": words})

    def streams(self) -> list[dict[str, Any]]:
        """The streamed answers so far with their send times (`StreamRecord` as JSON)."""
        return list(self._call("GET", "/_emulator/streams"))

    def clear_streams(self) -> None:
        """Forget the stream records."""
        self._call("DELETE", "/_emulator/streams")

    def stop(self) -> None:
        """End the emulator process (SIGTERM, then SIGKILL after 10 s)."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_emulator(delay: float, port: int) -> Emulator:
    """`python -m ablt_core.emulator` on `port`, `delay` s a word; returns once it answers."""
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
    """The bench's member number `index` (1-based): bench-01, bench-02..."""
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
    from webapp import team as team_module
    from webapp.conversations import context as history
    from webapp.conversations.store import ConversationStore

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


def newest_answers(db_url: str, auth_file: str, names: list[str]) -> dict[str, Any]:
    """{member: [status, text] of the newest conversation's last answer, or None}.
    Run through `in_checkout`."""
    from webapp.conversations.store import ConversationStore
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
    """{kind: app} for `kinds` ("product", "reference"), both on `emulator` with a
    real token; the product from `app_dir` with `product_env` added, sharing the
    team file and the database. Returns once every health endpoint answers."""
    from tests.e2e.appserver import launch_app, wait_ready

    env = {"ABLT_BEARER_TOKEN": TOKEN, "ABLT_BASE_URL": emulator.url}
    servers = {}
    for kind in kinds:
        if kind == "product":
            # As deployed (serve.py: app.py plus the login cookie routes) where it exists.
            script = "serve.py" if (app_dir / "serve.py").is_file() else "app.py"
            cwd, extra = app_dir, env | product_env
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


@contextlib.contextmanager
def bench_setup(
    args: argparse.Namespace,
) -> Iterator[tuple[Emulator, dict[str, AppServer], str, Path]]:
    """(emulator, {kind: app}, database URL, team file) for one run: the team and
    its saved conversations written by the product's checkout, the emulator and
    the apps started; all stopped, and the work folder removed (unless `--keep`),
    at the end."""
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
