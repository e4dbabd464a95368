"""PostgreSQL's LISTEN/NOTIFY: one listening connection per process.

A save that others wait for sends `notify(conn, channel, payload)` inside its
own transaction: PostgreSQL delivers it when (and only if) that transaction
commits, to every session that listens on the channel, across every app
process. `Listener` is that session for one process: a daemon thread holding
ONE psycopg connection outside the pool, which calls a handler per channel
with each notification's payload. When the connection is lost (the database
restarted, the backend was terminated) it reconnects with a growing pause and
calls `on_connect` again, since notifications sent meanwhile are lost for good.

SQLite has no such thing (`supports_notify` is False): its deployments poll.
Payloads are small (an answer's id, 36 characters; PostgreSQL allows 8,000 bytes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

# The app's channels (payload: an answer's id). A worker's save of an answer:
ANSWER_SAVED: Final = "ablt_answer_saved"
# A page on another process follows that answer (sent again while it does):
ANSWER_FOLLOWED: Final = "ablt_answer_followed"

FIRST_PAUSE: Final = 0.1  # seconds before the first reconnection attempt
MAX_PAUSE: Final = 5.0  # the pause doubles up to this after each failed attempt
POLL: Final = 0.5  # seconds the thread waits for a notification before it looks at `close`
PING_EVERY: Final = 15.0  # seconds between checks that a silent connection is alive
# TCP keepalives, so a database host gone without a word is noticed in about a minute.
KEEPALIVES: Final = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def supports_notify(engine: Engine) -> bool:
    """True on PostgreSQL (LISTEN/NOTIFY); False on SQLite."""
    return engine.dialect.name == "postgresql"


def notify(conn: Connection, channel: str, payload: str) -> None:
    """Queue a notification on `conn`'s transaction (sent when it commits).

    PostgreSQL only (`supports_notify`); `pg_notify` takes the channel as a
    value, so any channel name is safe to pass."""
    conn.execute(sa.select(sa.func.pg_notify(channel, payload)))


class Listener:
    """A daemon thread listening on `handlers`' channels on one connection.

    `handlers`: channel -> function called with each payload (on the listener's
    thread: keep it short; an exception is logged, the listening goes on).
    `on_connect`: called after each (re)connection, once LISTEN is in force
    (the first included), so waiters re-read what they may have missed.
    `connections` counts the connections made; `backend_pid` is the current
    session's server process id (None while disconnected). Raises nothing:
    an unreachable database is retried until `close`.
    """

    def __init__(
        self,
        engine: Engine,
        handlers: Mapping[str, Callable[[str], None]],
        *,
        on_connect: Callable[[], None] | None = None,
        name: str = "ablt-listen",
    ) -> None:
        if not supports_notify(engine):
            raise ValueError("LISTEN/NOTIFY needs PostgreSQL.")
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        self._args: list[Any] = list(args)
        self._kwargs: dict[str, Any] = {**KEEPALIVES, **kwargs}
        self._handlers = dict(handlers)
        self._on_connect = on_connect
        self._closed = threading.Event()
        self.connected = threading.Event()
        self.connections = 0
        self.backend_pid: int | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def close(self, timeout: float = 2 * POLL + 1.0) -> None:
        """Stop listening (the thread ends within about `POLL` seconds)."""
        self._closed.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        import psycopg  # PostgreSQL deployments only
        from psycopg import sql

        pause = FIRST_PAUSE
        while not self._closed.is_set():
            try:
                with psycopg.connect(*self._args, autocommit=True, **self._kwargs) as conn:
                    for channel in self._handlers:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.backend_pid = conn.info.backend_pid
                    self.connections += 1
                    pause = FIRST_PAUSE
                    self.connected.set()
                    self._call(self._on_connect)
                    self._listen(conn)
            except psycopg.Error as err:
                if not self._closed.is_set():
                    log.warning("Listening for saved answers failed (%s); reconnecting", err)
            finally:
                self.connected.clear()
                self.backend_pid = None
            self._closed.wait(pause)
            pause = min(pause * 2, MAX_PAUSE)

    def _listen(self, conn: Any) -> None:
        pinged = time.monotonic()
        while not self._closed.is_set():
            for note in conn.notifies(timeout=POLL):
                handler = self._handlers.get(note.channel)
                if handler is not None:
                    self._call(handler, note.payload)
            if time.monotonic() - pinged > PING_EVERY:
                conn.execute("SELECT 1")  # raises when the session is gone
                pinged = time.monotonic()

    @staticmethod
    def _call(fn: Callable[..., None] | None, *args: str) -> None:
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:  # a handler's bug must not end the listening
            log.exception("A notification handler failed")
