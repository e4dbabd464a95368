"""The operator's routes on the real server (`streamlit run serve.py`), no browser:
/healthz, /readyz (database up, and down: PostgreSQL on a closed port),
/metrics from loopback and refused through an untrusted proxy, JSON log
lines, and Streamlit's own routes (/_stcore/health, /auth/login) untouched.

The metrics' values moving during an answer: on this real server with a
member's browser session in tests/e2e/test_answers_browser.py (it shares that
module's browser and server), and in detail in-process against the emulator
in tests/webapp/operations/test_metrics.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.appserver import AppServer, free_port, launch_app, stop_all, wait_ready

TOKEN = "metrics-token-for-the-e2e-test"
DB_PASSWORD = "never-shown-db-password"
HANG_GUARD = 10.0  # seconds; only guards the test against a hang


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, AppServer]]:
    """A working server (JSON logs, a metrics token) and one whose database is down."""
    down_url = f"postgresql+psycopg://ablt:{DB_PASSWORD}@127.0.0.1:{free_port()}/ablt"
    up = launch_app(
        tmp_path_factory.mktemp("ops-up"),
        extra_env={"ABLT_LOG_FORMAT": "json", "ABLT_METRICS_TOKEN": TOKEN},
    )
    down = launch_app(tmp_path_factory.mktemp("ops-down"), db_url=down_url)
    both = [up, down]
    try:
        wait_ready(both)
        yield up, down
    finally:
        stop_all(both)


def get(server: AppServer, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers, timeout=HANG_GUARD)


def ready_within(server: AppServer, seconds: float = 60, *, api: bool = False) -> httpx.Response:
    """/readyz polled as a load balancer does, until 200 or `seconds` pass: a
    process that has just started is rightly not ready while it opens its
    database. With `api`, also until the API check says "ok": the embedded
    emulator starts with the first check and, on a loaded machine, may not
    answer that check's short timeout yet (the API never fails readiness)."""
    deadline = time.monotonic() + seconds
    while True:
        ready = get(server, "/readyz")
        done = ready.status_code == 200 and (
            not api or ready.json()["checks"]["api"]["status"] == "ok"
        )
        if done or time.monotonic() > deadline:
            return ready
        time.sleep(0.5)


def test_health_readiness_and_metrics_on_the_real_server(
    servers: tuple[AppServer, AppServer],
) -> None:
    up, _ = servers
    assert get(up, "/healthz").json() == {"status": "ok"}
    ready = ready_within(up, api=True)
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] and checks["answers"]["ok"]
    assert checks["api"]["status"] == "ok"  # the embedded emulator answers
    metrics = get(up, "/metrics")
    assert metrics.status_code == 200
    for name in (
        "ablt_chat_answers_finished_total",
        "ablt_chat_logins_total",
        "ablt_chat_login_failures_total",
        "ablt_chat_sessions_active",
        "ablt_chat_answers_in_progress",
    ):
        assert name in metrics.text
    # Streamlit's own routes are still Streamlit's.
    assert get(up, "/_stcore/health").text == "ok"
    assert "status" not in get(up, "/auth/login").text[:200]


def test_metrics_through_an_untrusted_proxy_need_the_token(
    servers: tuple[AppServer, AppServer],
) -> None:
    up, _ = servers
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert get(up, "/metrics", **proxied).status_code == 403
    with_token = get(up, "/metrics", Authorization=f"Bearer {TOKEN}", **proxied)
    assert with_token.status_code == 200
    assert get(up, "/metrics", Authorization="Bearer wrong", **proxied).status_code == 401


def test_readyz_with_the_database_down_answers_503(servers: tuple[AppServer, AppServer]) -> None:
    _, down = servers
    assert get(down, "/healthz").status_code == 200
    reply = get(down, "/readyz")
    assert reply.status_code == 503
    assert reply.json()["checks"]["database"]["ok"] is False
    assert DB_PASSWORD not in reply.text


def test_the_log_is_json_lines_without_secrets(servers: tuple[AppServer, AppServer]) -> None:
    up, _ = servers
    get(up, "/readyz")  # its API check starts the embedded emulator, which logs it
    ours = [line for line in up.log().splitlines() if line.startswith('{"time"')]
    assert ours, up.log()
    events = [json.loads(line) for line in ours]
    assert any("emulator" in event["message"] for event in events)
    assert TOKEN not in up.log()
