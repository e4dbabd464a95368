"""The conversation store's fixtures, for the tests of this folder (and the
import tests, which import them by name).

`db_url` is parametrised over both backends. The PostgreSQL variant runs when
`ABLT_TEST_PG_URL` is set (CI sets it) and gives each test a fresh schema
through `search_path`, dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pg import BACKENDS, fresh_schema_url
from webapp.conversations.store import ConversationStore

from .store_helpers import Clock, Member, sqlite_url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database of each backend."""
    if request.param == "sqlite":
        (tmp_path / "data").mkdir()  # the store makes it; raw engines in tests need it too
        yield sqlite_url(tmp_path)
        return
    with fresh_schema_url("t") as url:
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2025, 3, 10, 12, 0, tzinfo=UTC))


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[ConversationStore]:
    with ConversationStore(db_url, clock=clock) as opened:
        yield opened


@pytest.fixture
def ann() -> Member:
    return Member("ann", 101)


@pytest.fixture
def bob() -> Member:
    return Member("bob", 102)
