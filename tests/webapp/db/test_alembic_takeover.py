"""Alembic takes over databases made before it, on SQLite and PostgreSQL (issue 25).

The legacy databases in `legacy/` were made by main before the move (schema
version 12, our own `schema_version` table); see legacy/README.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pg import fresh_schema_url
from webapp.conversations.store import ConversationStore
from webapp.db import migrations
from webapp.db.migrations import LATEST_VERSION, revision_id

LEGACY = Path(__file__).parent / "legacy"
PROJECT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Who:
    username: str
    user_id: int


ALICE, BOB = Who("alice", 1), Who("bob", 2)


def copy_of_legacy_sqlite(tmp_path: Path) -> str:
    target = tmp_path / "copy.sqlite"
    shutil.copyfile(LEGACY / "main-v12.sqlite", target)
    return f"sqlite:///{target}"


def load_legacy_postgres(url: str) -> None:
    """Replay the legacy dump into the fresh schema that `url` selects."""
    schema_name = sa.make_url(url).query["options"].split("=", 1)[1]
    sql = (LEGACY / "main-v12.pg.sql").read_text(encoding="utf-8")
    sql = sql.replace("CREATE SCHEMA legacy_main;", "").replace("legacy_main.", f"{schema_name}.")
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def versions(url: str) -> tuple[str | None, list[int]]:
    """(Alembic's revision, the `schema_version` rows) of the database at `url`."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        alembic = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        legacy = conn.exec_driver_sql("SELECT version FROM schema_version").scalars().all()
    engine.dispose()
    return alembic, sorted(legacy)


def assert_opens_with_its_data(url: str) -> None:
    with ConversationStore(url) as store:
        mine = store.list_conversations(ALICE)
        assert len(mine) == 3
        assert len(store.list_conversations(BOB)) == 2
        texts = [m.text for c in mine for m in store.all_messages(ALICE, c.id)]
        assert "alice question 0: naïve café ✓" in texts
        assert "Answer 2 with **Markdown** and `code`" in texts
        # New writes work on old rows.
        assert store.append_message(ALICE, mine[0].id, "user", "after the upgrade").seq == 2


def test_a_sqlite_database_made_before_alembic_continues_from_its_version(
    tmp_path: Path,
) -> None:
    url = copy_of_legacy_sqlite(tmp_path)
    assert_opens_with_its_data(url)
    alembic, legacy = versions(url)
    assert alembic == revision_id(LATEST_VERSION)
    # An app from before the move still sees how new this database is, and refuses it.
    assert legacy == list(range(1, LATEST_VERSION + 1))


@pytest.mark.postgres
def test_a_postgres_database_made_before_alembic_continues_from_its_version() -> None:
    with fresh_schema_url("legacy") as url:
        load_legacy_postgres(url)
        assert_opens_with_its_data(url)
        alembic, legacy = versions(url)
        assert alembic == revision_id(LATEST_VERSION)
        assert legacy == list(range(1, LATEST_VERSION + 1))


def test_a_revision_alembic_does_not_know_is_refused(tmp_path: Path) -> None:
    url = copy_of_legacy_sqlite(tmp_path)
    ConversationStore(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00dcafe'")
    engine.dispose()
    with pytest.raises(RuntimeError, match="unknown to this app"):
        ConversationStore(url)


def test_the_revisions_form_one_numbered_line() -> None:
    """Revision N is the file NNNN_*.py and follows N-1: no gaps, no branches."""
    files = sorted((migrations.REVISIONS_DIR / "versions").glob("[0-9]*.py"))
    assert [int(f.name[:4]) for f in files] == list(range(1, LATEST_VERSION + 1))


def run_db_command(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ABLT_DB_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "webapp.db", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_upgrade_and_current_by_hand(tmp_path: Path) -> None:
    url = copy_of_legacy_sqlite(tmp_path)
    before = run_db_command("current", url=url)
    assert before.returncode == 0, before.stderr
    assert "Schema version 12" in before.stdout
    done = run_db_command("upgrade", url=url)
    assert done.returncode == 0, done.stderr
    assert f"-> {LATEST_VERSION}" in done.stdout
    after = run_db_command("current", url=url)
    assert f"Schema version {LATEST_VERSION} (current)" in after.stdout
    assert run_db_command("sideways", url=url).returncode == 2
