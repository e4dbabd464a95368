"""The conversation store's schema and processes: old files upgraded in place,
each migration step on each backend, a newer database refused, several stores
and threads on one database."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from webapp.conversations.store import (
    LATEST_VERSION,
    ConversationNotFound,
    ConversationStore,
)
from webapp.db import migrations, schema

from .store_helpers import OPTIONS, REPO, Member, chat, schema_version, sqlite_url

# ------------------------------------------------- schema and processes


V1_SQLITE = [
    "CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY,"
    " applied_at DATETIME NOT NULL)",
    """CREATE TABLE conversations (
        id VARCHAR(36) NOT NULL PRIMARY KEY, owner VARCHAR(128) NOT NULL,
        owner_user_id INTEGER NOT NULL, bot_slug VARCHAR(200) NOT NULL,
        bot_name VARCHAR(200) NOT NULL, title VARCHAR(200) NOT NULL, options TEXT NOT NULL,
        created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)""",
    "CREATE INDEX ix_conversations_owner_updated ON conversations (owner, updated_at)",
    """CREATE TABLE messages (
        id VARCHAR(36) NOT NULL PRIMARY KEY,
        conversation_id VARCHAR(36) NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL, role VARCHAR(16) NOT NULL, text TEXT NOT NULL,
        status VARCHAR(16) NOT NULL, error TEXT, created_at DATETIME NOT NULL,
        CONSTRAINT uq_messages_conversation_seq UNIQUE (conversation_id, seq))""",
    "INSERT INTO schema_version VALUES (1, '2024-05-01 09:00:00.000000')",
    """INSERT INTO conversations VALUES ('c-1', 'ann', 101, 'travel-guide', 'Travel Guide',
        'Rome in May', '{"language": "English", "max_words": 300, "use_search": true,
        "system_instruction": "Be brief."}', '2024-05-01 09:00:00.000000',
        '2024-05-01 09:05:00.000000')""",
    """INSERT INTO messages VALUES ('m-1', 'c-1', 0, 'user', 'Plan three days in Rome',
        'complete', NULL, '2024-05-01 09:00:00.000000')""",
    """INSERT INTO messages VALUES ('m-2', 'c-1', 1, 'assistant', 'Day one: the Forum',
        'streaming', NULL, '2024-05-01 09:00:05.000000')""",
]


def test_a_version_1_sqlite_file_is_upgraded_in_place(
    tmp_path: Path, ann: Member, bob: Member
) -> None:
    """A database written by the first release (its literal DDL) opens, keeps
    its data, and gains pinning and stream-liveness tracking."""
    url = sqlite_url(tmp_path)
    (tmp_path / "data").mkdir()
    old = sa.create_engine(url)
    with old.begin() as conn:
        for statement in V1_SQLITE:
            conn.exec_driver_sql(statement)
    old.dispose()

    with ConversationStore(url) as store:
        assert schema_version(store) == LATEST_VERSION
        conv = store.get_conversation(ann, "c-1")
        assert (conv.title, conv.bot_name, conv.pinned) == ("Rome in May", "Travel Guide", False)
        assert conv.options == OPTIONS
        assert conv.updated_at.isoformat() == "2024-05-01T09:05:00+00:00"
        msgs = store.all_messages(ann, "c-1")
        assert [(m.text, m.status) for m in msgs] == [
            ("Plan three days in Rome", "complete"),
            ("Day one: the Forum", "streaming"),
        ]
        assert msgs[1].updated_at == msgs[1].created_at
        # New features work on old rows; ownership still holds.
        assert store.settle_stale(ann, "c-1", timedelta(minutes=1)) == 1
        assert store.set_pinned(ann, "c-1", True).pinned
        assert store.append_message(ann, "c-1", "user", "And day two?").seq == 2
        assert [c.id for c in store.list_conversations(ann, query="forum")] == ["c-1"]
        with pytest.raises(ConversationNotFound):
            store.get_conversation(bob, "c-1")

    with ConversationStore(url) as reopened, reopened.engine.connect() as conn:
        versions = conn.execute(sa.select(schema.schema_version.c.version)).scalars().all()
        assert sorted(versions) == list(range(1, LATEST_VERSION + 1))


def test_each_migration_step_upgrades_on_every_backend(db_url: str, ann: Member) -> None:
    """Build v1 with the migration code itself, add rows, then open the store."""
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        migrations.upgrade(conn, target=1)
        conn.exec_driver_sql(
            "INSERT INTO conversations VALUES ('c-1', 'ann', 101, 'b', 'B', 'Old', '{}', "
            "'2024-05-01 09:00:00', '2024-05-01 09:00:00')"
        )
    engine.dispose()
    with ConversationStore(db_url) as store:
        assert schema_version(store) == LATEST_VERSION
        assert store.get_conversation(ann, "c-1").title == "Old"
        assert store.set_pinned(ann, "c-1", True).pinned


def test_a_database_newer_than_the_code_is_refused(db_url: str) -> None:
    ConversationStore(db_url).close()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO schema_version VALUES (99, '2030-01-01 00:00:00')")
    engine.dispose()
    with pytest.raises(RuntimeError, match="newer than this app"):
        ConversationStore(db_url)


def test_stores_opening_a_new_database_at_once_migrate_it_once(db_url: str) -> None:
    count = 4
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []
    stores: list[ConversationStore] = []

    def open_store() -> None:
        barrier.wait()
        try:
            stores.append(ConversationStore(db_url))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=open_store) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert errors == []
    with ConversationStore(db_url) as store, store.engine.connect() as conn:
        versions = conn.execute(sa.select(schema.schema_version.c.version)).scalars().all()
    assert sorted(versions) == list(range(1, LATEST_VERSION + 1))


def test_two_stores_on_one_database_see_each_others_writes(
    db_url: str, ann: Member, bob: Member
) -> None:
    with ConversationStore(db_url) as one, ConversationStore(db_url) as two:
        cid = chat(one, ann, "written by process one")
        assert [c.id for c in two.list_conversations(ann)] == [cid]
        two.append_message(ann, cid, "assistant", "answered by process two")
        assert [m.text for m in one.all_messages(ann, cid)] == [
            "written by process one",
            "answered by process two",
        ]
        with pytest.raises(ConversationNotFound):
            two.get_conversation(bob, cid)


def test_a_conversation_written_by_another_process_is_listed(db_url: str, ann: Member) -> None:
    """Two real app processes on one database, as behind a load balancer."""
    with ConversationStore(db_url) as here:
        script = (
            "import sys\n"
            "from collections import namedtuple\n"
            "from webapp.conversations.store import ConversationStore\n"
            "with ConversationStore(sys.argv[1]) as s:\n"
            "    m = namedtuple('Member', 'username user_id')('ann', 101)\n"
            "    c = s.create_conversation(m, 'helper', 'Helper')\n"
            "    s.append_message(m, c.id, 'user', 'from the other process')\n"
            "    print(c.id)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script, db_url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        cid = done.stdout.strip()
        listed = here.list_conversations(ann)
        assert [c.id for c in listed] == [cid]
        assert listed[0].title == "from the other process"


def test_appends_from_many_threads_get_distinct_sequence_numbers(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                store.append_message(ann, cid, "user", f"{n}-{i}")
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [m.seq for m in store.all_messages(ann, cid)] == list(range(40))
