"""A throwaway PostgreSQL schema for tests that also run on PostgreSQL.

CI sets `ABLT_TEST_PG_URL` (see .ci/run); without it the PostgreSQL variants
skip. Each use gets a fresh schema, selected through the connection's
`search_path`, so tests never see each other's tables; it is dropped after.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp.conversations.store import ConversationStore

PG_ENV = "ABLT_TEST_PG_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextlib.contextmanager
def fresh_schema_url(prefix: str) -> Iterator[str]:
    """A database URL whose connections use a new, empty schema (skips without PG)."""
    base = os.environ.get(PG_ENV, "").strip()
    if not base:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL variant not run")
    schema_name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, poolclass=sa.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema_name}"')
        url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema_name}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema_name}" CASCADE')
    finally:
        admin.dispose()


@contextlib.contextmanager
def db_url_on(backend: str, folder: Path, prefix: str) -> Iterator[str]:
    """The URL of an empty database of `backend` ("sqlite": a file in `folder`;
    "postgresql": a fresh schema named after `prefix`, dropped after, skipped
    without PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{prefix}.db'}"
        return
    with fresh_schema_url(prefix) as url:
        yield url


@contextlib.contextmanager
def store_on(backend: str, folder: Path, prefix: str) -> Iterator[ConversationStore]:
    """An open store on an empty database of `backend` (see `db_url_on`), closed after."""
    with db_url_on(backend, folder, prefix) as url, ConversationStore(url) as opened:
        yield opened


def backend_fixtures(prefix: str) -> tuple[object, object]:
    """`db_url` (one per backend of `BACKENDS`, see `db_url_on`) and `store` (an
    open `ConversationStore` on it) fixtures for a test module:
    `db_url, store = backend_fixtures("answers")`."""

    @pytest.fixture(params=BACKENDS)
    def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
        with db_url_on(request.param, tmp_path, prefix) as url:
            yield url

    @pytest.fixture
    def store(db_url: str) -> Iterator[ConversationStore]:
        with ConversationStore(db_url) as opened:
            yield opened

    return db_url, store
