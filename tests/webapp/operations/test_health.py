"""/healthz and /readyz: the database up, down (a closed port, a server that
never answers, a locked table), an old schema, a dead answer loop, the API down.

The routes are served by uvicorn on loopback as `serve.py` mounts them. A
database that hangs is waited for at most a second: the HTTP client's own
timeout (5 s) only guards the test against a hang; the bench
(`bench/metrics_scrape.py`) prints how long /readyz takes with the database down.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from tests.e2e.appserver import free_port
from tests.pg import PG_ENV, fresh_schema_url
from tests.webapp.answer_helpers import until
from tests.webapp.operations.conftest import served
from webapp.answers import AnswerService
from webapp.conversations.store import ConversationStore
from webapp.db import migrations
from webapp.db.engine import make_engine
from webapp.operations.health import LoopOwner, Readiness
from webapp.operations.routes import build_routes

PASSWORD = "s3cret-db-pass"
HANG_GUARD = 5.0  # seconds; the checks answer within about 1.5 s


def app_for(readiness: Readiness) -> Starlette:
    return Starlette(
        routes=build_routes(
            readiness=readiness, metrics_token=lambda: None, trusted_proxy_hops=lambda: 0
        )
    )


def ready(
    engine: Callable[[], sa.Engine],
    services: Iterable[LoopOwner] = (),
    api: Callable[[], bool] | None = None,
) -> Readiness:
    return Readiness(engine, lambda: list(services), api)


@contextlib.contextmanager
def hanging_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a stopped database)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=HANG_GUARD)


def test_healthz_answers_while_the_process_runs(store: ConversationStore) -> None:
    with served(app_for(ready(lambda: store.engine))) as url:
        reply = get(f"{url}/healthz")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}
    assert reply.headers["cache-control"] == "no-store"


def test_readyz_with_the_database_up_and_the_worker_running(
    store: ConversationStore, make_service: Callable[..., AnswerService]
) -> None:
    service = make_service()
    with served(app_for(ready(lambda: store.engine, [service], api=lambda: True))) as url:
        reply = get(f"{url}/readyz")
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {
        "ok": True,
        "status": "ok",
        "schema_version": migrations.LATEST_VERSION,
        "schema_expected": migrations.LATEST_VERSION,
    }
    assert body["checks"]["answers"] == {"ok": True, "status": "ok", "loops": 1}
    assert body["checks"]["api"]["status"] == "ok"


def test_readyz_without_an_answer_service_yet_is_ready(store: ConversationStore) -> None:
    with served(app_for(ready(lambda: store.engine))) as url:
        reply = get(f"{url}/readyz")
    assert reply.status_code == 200
    assert reply.json()["checks"]["answers"]["status"].startswith("idle")


def test_the_api_down_is_reported_but_the_process_stays_ready(store: ConversationStore) -> None:
    with served(app_for(ready(lambda: store.engine, api=lambda: False))) as url:
        reply = get(f"{url}/readyz")
    assert reply.status_code == 200
    assert reply.json()["checks"]["api"] == {
        "ok": False,
        "status": "unreachable",
        "fails_readiness": False,
    }


def test_a_dead_answer_loop_is_not_ready(store: ConversationStore) -> None:
    class Dead:
        def loop_alive(self, timeout: float = 1.0) -> bool:
            return False

    with served(app_for(ready(lambda: store.engine, [Dead()]))) as url:
        reply = get(f"{url}/readyz")
    assert reply.status_code == 503
    assert reply.json()["checks"]["answers"]["ok"] is False


def test_a_closed_service_loop_no_longer_counts_as_alive(
    make_service: Callable[..., AnswerService],
) -> None:
    service = make_service()
    assert service.loop_alive()
    service.close()
    assert not service.loop_alive(0.2)


def test_readyz_with_postgresql_on_a_closed_port_answers_503(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://ablt:{PASSWORD}@127.0.0.1:{free_port()}/ablt"
    engine = make_engine(url)
    with served(app_for(ready(lambda: engine))) as base:
        reply = get(f"{base}/readyz")
    assert reply.status_code == 503
    database = reply.json()["checks"]["database"]
    assert database["ok"] is False and database["status"].startswith("unreachable")
    assert PASSWORD not in reply.text and "127.0.0.1" not in reply.text


def test_readyz_with_a_database_that_never_answers_answers_503_and_never_piles_up(
    tmp_path: Path,
) -> None:
    with hanging_server() as port:
        url = f"postgresql+psycopg://ablt:{PASSWORD}@127.0.0.1:{port}/ablt"
        engine = make_engine(url)
        probe_threads = lambda: [  # noqa: E731
            t for t in threading.enumerate() if t.name == "ablt-probe-database"
        ]
        with served(app_for(ready(lambda: engine))) as base:
            first = get(f"{base}/readyz")
            second = get(f"{base}/readyz")  # the first probe still hangs
            assert len(probe_threads()) == 1
        engine.dispose()
    assert first.status_code == second.status_code == 503
    assert first.json()["checks"]["database"]["status"] == "no answer within 1 s"
    assert "earlier check" in second.json()["checks"]["database"]["status"]


@pytest.mark.postgres
def test_readyz_with_a_locked_postgresql_table_answers_503() -> None:
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    with fresh_schema_url("readyz") as url:
        ConversationStore(url).close()  # migrated, current
        engine = make_engine(url)
        holder = make_engine(url)
        with served(app_for(ready(lambda: engine))) as base:
            assert get(f"{base}/readyz").status_code == 200
            with holder.connect() as conn, conn.begin():
                conn.exec_driver_sql("LOCK TABLE schema_version IN ACCESS EXCLUSIVE MODE")
                locked = get(f"{base}/readyz")
            # The lock is gone: the hung probe finishes, and a later check passes.
            until(lambda: get(f"{base}/readyz").status_code == 200)
        engine.dispose()
        holder.dispose()
    assert locked.status_code == 503


def test_readyz_with_an_old_schema_answers_503(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.connect() as conn:
        conn.execution_options(ablt_write=True)
        with conn.begin():
            migrations.upgrade(conn, target=migrations.LATEST_VERSION - 1)
    with served(app_for(ready(lambda: engine))) as url:
        reply = get(f"{url}/readyz")
    engine.dispose()
    assert reply.status_code == 503
    assert reply.json()["checks"]["database"] == {
        "ok": False,
        "status": "schema older than this app",
        "schema_version": migrations.LATEST_VERSION - 1,
        "schema_expected": migrations.LATEST_VERSION,
    }


def test_the_routes_are_three_exact_paths_and_leave_streamlits_own_alone(
    store: ConversationStore,
) -> None:
    routes = build_routes(
        readiness=ready(lambda: store.engine),
        metrics_token=lambda: None,
        trusted_proxy_hops=lambda: 0,
        base_path="/chat/",
    )
    paths = {route.path for route in routes}  # type: ignore[attr-defined]
    assert paths == {
        "/healthz",
        "/readyz",
        "/metrics",
        "/chat/healthz",
        "/chat/readyz",
        "/chat/metrics",
    }
    # Exact matches only: Streamlit's login, OAuth callback and health stay Streamlit's.
    for taken in ("/auth/login", "/oauth2callback", "/_stcore/health", "/", "/chat/"):
        assert not any(
            route.matches({"type": "http", "path": taken, "method": "GET"})[0].value
            for route in routes
        )
