"""Fixtures for the operator's routes: a real answer service on the emulator,
and the routes served by uvicorn on loopback (as `serve.py` mounts them)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle
from tests.pg import BACKENDS, db_url_on
from webapp.answers import AnswerService
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore

NO_CAP = ContextLimits(max_messages=None, max_words=None)
SETTLE = 15.0  # seconds a bounded wait for a state may take before the test fails


def until(condition: Callable[[], object], timeout: float = SETTLE) -> None:
    """Wait for `condition()` to hold (polling); fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the expected state was not reached")
        time.sleep(0.01)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with db_url_on(request.param, tmp_path, "operations") as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[ConversationStore]:
    with ConversationStore(db_url) as opened:
        yield opened


@pytest.fixture
def make_service(
    store: ConversationStore, emulator: EmulatorHandle, test_token: str
) -> Iterator[Callable[..., AnswerService]]:
    made: list[AnswerService] = []

    def make(**kw: Any) -> AnswerService:
        service = AnswerService(
            store,
            lambda: AsyncAbltClient(
                test_token, emulator.base_url, max_connections=4, max_retry_after=60
            ),
            limits=NO_CAP,
            max_workers=4,
            save_every=0.1,
            **kw,
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    until(lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
