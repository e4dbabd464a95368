"""`python -m ablt_core.emulator` starts a server on the given port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_serves_on_the_requested_port_until_terminated() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ablt_core.emulator",
            "--port",
            str(port),
            "--delay",
            "0",
            "--token",
            "cli-token",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/health-check", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        assert health is not None and health.json() == {"status": "ok"}
        bots = httpx.get(f"{base}/v1/bots", headers={"Authorization": "Bearer cli-token"})
        assert bots.status_code == 200
        assert (
            httpx.get(f"{base}/v1/bots", headers={"Authorization": "Bearer x"}).status_code == 401
        )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"http://127.0.0.1:{port}" in out


def test_cli_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ablt_core.emulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    for option in ("--port", "--host", "--delay", "--token"):
        assert option in result.stdout
