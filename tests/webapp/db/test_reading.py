"""`webapp.db.engine.reading`: a read without a transaction on PostgreSQL, and
the pooled connection it used still transactional for the next writer."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pg import BACKENDS, db_url_on
from webapp.db import engine as engine_module
from webapp.db.engine import make_engine, reading, serialised_write


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_read_sees_what_was_committed_and_sends_no_commit(backend: str, tmp_path: Path) -> None:
    with db_url_on(backend, tmp_path, "reading") as url:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            commits: list[object] = []
            sa.event.listen(engine, "commit", commits.append)
            with reading(engine) as conn:
                assert conn.execute(sa.text("SELECT n FROM t")).scalars().all() == [1]
            # PostgreSQL: no transaction, so nothing to commit; SQLite: a read transaction.
            assert (commits == []) is (backend == "postgresql")
        finally:
            engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_write_after_a_read_on_the_same_connection_is_still_one_transaction(
    backend: str, tmp_path: Path
) -> None:
    with db_url_on(backend, tmp_path, "reading") as url:
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
            for _ in range(3):  # the pooled connection (one at a time) served reads
                with reading(engine) as conn:
                    conn.execute(sa.text("SELECT count(*) FROM t"))
            with pytest.raises(RuntimeError), serialised_write(engine, 42) as conn:
                conn.execute(sa.text("INSERT INTO t VALUES (2)"))
                raise RuntimeError("the writer fails half-way")
            # Rolled back whole: the read left no connection in autocommit.
            with reading(engine) as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0
        finally:
            engine.dispose()


def _backend_pid(engine: sa.Engine) -> int:
    with reading(engine) as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def test_a_pooled_connection_closed_while_idle_is_replaced_unseen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As pool_pre_ping did: a server restart closes every session; the next read works.
    with db_url_on("postgresql", tmp_path, "reading") as url:
        engine = make_engine(url)
        admin = sa.create_engine(url, poolclass=sa.NullPool)
        try:
            first = _backend_pid(engine)
            with admin.begin() as conn:
                assert conn.execute(sa.select(sa.func.pg_terminate_backend(first))).scalar()
            monkeypatch.setattr(engine_module, "PING_IDLE_AFTER", 0.0)  # idle "long enough"
            assert _backend_pid(engine) != first
        finally:
            admin.dispose()
            engine.dispose()


def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db_url_on("postgresql", tmp_path, "reading") as url:
        engine = make_engine(url)
        pings: list[object] = []
        real = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
        try:
            for _ in range(5):
                _backend_pid(engine)
            assert pings == []
            monkeypatch.setattr(engine_module, "PING_IDLE_AFTER", 0.0)
            _backend_pid(engine)
            assert len(pings) == 1
        finally:
            engine.dispose()
