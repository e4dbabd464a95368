"""Answer versions and branching edits.

`webapp.chat.versions` and `webapp.conversations.store.branches`.

On a real SQLite file and, when `ABLT_TEST_PG_URL` is set, a fresh PostgreSQL
schema (`tests.pg`). The context is read the way the answer worker reads it
(`chat.context_before`), so "the version shown is the one sent" is checked
on the request's own `messages`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from tests.pg import BACKENDS, db_url_on
from webapp.chat import changes, versions
from webapp.chat import open_chat as chat
from webapp.conversations.context import ContextLimits, ConversationImportError
from webapp.conversations.store import (
    LATEST_VERSION,
    BranchBusy,
    ConversationNotFound,
    ConversationStore,
    VersionNotFound,
)
from webapp.db import migrations, schema

NO_CAP = ContextLimits(max_messages=None, max_words=None)


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


ANN = Member("ann", 101)
BOB = Member("bob", 102)


class Clock:
    """Moves one second per reading, so versions have distinct times."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with db_url_on(request.param, tmp_path, "ver") as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[ConversationStore]:
    with ConversationStore(db_url, clock=Clock()) as opened:
        yield opened


def seeded(store: ConversationStore, *texts: str) -> chat.OpenChat:
    """A conversation: the welcome, then prompts and answers alternating."""
    conv = store.create_conversation(ANN, "omni", "Omni")
    store.append_message(ANN, conv.id, "assistant", "welcome")
    for i, text in enumerate(texts):
        store.append_message(ANN, conv.id, "user" if i % 2 == 0 else "assistant", text)
    return chat.open_conversation(store, ANN, conv.id)


def answer(store: ConversationStore, opened: chat.OpenChat, text: str) -> None:
    """What the answer worker does for the prompt awaiting an answer."""
    assert chat.awaiting_answer(opened)
    store.append_message(ANN, opened.id, "assistant", text)
    chat.refresh(store, ANN, opened)


def texts(opened: chat.OpenChat) -> list[str]:
    return [m.text for m in opened.messages]


def kept_versions(store: ConversationStore, conversation_id: str) -> int:
    """How many messages the conversation keeps off its shown path."""
    versions_table = schema.message_versions
    with store.transaction() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(versions_table)
                .where(versions_table.c.conversation_id == conversation_id)
            ).scalar_one()
        )


def labels(store: ConversationStore, opened: chat.OpenChat) -> dict[str, str]:
    """shown text -> "2/3", for the shown messages that have versions."""
    found = versions.versions_of(store, ANN, opened)
    return {m.text: found[m.id].label for m in opened.messages if m.id in found}


def sent_context(store: ConversationStore, opened: chat.OpenChat, prompt: str = "") -> list[str]:
    """The `messages` contents the request for the awaited answer carries, or
    (with `prompt`) would carry if `prompt` were sent now (then taken back)."""
    extra = store.append_message(ANN, opened.id, "user", prompt) if prompt else None
    window = chat.context_before(store, ANN, opened.conversation, NO_CAP)
    if extra is not None:
        store.delete_messages_from(ANN, opened.id, extra.seq)
    return [m["content"] for m in window.messages]


def test_regenerate_twice_keeps_three_versions_and_the_shown_one_is_the_context(
    store: ConversationStore,
) -> None:
    opened = seeded(store, "Name a colour", "red")
    for again in ("green", "blue"):
        changes.prepare_regenerate(store, ANN, opened)
        answer(store, opened, again)
    assert texts(opened) == ["welcome", "Name a colour", "blue"]
    assert labels(store, opened) == {"blue": "3/3"}

    assert versions.switch(store, ANN, opened, opened.messages[-1].id, -1)
    assert texts(opened) == ["welcome", "Name a colour", "green"]
    assert labels(store, opened) == {"green": "2/3"}
    assert sent_context(store, opened, "Why?") == ["welcome", "Name a colour", "green", "Why?"]
    assert versions.switch(store, ANN, opened, opened.messages[-1].id, -1)
    assert labels(store, opened) == {"red": "1/3"}
    assert not versions.switch(store, ANN, opened, opened.messages[-1].id, -1)  # the first

    # Saved: a reopen (a reload, another process) shows the same version.
    again = chat.open_conversation(store, ANN, opened.id)
    assert texts(again) == ["welcome", "Name a colour", "red"]
    # Exports carry the shown path only.
    exported = json.loads(store.export_json(ANN, opened.id))
    assert [m["text"] for m in exported["messages"]] == texts(again)
    markdown = store.export_markdown(ANN, opened.id)
    assert "red" in markdown and "green" not in markdown and "blue" not in markdown


def test_editing_an_earlier_prompt_starts_a_branch_and_keeps_the_old_one(
    store: ConversationStore,
) -> None:
    opened = seeded(store, "Plan Rome", "Day one: the Forum", "And day two?", "The Vatican")
    first_prompt = opened.messages[1]
    versions.edit_prompt(store, ANN, opened, first_prompt.id, "  Plan Paris  ")
    assert texts(opened) == ["welcome", "Plan Paris"]
    assert chat.awaiting_answer(opened)
    assert sent_context(store, opened) == ["welcome", "Plan Paris"]
    answer(store, opened, "Day one: the Louvre")
    assert labels(store, opened) == {"Plan Paris": "2/2"}

    # The old branch is whole behind the switch on that prompt, and back again.
    versions.switch(store, ANN, opened, opened.messages[1].id, -1)
    assert texts(opened) == [
        "welcome",
        "Plan Rome",
        "Day one: the Forum",
        "And day two?",
        "The Vatican",
    ]
    assert labels(store, opened) == {"Plan Rome": "1/2"}
    assert sent_context(store, opened, "Day three?")[-2:] == ["The Vatican", "Day three?"]
    versions.switch(store, ANN, opened, opened.messages[1].id, +1)
    assert texts(opened) == ["welcome", "Plan Paris", "Day one: the Louvre"]


def test_a_branch_comes_back_with_the_versions_that_were_shown_in_it(
    store: ConversationStore,
) -> None:
    opened = seeded(store, "Q1", "A1 first")
    changes.prepare_regenerate(store, ANN, opened)
    answer(store, opened, "A1 second")
    versions.switch(store, ANN, opened, opened.messages[-1].id, -1)  # back to "A1 first"
    store.append_message(ANN, opened.id, "user", "Q2")
    chat.refresh(store, ANN, opened)
    answer(store, opened, "A2")
    versions.edit_prompt(store, ANN, opened, opened.messages[3].id, "Q2 edited")
    answer(store, opened, "A2 edited")
    versions.edit_prompt(store, ANN, opened, opened.messages[1].id, "Q1 edited")
    answer(store, opened, "A1 edited")
    assert texts(opened) == ["welcome", "Q1 edited", "A1 edited"]

    versions.switch(store, ANN, opened, opened.messages[1].id, -1)
    # The whole branch as last shown: the first answer, the edited second prompt.
    assert texts(opened) == ["welcome", "Q1", "A1 first", "Q2 edited", "A2 edited"]
    assert labels(store, opened) == {"Q1": "1/2", "A1 first": "1/2", "Q2 edited": "2/2"}
    # Sending now continues the shown path.
    store.append_message(ANN, opened.id, "user", "Q3")
    chat.refresh(store, ANN, opened)
    assert sent_context(store, opened) == [
        "welcome",
        "Q1",
        "A1 first",
        "Q2 edited",
        "A2 edited",
        "Q3",
    ]


def test_no_change_while_an_answer_is_being_generated(store: ConversationStore) -> None:
    opened = seeded(store, "Q1", "A1")
    changes.prepare_regenerate(store, ANN, opened)
    answer(store, opened, "A1 again")
    store.append_message(ANN, opened.id, "user", "Q2")
    streaming = store.append_message(ANN, opened.id, "assistant", "par", status="streaming")
    chat.refresh(store, ANN, opened)
    assert not versions.can_switch(opened)
    assert not versions.can_edit(opened, opened.messages[1])
    regenerated = opened.messages[2]
    older = versions.versions_of(store, ANN, opened)[regenerated.id].ids[0]
    with pytest.raises(BranchBusy):
        store.switch_version(ANN, opened.id, regenerated.id, older)
    with pytest.raises(BranchBusy):
        store.shelve_from(ANN, opened.id, 1)
    with pytest.raises(BranchBusy):  # Retry from a page drawn before the answer began
        store.delete_messages_from(ANN, opened.id, 1)
    assert store.all_messages(ANN, opened.id)[-1].id == streaming.id  # nothing moved


def test_versions_are_the_owners_only_and_go_with_the_conversation(
    store: ConversationStore,
) -> None:
    opened = seeded(store, "Q1", "A1")
    changes.prepare_regenerate(store, ANN, opened)
    answer(store, opened, "A2")
    shown = opened.messages[-1]
    older = versions.versions_of(store, ANN, opened)[shown.id].ids[0]
    with pytest.raises(ConversationNotFound):
        store.switch_version(BOB, opened.id, shown.id, older)
    with pytest.raises(ConversationNotFound):
        store.versions(BOB, opened.id, opened.messages)
    with pytest.raises(VersionNotFound):  # not a version of that message
        store.switch_version(ANN, opened.id, opened.messages[1].id, older)
    assert kept_versions(store, opened.id) == 1
    store.delete_conversation(ANN, opened.id)
    with store.transaction() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(schema.message_versions))
        assert left.scalar_one() == 0


def test_a_linear_conversation_from_before_versions_is_carried_over_unchanged(
    db_url: str,
) -> None:
    """A database at the version before this feature, with a conversation in it,
    opens unchanged (same ids, order, text) and gains versions."""
    engine = sa.create_engine(db_url)
    rows = [
        ("m-0", 0, "assistant", "Welcome!", "complete"),
        ("m-1", 1, "user", "Plan three days in Rome", "complete"),
        ("m-2", 2, "assistant", "Day one: the Forum", "complete"),
        ("m-3", 3, "user", "And day two?", "complete"),
        ("m-4", 4, "assistant", "The Vatican", "stopped"),
    ]
    with engine.begin() as conn:
        migrations.upgrade(conn, target=LATEST_VERSION - 1)
        conn.exec_driver_sql(
            "INSERT INTO conversations (id, owner, owner_user_id, bot_slug, bot_name, title, "
            "options, created_at, updated_at, pinned, kind, position) VALUES ('c-1', 'ann', "
            "101, 'omni', 'Omni', 'Rome', '{}', '2026-01-05 09:00:00', '2026-01-05 09:05:00', "
            "FALSE, 'chat', 0)"
        )
        for mid, seq, role, text, status in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO messages (id, conversation_id, seq, role, text, status, "
                    "created_at, updated_at) VALUES (:id, 'c-1', :seq, :role, :text, :status, "
                    "'2026-01-05 09:00:00', '2026-01-05 09:00:00')"
                ),
                {"id": mid, "seq": seq, "role": role, "text": text, "status": status},
            )
    engine.dispose()

    with ConversationStore(db_url, clock=Clock()) as store:
        with store.transaction() as conn:
            assert migrations.current_version(conn) == LATEST_VERSION
        opened = chat.open_conversation(store, ANN, "c-1")
        assert [(m.id, m.seq, m.role, m.text, m.status) for m in opened.messages] == [
            (mid, seq, role, text, status) for mid, seq, role, text, status in rows
        ]
        assert versions.versions_of(store, ANN, opened) == {}
        assert kept_versions(store, "c-1") == 0
        # Old rows branch like new ones.
        versions.edit_prompt(store, ANN, opened, "m-3", "And day three?")
        assert texts(opened)[-1] == "And day three?"
        versions.switch(store, ANN, opened, opened.messages[-1].id, -1)
        assert [m.id for m in opened.messages] == [r[0] for r in rows]


def test_the_json_export_carries_the_versions_and_imports_them_back(
    store: ConversationStore,
) -> None:
    opened = seeded(store, "Q1", "A1")
    changes.prepare_regenerate(store, ANN, opened)
    answer(store, opened, "A1 again")
    store.append_message(ANN, opened.id, "user", "Q2")
    chat.refresh(store, ANN, opened)
    answer(store, opened, "A2")
    versions.edit_prompt(store, ANN, opened, opened.messages[1].id, "Q1 edited")
    answer(store, opened, "A1 edited")
    versions.switch(store, ANN, opened, opened.messages[1].id, -1)
    shown = texts(opened)
    assert shown == ["welcome", "Q1", "A1 again", "Q2", "A2"]

    exported = chat.export_json(store, ANN, opened.id)
    data = json.loads(exported)
    assert [m["text"] for m in data["messages"]] == shown  # the shown path
    assert sorted(v["text"] for v in data["versions"]) == ["A1", "A1 edited", "Q1 edited"]
    # Share links (and anything else that exports) keep to the shown path.
    assert "versions" not in json.loads(store.export_json(ANN, opened.id))

    copy = chat.open_conversation(store, ANN, store.import_conversation(ANN, exported).id)
    assert texts(copy) == shown
    assert labels(store, copy) == {"Q1": "1/2", "A1 again": "2/2"}
    versions.switch(store, ANN, copy, copy.messages[1].id, +1)
    assert texts(copy) == ["welcome", "Q1 edited", "A1 edited"]
    versions.switch(store, ANN, copy, copy.messages[1].id, -1)
    versions.switch(store, ANN, copy, copy.messages[2].id, -1)
    assert texts(copy) == ["welcome", "Q1", "A1"]

    # An export from before versions imports as it always did; a broken one says why.
    del data["versions"]
    assert (
        texts(
            chat.open_conversation(store, ANN, store.import_conversation(ANN, json.dumps(data)).id)
        )
        == shown
    )
    data["versions"] = [
        {
            "key": "a",
            "parent": 1,
            "role": "assistant",
            "text": "x",
            "created_at": "2026-01-01T00:00:00Z",
        },
        {
            "key": "a",
            "parent": 1,
            "role": "assistant",
            "text": "y",
            "created_at": "2026-01-01T00:00:00Z",
        },
    ]
    with pytest.raises(ConversationImportError, match="same"):
        store.import_conversation(ANN, json.dumps(data))


def test_the_first_prompt_of_a_conversation_without_a_welcome_has_versions_too(
    store: ConversationStore,
) -> None:
    conv = store.create_conversation(ANN, "omni", "Omni")
    store.append_message(ANN, conv.id, "user", "Hi")
    store.append_message(ANN, conv.id, "assistant", "Hello")
    opened = chat.open_conversation(store, ANN, conv.id)
    versions.edit_prompt(store, ANN, opened, opened.messages[0].id, "Hey")
    answer(store, opened, "Hey yourself")
    assert labels(store, opened) == {"Hey": "2/2"}
    versions.switch(store, ANN, opened, opened.messages[0].id, -1)
    assert texts(opened) == ["Hi", "Hello"]
    assert labels(store, opened) == {"Hi": "1/2"}


def test_an_edit_the_database_refuses_changes_nothing(store: ConversationStore) -> None:
    opened = seeded(store, "Q1", "A1", "Q2", "A2")
    before = texts(opened)

    def disk_full(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO MESSAGES "):
            raise OperationalError(statement, {}, Exception("disk full"))

    sa.event.listen(store.engine, "before_cursor_execute", disk_full)
    try:
        with pytest.raises(OperationalError):
            versions.edit_prompt(store, ANN, opened, opened.messages[1].id, "Q1 edited")
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", disk_full)
    again = chat.open_conversation(store, ANN, opened.id)
    assert texts(again) == before  # the shelving was rolled back with it
    assert kept_versions(store, opened.id) == 0


def test_the_versions_shown_come_with_the_runs_read_and_are_read_again_for_other_messages(
    store: ConversationStore,
) -> None:
    """A page run's refresh reads the versions with the messages (one owner check,
    one connection); `versions_of` reads again only for messages it was not read for."""
    opened = seeded(store, "Q1", "A1 first")
    changes.prepare_regenerate(store, ANN, opened)
    answer(store, opened, "A1 second")
    chat.refresh(store, ANN, opened)
    expected = store.versions(ANN, opened.id, opened.messages)
    assert [v.count for v in expected.values()] == [2]
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        assert versions.versions_of(store, ANN, opened) == expected
        assert statements == []  # the refresh's read served
        opened.messages = opened.messages[1:]  # another window than was read
        assert versions.versions_of(store, ANN, opened) == store.versions(
            ANN, opened.id, opened.messages
        )
        assert statements
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
