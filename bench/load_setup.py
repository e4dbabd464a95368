"""bench.load's setup: members made with the team CLI, their saved conversations,
the app processes, and nginx configured exactly as docs/deploy.md shows.

`seed` runs in a subprocess whose environment names the bench's database
(`python -m bench.load_setup seed ...`), so the CLI reads its settings as an
operator's shell would.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stream_setup import BOT_SLUG, PASSWORD, REPO_ROOT, TOKEN, Emulator
from tests.e2e.appserver import AppServer, free_port, launch_app, wait_ready

DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"


def member_name(index: int) -> str:
    """The bench's member number `index`: load-001, load-002... (load-000 warms up)."""
    return f"load-{index:03d}"


def seed(count: int, conversations: int) -> None:
    """`count` members added through `python -m webapp.team add --password-stdin`'s
    own code (one parser, one store: 200 interpreter starts would take minutes),
    each with `conversations` saved conversations of 6 messages. Reads
    ABLT_DB_URL / ABLT_AUTH_FILE like the CLI. bcrypt cost 4, as the tests use,
    so 200 logins do not cost the server a minute of hashing."""
    from webapp.auth import passwords
    from webapp.conversations import context as history
    from webapp.conversations.store import DEFAULT_DB_URL, ConversationStore
    from webapp.settings import get_settings
    from webapp.team import cli
    from webapp.team.source import open_team

    passwords.BCRYPT_ROUNDS = 4
    settings = get_settings()
    parser = cli._parser(settings.auth_file)
    start = datetime.now(UTC) - timedelta(days=40)
    with ConversationStore(settings.db_url or DEFAULT_DB_URL) as store:
        members = open_team(store.engine, Path(settings.auth_file), False, require_members=False)
        for i in range(count + 1):  # load-000 warms the app up
            name = member_name(i)
            args = parser.parse_args(
                [
                    *("add", name, "--name", f"Load {i}"),
                    *("--email", f"{name}@bench.invalid", "--password-stdin"),
                ]
            )
            stdin, sys.stdin = sys.stdin, io.StringIO(PASSWORD + "\n")
            try:
                cli._run(args, members)
            finally:
                sys.stdin = stdin
            owner = members.get(name)
            assert owner is not None
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
                            "role": "user" if m % 2 == 0 else "assistant",
                            "text": f"Message {m} of an older chat about topic {c}.",
                            "created_at": (at + timedelta(minutes=m)).isoformat(),
                        }
                        for m in range(6)
                    ],
                }
                store.import_conversation(owner, history.parse_import(export))


def base_env(auth_file: Path, db_url: str) -> dict[str, str]:
    """The settings every product process and the CLI share."""
    env = {k: os.environ[k] for k in ("PATH", "LANG", "HOME") if k in os.environ}
    return env | {"ABLT_AUTH_FILE": str(auth_file), "ABLT_DB_URL": db_url}


def run_seed(auth_file: Path, db_url: str, count: int, conversations: int) -> float:
    """`seed` in a subprocess; seconds it took."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "bench.load_setup", "seed", str(count), str(conversations)],
        cwd=REPO_ROOT,
        env=base_env(auth_file, db_url),
        check=True,
    )
    return time.monotonic() - started


def start_products(
    workdir: Path,
    emulator: Emulator,
    auth_file: Path,
    db_url: str,
    processes: int,
    extra: dict[str, str],
) -> list[AppServer]:
    """`processes` product processes (serve.py) sharing the team, the database and
    the cookie key, on the emulator with a real token; returns once all are ready."""
    key = secrets.token_urlsafe(32)
    env = {"ABLT_BEARER_TOKEN": TOKEN, "ABLT_BASE_URL": emulator.url} | extra
    servers = [
        launch_app(
            workdir / f"product-{n}",
            auth_file=auth_file,
            db_url=db_url,
            cookie_key=key,
            extra_env=env,
        )
        for n in range(processes)
    ]
    wait_ready(servers, timeout=120)
    return servers


def start_reference(workdir: Path, emulator: Emulator) -> AppServer:
    """The tutorial app (bench/reference_app.py), Streamlit's defaults."""
    cwd = workdir / "reference-cwd"
    cwd.mkdir(exist_ok=True)
    server = launch_app(
        workdir / "reference",
        script=str(REPO_ROOT / "bench" / "reference_app.py"),
        extra_env={
            "ABLT_BEARER_TOKEN": TOKEN,
            "ABLT_BASE_URL": emulator.url,
            "PYTHONPATH": str(REPO_ROOT),
        },
        cwd=cwd,
    )
    wait_ready([server], timeout=120)
    return server


# -- nginx, exactly as docs/deploy.md -------------------------------------------------


def deploy_nginx_block() -> str:
    """The ```nginx block of docs/deploy.md, as written there."""
    text = DEPLOY_DOC.read_text()
    found = re.search(r"```nginx\n(.*?)```", text, re.S)
    if found is None:
        raise RuntimeError("docs/deploy.md has no nginx block")
    return found.group(1)


def nginx_config(prefix: Path, port: int, upstreams: Sequence[int]) -> str:
    """docs/deploy.md's server configuration, changed only where a bench must:
    plain HTTP on `port` (no certificate here: the TLS lines and the port-80
    redirect go), the upstream's servers are the bench's processes, and the
    file is wrapped in the main/events/http blocks of a private prefix."""
    block = deploy_nginx_block()
    servers = "".join(
        f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=15s;\n" for p in upstreams
    )
    block = re.sub(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, block, count=1)
    # The redirect server on port 80.
    block = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", block, count=1, flags=re.S)
    block = block.replace("listen 443 ssl;", f"listen 127.0.0.1:{port};")
    block = re.sub(r"\n    (http2 on|ssl_certificate(_key)?) [^\n]*;", "", block)
    block = block.replace("http2 on;\n", "")
    temp = prefix / "tmp"
    return (
        f"worker_processes 1;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        "http {\n"
        f"access_log off;\nclient_body_temp_path {temp}/body;\nproxy_temp_path {temp}/proxy;\n"
        f"fastcgi_temp_path {temp}/fcgi;\nuwsgi_temp_path {temp}/uwsgi;\n"
        f"scgi_temp_path {temp}/scgi;\n"
        f"{block}\n}}\n"
    )


@dataclass
class Nginx:
    """An nginx of the bench's own (its own -p prefix and config), never the system's."""

    process: subprocess.Popen[bytes]
    url: str
    prefix: Path


@contextlib.contextmanager
def nginx(workdir: Path, upstreams: Sequence[int]) -> Iterator[Nginx]:
    """Debian's nginx in the foreground with `nginx_config`; stopped at the end."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = workdir / "nginx"
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(prefix, port, upstreams))
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(prefix / "stderr.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/_stcore/health", timeout=5).read()
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx did not start: " + (prefix / "stderr.log").read_text())
            time.sleep(0.2)
        yield Nginx(process, url, prefix)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()


if __name__ == "__main__" and sys.argv[1:2] == ["seed"]:
    seed(int(sys.argv[2]), int(sys.argv[3]))
