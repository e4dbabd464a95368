"""The database engine behind the stores: where it is, and SQLite set up for
several processes on one file (WAL, a busy timeout, write transactions that
queue with `BEGIN IMMEDIATE`, a Unicode case fold for search).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webapp.db import schema

ENV_DB_URL: Final = "ABLT_DB_URL"
PROJECT_ROOT: Final = Path(__file__).resolve().parents[2]
# Anchored to the project, not the working directory, so `streamlit run` from
# another folder still finds the same history. `data/` is git-ignored.
DEFAULT_DB_URL: Final = f"sqlite:///{PROJECT_ROOT / 'data' / 'ablt-chat.db'}"
SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
# A pooled PostgreSQL connection idle this long (seconds) is pinged before use.
# One back in the pool more recently is not: under load a connection leaves the
# pool again within milliseconds, and a ping on every checkout (`pool_pre_ping`)
# was one more round trip per read, about forty per answer (bench/load.py).
PING_IDLE_AFTER: Final = 1.0
_IDLE_SINCE: Final = "ablt_idle_since"


def db_url_from_env() -> str:
    """`ABLT_DB_URL`, else the SQLite file under the project's `data/` folder."""
    return os.environ.get(ENV_DB_URL, "").strip() or DEFAULT_DB_URL


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use when it sat idle `PING_IDLE_AFTER`
    or longer (a server restart or an idle timeout may have closed it); a dead
    one is replaced, unseen by the caller, as `pool_pre_ping` does."""

    @sa.event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_IDLE_AFTER:
            return  # just made, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as err:  # the pool drops it and connects again
            raise sa.exc.DisconnectionError("the pooled connection is closed") from err


def _sqlite_fold(value: str | None) -> str | None:
    return None if value is None else unicodedata.normalize("NFKC", value).casefold()


def make_engine(url: str) -> Engine:
    """One pool per store; SQLite tuned for several processes on one file."""
    parsed = sa.make_url(url)
    # hide_parameters: a database error's message (which gets logged) never
    # quotes the statement's values, i.e. a member's prompt or answer.
    if parsed.get_backend_name() != "sqlite":
        engine = sa.create_engine(parsed, pool_size=5, max_overflow=10, hide_parameters=True)
        _ping_when_idle(engine)
        return engine

    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        parsed, connect_args={"check_same_thread": False}, hide_parameters=True
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()
        dbapi_conn.create_function(schema.SQLITE_FOLD_FUNCTION, 1, _sqlite_fold, deterministic=True)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("ablt_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _enable_wal(cursor: Any) -> None:
    """Put the SQLite file in WAL mode (it stays so: a property of the file).

    Switching a new file to WAL needs it to itself, and SQLite reports "database
    is locked" at once, without waiting out the busy timeout, when another
    connection is opening it at that moment (two processes starting together).
    So it is retried for up to the busy timeout; a file already in WAL mode is
    left alone.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def like_pattern(query: str) -> str:
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for one short read (SELECTs only, no writes, no locks).

    On PostgreSQL its statements run in autocommit: under READ COMMITTED (the
    default) each statement sees its own snapshot inside a transaction too, so
    nothing changes but the BEGIN and COMMIT round trips a read no longer sends
    (two of the four a one-query read cost; bench/load.py counted about fifty
    reads per answer). On SQLite a read stays a transaction (`BEGIN`), as before.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
            return
        with conn.begin():
            yield conn


@contextmanager
def serialised_write(engine: Engine, lock_key: int) -> Iterator[Connection]:
    """A write transaction that runs alone among those holding `lock_key`, in
    every process: SQLite's write lock (BEGIN IMMEDIATE, set up by
    `make_engine`) or a PostgreSQL transaction-scoped advisory lock on
    `lock_key` (any 64-bit integer; one per concern). Commits on leaving,
    rolls back on an exception."""
    with engine.connect() as conn:
        conn.execution_options(ablt_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key})
            yield conn


class CountedWrites:
    """Write transactions that a reader keeping what it read can notice.

    `count` grows when a write begins and again when it ends (committed or
    not), so a value read while it stood at n is still good while it stands at
    n; only writes made through `write` in this process count (another
    process's writes are the reader's time limit to cover). Used by the
    budget line's recent limit (`webapp.budgets.book`) and the groups it
    depends on (`webapp.groups.store`)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()  # `+=` from two threads could lose one

    def _tick(self) -> None:
        with self._lock:
            self.count += 1

    @contextmanager
    def write(self, engine: Engine) -> Iterator[Connection]:
        """One short write transaction (`BEGIN IMMEDIATE` on SQLite), counted."""
        self._tick()
        try:
            with engine.connect() as conn:
                conn.execution_options(ablt_write=True)
                with conn.begin():
                    yield conn
        finally:
            self._tick()
