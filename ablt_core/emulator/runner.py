"""Running the emulator: in a background thread (tests, demo mode) or in the foreground (CLI)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from datetime import date
from types import TracebackType
from typing import Any

import uvicorn

from .answers import SHAPES
from .faults import Fault, RecordedRequest
from .ledger import ALL_USERS, SEED_USERS, Ledger, usage_day
from .server import DEFAULT_DELAY, EmulatorState, create_app
from .streams import StreamRecord

START_TIMEOUT = 10.0  # seconds to wait for the server thread to accept connections
STOP_TIMEOUT = 5.0  # seconds to wait for it to finish
GRACEFUL_SHUTDOWN = 1  # seconds uvicorn gives open streams before closing them


def _config(state: EmulatorState, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(state),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class EmulatorHandle:
    """A running emulator: its URL and the knobs tests and the demo use."""

    def __init__(
        self,
        state: EmulatorState,
        server: uvicorn.Server,
        thread: threading.Thread,
        host: str,
        port: int,
    ) -> None:
        self.state = state
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port
        self.base_url = f"http://{_url_host(host)}:{port}"

    @property
    def token(self) -> str | None:
        """The only accepted bearer token, or None when any non-empty token works."""
        return self.state.token

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (Authorization header removed), oldest first."""
        return self.state.requests.list()

    def clear_requests(self) -> None:
        """Forget the recorded requests, and the answers counted per request
        (the next answer to any request is its first again)."""
        self.state.requests.clear()
        self.state.attempts.clear()

    def inject(self, fault: Fault) -> None:
        """Queue a fault; see the package docstring for the kinds."""
        self.state.faults.add(fault)

    def clear_faults(self) -> None:
        """Remove every queued fault."""
        self.state.faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The faults still queued."""
        return self.state.faults.list()

    def set_delay(self, seconds: float) -> None:
        """Seconds between streamed pieces, from the next piece on."""
        self.state.delay = max(0.0, float(seconds))

    def set_answer_words(self, words: int | None) -> None:
        """Make every answer exactly ``words`` words long (benchmarks); None: the persona's."""
        if words is not None and words < 1:
            raise ValueError("answer_words must be >= 1 or None")
        self.state.answer_words = words

    def set_answer_shape(self, shape: str) -> None:
        """Lay out answers of ``answer_words`` as ``shape`` (benchmarks; ``answers.SHAPES``)."""
        if shape not in SHAPES:
            raise ValueError(f"answer_shape must be one of {', '.join(SHAPES)}")
        self.state.answer_shape = shape

    @property
    def streams(self) -> list[StreamRecord]:
        """Every streamed answer so far with its send times (see ``streams``), oldest first."""
        return self.state.streams.list()

    def clear_streams(self) -> None:
        """Forget the stream records."""
        self.state.streams.clear()

    @property
    def inflight(self) -> tuple[int, int]:
        """(chat requests in flight now, the most at once since the last reset)."""
        return self.state.inflight.snapshot()

    def reset_inflight(self) -> None:
        """Count the most chats at once afresh (from those in flight now)."""
        self.state.inflight.reset()

    def usage(
        self, user_id: int = ALL_USERS, start: date | None = None, end: date | None = None
    ) -> dict[str, Any]:
        """The statistics body the endpoint would return (start/end default to today, UTC)."""
        today = usage_day()
        return self.state.ledger.statistics(user_id, start or today, end or today)

    @property
    def running(self) -> bool:
        """Whether the server thread is still alive."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Shut the server down and wait for its thread (idempotent)."""
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmulatorHandle(base_url={self.base_url!r}, running={self.running})"


def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    delay: float = DEFAULT_DELAY,
    token: str | None = None,
    history_days: int = 90,
    answer_words: int | None = None,
    control_secret: str | None = None,
    seed_users: Sequence[int] = SEED_USERS,
) -> EmulatorHandle:
    """Start an emulator in a daemon thread; returns once it accepts connections.

    ``seed_users``: the user ids given ``history_days`` of usage history (see
    ``ledger``); any other user id starts with none.

    ``port=0`` picks a free port (read it from ``handle.port`` / ``handle.base_url``).
    ``control_secret``: required in the ``X-Emulator-Secret`` header by the
    ``/_emulator/*`` routes (None: loopback clients need none, as for tests).
    """
    state = EmulatorState(
        token=token,
        delay=delay,
        ledger=Ledger(history_days, seed_users=seed_users),
        answer_words=answer_words,
        control_secret=control_secret,
    )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    actual_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(state, host, actual_port))
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"ablt-emulator-{actual_port}",
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the aBLT emulator did not start on {host}:{actual_port}")
        time.sleep(0.01)
    return EmulatorHandle(state, server, thread, host, actual_port)


def run_forever(
    host: str,
    port: int,
    delay: float,
    token: str | None,
    history_days: int = 90,
    answer_words: int | None = None,
) -> None:
    """Serve in the foreground until interrupted (the CLI)."""
    state = EmulatorState(
        token=token, delay=delay, ledger=Ledger(history_days), answer_words=answer_words
    )
    uvicorn.Server(_config(state, host, port)).run()
