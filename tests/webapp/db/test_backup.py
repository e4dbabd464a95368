"""Backups and restores as docs/deploy.md tells them (issue 25): SQLite's online
backup while the app writes, and pg_dump / pg_restore for PostgreSQL. A
restored database opens every conversation the original had."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pg import fresh_schema_url
from webapp.conversations.store import ConversationStore
from webapp.db.backup import BackupError, backup_sqlite


@dataclass(frozen=True)
class Who:
    username: str
    user_id: int


ANN = Who("ann", 7)


def fill(store: ConversationStore, count: int) -> dict[str, list[str]]:
    """`count` conversations of two messages; returns {id: [texts]}."""
    made: dict[str, list[str]] = {}
    for n in range(count):
        conv = store.create_conversation(ANN, "gpt-4", "GPT-4")
        texts = [f"Question {n} — ünïcode ✓", f"Answer {n}\n\n```py\nprint({n})\n```"]
        store.append_message(ANN, conv.id, "user", texts[0])
        store.append_message(ANN, conv.id, "assistant", texts[1])
        made[conv.id] = texts
    return made


def read_all(url: str) -> dict[str, list[str]]:
    with ConversationStore(url) as store:
        return {
            c.id: [m.text for m in store.all_messages(ANN, c.id)]
            for c in store.list_conversations(ANN, limit=1000)
        }


def test_a_sqlite_backup_taken_while_the_app_writes_restores_every_conversation(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with ConversationStore(url) as store:
        made = fill(store, 40)
        stop = threading.Event()

        def keep_writing() -> None:  # another member chatting meanwhile
            conv = store.create_conversation(Who("bob", 8), "gpt-4", "GPT-4")
            while not stop.is_set():
                store.append_message(Who("bob", 8), conv.id, "user", "still typing")

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            size = backup_sqlite(url, tmp_path / "backup" / "copy.db")
        finally:
            stop.set()
            writer.join()
    assert size > 0
    restored = tmp_path / "restored.db"  # restore = the copy put in place of the file
    shutil.copyfile(tmp_path / "backup" / "copy.db", restored)
    assert read_all(f"sqlite:///{restored}") == made


def test_a_backup_never_overwrites_and_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    ConversationStore(url).close()
    (tmp_path / "exists.db").write_bytes(b"keep me")
    with pytest.raises(BackupError, match="exists already"):
        backup_sqlite(url, tmp_path / "exists.db")
    assert (tmp_path / "exists.db").read_bytes() == b"keep me"
    with pytest.raises(BackupError, match="pg_dump"):
        backup_sqlite("postgresql+psycopg://u:p@localhost/db", tmp_path / "x.db")
    with pytest.raises(BackupError, match="no database file"):
        backup_sqlite(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "y.db")


def libpq_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = sa.make_url(url)
    args = ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
    args += ["-U", parsed.username or "postgres", "-d", parsed.database or ""]
    return args, {**os.environ, "PGPASSWORD": parsed.password or ""}


@pytest.mark.postgres
def test_pg_dump_then_pg_restore_brings_back_every_conversation(tmp_path: Path) -> None:
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore are not installed")
    with fresh_schema_url("backup") as url:
        with ConversationStore(url) as store:
            made = fill(store, 25)
        schema_name = sa.make_url(url).query["options"].split("=", 1)[1]
        args, env = libpq_args(url)
        dump = tmp_path / "ablt.dump"
        subprocess.run(
            ["pg_dump", *args, "--format=custom", f"--schema={schema_name}", "-f", str(dump)],
            env=env,
            check=True,
            timeout=120,
        )
        # The disaster: the schema and everything in it gone.
        engine = sa.create_engine(url, poolclass=sa.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema_name}" CASCADE')
        engine.dispose()
        subprocess.run(
            ["pg_restore", *args, "--no-owner", "--exit-on-error", str(dump)],
            env=env,
            check=True,
            timeout=120,
        )
        assert read_all(url) == made
