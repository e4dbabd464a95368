"""The conversation store on a real SQLite file and, when configured, PostgreSQL.

`db_url` is parametrised over both backends. The PostgreSQL variant runs when
`ABLT_TEST_PG_URL` is set (CI sets it) and gives each test a fresh schema
through `search_path`, dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.pg import BACKENDS, fresh_schema_url
from webapp.conversations.context import ConversationImportError, ConversationOptions
from webapp.conversations.store import (
    LATEST_VERSION,
    ConversationNotFound,
    ConversationStore,
    MessageNotFound,
    db_url_from_env,
)
from webapp.db import migrations, schema

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Member:
    """Stands in for `webapp.auth.gate.Member`: the store needs only these two."""

    username: str
    user_id: int


def schema_version(store: ConversationStore) -> int:
    """The database's schema version, as the migrations read it."""
    with store.transaction() as conn:
        return migrations.current_version(conn)


class Clock:
    """A UTC clock that moves one second per reading, so order is deterministic."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'data' / 'ablt-chat.db'}"


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


OPTIONS = ConversationOptions(
    language="English", max_words=300, use_search=True, system_instruction="Be brief."
)


def chat(store: ConversationStore, owner: Member, *texts: str, bot: str = "helper") -> str:
    """A conversation with alternating user/assistant messages; returns its id."""
    conv = store.create_conversation(owner, bot, bot.title(), OPTIONS)
    for i, text in enumerate(texts):
        store.append_message(owner, conv.id, "user" if i % 2 == 0 else "assistant", text)
    return conv.id


# ------------------------------------------------------------------ basics


def test_sqlite_file_is_created_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with ConversationStore(url) as store, store.engine.connect() as conn:
        assert (tmp_path / "data" / "ablt-chat.db").is_file()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_db_url_comes_from_env_with_a_sqlite_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABLT_DB_URL", raising=False)
    default = db_url_from_env()
    assert default.startswith("sqlite:///") and default.endswith("data/ablt-chat.db")
    monkeypatch.setenv("ABLT_DB_URL", "postgresql+psycopg://u:p@db/x")
    assert db_url_from_env() == "postgresql+psycopg://u:p@db/x"


def test_repr_hides_the_password() -> None:
    store = ConversationStore.__new__(ConversationStore)
    store.url = "postgresql+psycopg://ablt:secret@db/x"
    assert "secret" not in repr(store)


def test_create_and_get_keep_bot_options_and_owner(store: ConversationStore, ann: Member) -> None:
    conv = store.create_conversation(ann, "travel-guide", "Travel Guide", OPTIONS)
    got = store.get_conversation(ann, conv.id)
    assert got == conv
    assert (got.owner, got.owner_user_id) == ("ann", 101)
    assert (got.bot_slug, got.bot_name, got.options) == ("travel-guide", "Travel Guide", OPTIONS)
    assert got.created_at.tzinfo is not None and got.updated_at == got.created_at
    assert got.pinned is False


def test_first_prompt_names_an_untitled_conversation(store: ConversationStore, ann: Member) -> None:
    conv = store.create_conversation(ann, "helper")
    assert conv.title == "New conversation"
    store.append_message(ann, conv.id, "user", "  Plan a\nthree-day trip to Rome in spring  ")
    store.append_message(ann, conv.id, "assistant", "Sure.")
    store.append_message(ann, conv.id, "user", "Something else entirely")
    assert store.get_conversation(ann, conv.id).title == "Plan a three-day trip to Rome in spring"


def test_a_given_title_is_kept(store: ConversationStore, ann: Member) -> None:
    conv = store.create_conversation(ann, "helper", title="Budget")
    store.append_message(ann, conv.id, "user", "Numbers for Q3")
    assert store.get_conversation(ann, conv.id).title == "Budget"


def test_list_is_newest_first_with_pinned_on_top(
    store: ConversationStore, ann: Member, clock: Clock
) -> None:
    first = chat(store, ann, "first")
    second = chat(store, ann, "second")
    third = chat(store, ann, "third")
    assert [c.id for c in store.list_conversations(ann)] == [third, second, first]
    store.set_pinned(ann, first, True)
    store.append_message(ann, second, "assistant", "activity moves it up")
    assert [c.id for c in store.list_conversations(ann)] == [first, second, third]
    assert [c.id for c in store.list_conversations(ann, limit=2)] == [first, second]


def test_search_matches_titles_and_message_text_case_insensitively(
    store: ConversationStore, ann: Member
) -> None:
    rome = chat(store, ann, "Trip to Rome", "Visit the COLOSSEUM early.")
    budget = store.create_conversation(ann, "helper", title="Quarterly Budget").id
    russian = chat(store, ann, "Привет, как дела?")
    percent = chat(store, ann, "Growth was 100% last year")

    def found(query: str) -> set[str]:
        return {c.id for c in store.list_conversations(ann, query=query)}

    assert found("rome") == {rome}  # title
    assert found("colosseum") == {rome}  # message text only
    assert found("QUARTERLY") == {budget}
    assert found("ПРИВЕТ") == {russian}  # Unicode case-folding on both databases
    assert found("100%") == {percent}  # wildcards are literal
    assert found("_") == set()
    assert found("nothing like this") == set()
    assert found("  ") == {rome, budget, russian, percent}


# --------------------------------------------------------------- messages


def test_messages_append_in_order_with_status_and_error(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann, "Hi")
    failed = store.append_message(ann, cid, "assistant", "", "error", error="Rate limited")
    page = store.messages(ann, cid)
    assert [(m.seq, m.role, m.status) for m in page.messages] == [
        (0, "user", "complete"),
        (1, "assistant", "error"),
    ]
    assert page.messages[1] == failed and failed.error == "Rate limited"
    assert page.total == 2 and not page.has_earlier


def test_unknown_role_or_status_is_refused(store: ConversationStore, ann: Member) -> None:
    cid = chat(store, ann)
    with pytest.raises(ValueError, match="role"):
        store.append_message(ann, cid, "robot", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        store.append_message(ann, cid, "user", "x", "done")  # type: ignore[arg-type]
    assert store.messages(ann, cid).total == 0


def test_a_streamed_answer_is_saved_as_it_grows_and_finalised(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann, "Tell me a story")
    answer = store.append_message(ann, cid, "assistant", "", "streaming")
    store.update_message(ann, answer.id, text="Once upon", status="streaming")
    mid = store.messages(ann, cid).messages[-1]
    assert (mid.text, mid.status) == ("Once upon", "streaming")
    done = store.update_message(ann, answer.id, text="Once upon a time.", status="complete")
    assert (done.text, done.status) == ("Once upon a time.", "complete")
    assert done.updated_at is not None and done.updated_at > answer.created_at
    failed = store.update_message(ann, answer.id, status="error", error="Server error")
    assert (failed.text, failed.error) == ("Once upon a time.", "Server error")


def test_reload_marks_streaming_answers_interrupted(
    store: ConversationStore, ann: Member, clock: Clock
) -> None:
    cid = chat(store, ann, "Q")
    answer = store.append_message(ann, cid, "assistant", "partial", "streaming")
    assert store.settle_stale(ann, cid, timedelta(seconds=30)) == 0
    clock.advance(seconds=60)
    assert store.settle_stale(ann, cid, timedelta(seconds=30)) == 1
    last = store.messages(ann, cid).messages[-1]
    assert (last.text, last.status) == ("partial", "interrupted")
    # A late save from the dead stream does not resurrect it; a final status does land.
    late = store.update_message(ann, answer.id, text="partial and more", status="streaming")
    assert (late.text, late.status) == ("partial", "interrupted")
    assert store.update_message(ann, answer.id, status="stopped").status == "stopped"
    assert store.settle_stale(ann, cid, timedelta(0)) == 0


def test_settling_without_idle_time_marks_every_streaming_answer(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann, "Q")
    store.append_message(ann, cid, "assistant", "just now", "streaming")
    assert store.settle_stale(ann, cid, timedelta(0)) == 1


def test_regenerate_and_edit_delete_the_tail(store: ConversationStore, ann: Member) -> None:
    cid = chat(store, ann, "Q1", "A1", "Q2", "A2")
    assert store.delete_messages_from(ann, cid, 3) == 1  # regenerate: drop the last answer
    regenerated = store.append_message(ann, cid, "assistant", "A2 again")
    assert regenerated.seq == 3
    assert store.delete_messages_from(ann, cid, 2) == 2  # edit: drop the prompt and its answer
    store.append_message(ann, cid, "user", "Q2 edited")
    assert [m.text for m in store.all_messages(ann, cid)] == ["Q1", "A1", "Q2 edited"]


def test_paging_loads_the_latest_messages_then_earlier_ones(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann, *[f"m{i}" for i in range(12)])
    page = store.messages(ann, cid, limit=5)
    assert [m.seq for m in page.messages] == [7, 8, 9, 10, 11]
    assert page.total == 12 and page.has_earlier and page.first_seq == 7
    earlier = store.messages(ann, cid, limit=5, before_seq=page.first_seq)
    assert [m.seq for m in earlier.messages] == [2, 3, 4, 5, 6]
    first = store.messages(ann, cid, limit=5, before_seq=earlier.first_seq)
    assert [m.seq for m in first.messages] == [0, 1] and not first.has_earlier
    with pytest.raises(ValueError):
        store.messages(ann, cid, limit=0)


def test_the_tail_of_5000_messages_loads_only_the_rows_shown(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann)
    base = store.get_conversation(ann, cid).created_at
    rows = [
        {
            "id": f"m-{i:05d}",
            "conversation_id": cid,
            "seq": i,
            "role": "user" if i % 2 == 0 else "assistant",
            "text": f"message {i}",
            "status": "complete",
            "error": None,
            "created_at": base,
            "updated_at": base,
        }
        for i in range(5000)
    ]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.messages), rows)

    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cur: Any, statement: str, params: Any, *_rest: Any) -> None:
        seen.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        page = store.messages(ann, cid, limit=40)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)

    assert page.total == 5000 and len(page.messages) == 40
    assert [m.seq for m in page.messages] == list(range(4960, 5000))
    # One conversation row, one count, and one message query capped at 40 rows.
    selects = [s for s, _ in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
    message_query, params = next((s, p) for s, p in seen if "FROM messages JOIN" in s)
    assert "LIMIT" in message_query.upper()
    assert 40 in (params.values() if isinstance(params, dict) else params)
    if store.engine.dialect.name == "sqlite":
        # Served from the (conversation_id, seq) index: no scan, no sort.
        with store.engine.connect() as conn:
            plan = " | ".join(
                str(row[-1])
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + message_query, params)
            )
        assert "SCAN messages" not in plan and "TEMP B-TREE" not in plan, plan
        assert "INDEX" in plan, plan


# ------------------------------------------------------ conversation edits


def test_rename_pin_and_options_are_saved(store: ConversationStore, ann: Member) -> None:
    cid = chat(store, ann, "hello")
    assert store.rename(ann, cid, "  My\nnotes ").title == "My notes"
    with pytest.raises(ValueError):
        store.rename(ann, cid, "   ")
    assert store.set_pinned(ann, cid, True).pinned is True
    new_options = ConversationOptions(language="Arabic", max_words=150)
    assert store.update_options(ann, cid, new_options).options == new_options
    reopened = store.get_conversation(ann, cid)
    assert (reopened.title, reopened.pinned, reopened.options) == ("My notes", True, new_options)


def test_delete_removes_the_conversation_and_its_messages(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann, "Q", "A")
    keep = chat(store, ann, "other")
    store.delete_conversation(ann, cid)
    with pytest.raises(ConversationNotFound):
        store.get_conversation(ann, cid)
    with store.engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).where(schema.messages.c.conversation_id == cid)
        ).scalar()
    assert left == 0
    assert [c.id for c in store.list_conversations(ann)] == [keep]
    with pytest.raises(ConversationNotFound):
        store.delete_conversation(ann, cid)


# -------------------------------------------------------------- ownership


OPERATIONS: dict[str, Callable[[ConversationStore, Member, str, str], object]] = {
    "get": lambda s, m, c, _: s.get_conversation(m, c),
    "messages": lambda s, m, c, _: s.messages(m, c, limit=10),
    "all_messages": lambda s, m, c, _: s.all_messages(m, c),
    "append": lambda s, m, c, _: s.append_message(m, c, "user", "intrusion"),
    "update_message": lambda s, m, _, mid: s.update_message(m, mid, text="x", status="complete"),
    "delete_messages_from": lambda s, m, c, _: s.delete_messages_from(m, c, 0),
    "settle_stale": lambda s, m, c, _: s.settle_stale(m, c, timedelta(0)),
    "rename": lambda s, m, c, _: s.rename(m, c, "mine now"),
    "pin": lambda s, m, c, _: s.set_pinned(m, c, True),
    "update_options": lambda s, m, c, _: s.update_options(m, c, ConversationOptions()),
    "delete": lambda s, m, c, _: s.delete_conversation(m, c),
    "export_json": lambda s, m, c, _: s.export_json(m, c),
    "export_markdown": lambda s, m, c, _: s.export_markdown(m, c),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_member_cannot_touch_another_members_conversation(
    store: ConversationStore, ann: Member, bob: Member, operation: str
) -> None:
    cid = chat(store, ann, "private question", "private answer")
    streaming = store.append_message(ann, cid, "user", "still typing", "streaming")
    before = (store.get_conversation(ann, cid), store.all_messages(ann, cid))

    with pytest.raises(ConversationNotFound) as not_yours:
        OPERATIONS[operation](store, bob, cid, streaming.id)
    with pytest.raises(ConversationNotFound) as missing:
        OPERATIONS[operation](store, bob, "no-such-id", "no-such-message")

    assert str(not_yours.value) == str(missing.value)  # ids cannot be probed
    assert (store.get_conversation(ann, cid), store.all_messages(ann, cid)) == before


def test_update_message_by_another_member_is_message_not_found(
    store: ConversationStore, ann: Member, bob: Member
) -> None:
    cid = chat(store, ann, "Q")
    msg = store.append_message(ann, cid, "assistant", "A", "streaming")
    with pytest.raises(MessageNotFound):
        store.update_message(bob, msg.id, status="complete")


def test_listing_and_search_show_only_the_members_own(
    store: ConversationStore, ann: Member, bob: Member
) -> None:
    mine = chat(store, ann, "shared word: aubergine")
    theirs = chat(store, bob, "shared word: aubergine")
    assert [c.id for c in store.list_conversations(ann)] == [mine]
    assert [c.id for c in store.list_conversations(bob, query="aubergine")] == [theirs]
    assert store.list_conversations(Member("carol", 103)) == []


def test_same_user_id_does_not_share_conversations(store: ConversationStore, ann: Member) -> None:
    """Ownership is the username; the numeric user_id only labels usage."""
    chat(store, ann, "hello")
    assert store.list_conversations(Member("impostor", ann.user_id)) == []


# ----------------------------------------------------------- export/import


def test_export_and_import_round_trip_as_a_new_conversation(
    store: ConversationStore, ann: Member, bob: Member
) -> None:
    cid = chat(store, ann, "Plan a trip", "Go to Rome")
    store.append_message(ann, cid, "user", "And food?")
    store.append_message(ann, cid, "assistant", "Pasta", "streaming")
    store.set_pinned(ann, cid, True)
    exported = store.export_json(ann, cid)

    imported = store.import_conversation(bob, exported)
    assert imported.id != cid and imported.owner == "bob" and imported.owner_user_id == 102
    original = store.get_conversation(ann, cid)
    assert (imported.title, imported.bot_slug, imported.bot_name, imported.options) == (
        original.title,
        original.bot_slug,
        original.bot_name,
        original.options,
    )
    assert imported.pinned
    msgs = store.all_messages(bob, imported.id)
    assert [(m.role, m.text) for m in msgs] == [
        ("user", "Plan a trip"),
        ("assistant", "Go to Rome"),
        ("user", "And food?"),
        ("assistant", "Pasta"),
    ]
    assert msgs[-1].status == "interrupted"  # a stream can't still be running in a file
    assert [m.created_at for m in msgs] == [m.created_at for m in store.all_messages(ann, cid)]
    # The same member importing twice gets two independent copies.
    again = store.import_conversation(ann, exported)
    assert again.id not in (cid, imported.id)
    assert len(store.list_conversations(ann)) == 2


def test_markdown_export_reads_like_a_transcript(store: ConversationStore, ann: Member) -> None:
    cid = chat(store, ann, "What is 2+2?", "4")
    text = store.export_markdown(ann, cid)
    assert text.startswith("# What is 2+2?\n")
    assert "- Bot: Helper (`helper`)" in text and "- Language: English" in text
    assert "## You ·" in text and "## Assistant ·" in text


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe not utf-8", "not UTF-8"),
        ("{oops", "not valid JSON"),
        ('{"format": "something-else", "version": 1}', "not an aBLT Chat conversation export"),
        ('{"format": "ablt-chat-conversation", "version": 9}', "version 9 is not supported"),
        (
            json.dumps(
                {
                    "format": "ablt-chat-conversation",
                    "version": 1,
                    "conversation": {
                        "title": "t",
                        "bot_slug": "b",
                        "created_at": "2025-01-01T00:00:00Z",
                    },
                    "messages": [{"role": "wizard", "text": "hi", "created_at": "2025-01-01"}],
                }
            ),
            "messages[0].role",
        ),
    ],
)
def test_a_bad_import_says_why_and_writes_nothing(
    store: ConversationStore, ann: Member, payload: str | bytes, reason: str
) -> None:
    chat(store, ann, "existing")
    with pytest.raises(ConversationImportError, match=r"(?i)" + reason.replace("[", r"\[")):
        store.import_conversation(ann, payload)
    assert len(store.list_conversations(ann)) == 1


def test_an_import_failing_in_the_database_leaves_nothing_behind(
    store: ConversationStore, ann: Member
) -> None:
    cid = chat(store, ann, "Q", "A")
    data = json.loads(store.export_json(ann, cid))
    data["messages"][1]["text"] = None  # invalid: caught by validation, before any write
    with pytest.raises(ConversationImportError):
        store.import_conversation(ann, json.dumps(data))
    assert len(store.list_conversations(ann)) == 1


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
