# ruff: noqa: F811  (the store fixtures are imported from the conversations conftest)
"""Writing an import: each conversation whole or not at all, never over an
existing one, its progress in the database, and "Remove this import"."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.webapp.conversations.conftest import ann, bob, clock, db_url, store  # noqa: F401
from tests.webapp.conversations.store_helpers import Clock, Member, chat
from webapp.conversations.store import ConversationStore
from webapp.db.schema import conversations, message_versions, messages
from webapp.imports.reader import read_upload
from webapp.imports.writer import (
    DONE,
    REMOVED,
    ImportNotRemovable,
    ImportStore,
    run_import,
)

FIXTURES = Path(__file__).parent / "fixtures"


def imported(store: ConversationStore, owner: Member, name: str = "chatgpt_conversations.json"):  # type: ignore[no-untyped-def]
    plan = read_upload(name, (FIXTURES / name).read_bytes())
    imports = ImportStore(store)
    record = imports.begin(owner, name, plan, "omni")
    return imports, run_import(imports, owner, record, plan, bot_slug="omni", bot_name="Omni")


def count(store: ConversationStore, table: sa.Table) -> int:
    with store.transaction() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def test_an_import_writes_each_conversation_with_its_versions_bot_and_origin(
    store: ConversationStore, ann: Member
) -> None:
    _, record = imported(store, ann)
    assert (record.status, record.total, record.written, record.failed) == (DONE, 2, 2, 0)
    assert record.messages == 13
    assert record.sources == ("chatgpt",)
    listed = {c.title: c for c in store.list_conversations(ann)}
    rome = listed["Trip to Rome"]
    assert (rome.bot_slug, rome.bot_name) == ("omni", "Omni")
    assert (rome.import_id, rome.import_source, rome.original_model) == (
        record.id,
        "chatgpt",
        "gpt-4o",
    )
    assert rome.imported_at is not None
    shown = store.all_messages(ann, rome.id)
    assert [m.text for m in shown][1] == "Start at the Colosseum."
    assert shown[0].created_at.year == 2024  # the file's times, not the import's
    versions = store.versions(ann, rome.id, shown)
    assert versions[shown[1].id].label == "2/2"  # the regenerated answer, shown last
    assert versions[shown[2].id].count == 2  # the edited prompt beside it
    assert count(store, message_versions) == 3
    # The versions work as the app's own: > on the edited prompt (1/2) shows the
    # other branch, its answer with it; and back.
    prompt = versions[shown[2].id]
    store.switch_version(ann, rome.id, shown[2].id, prompt.step(1) or "")
    other = store.all_messages(ann, rome.id)
    assert [m.text for m in other[2:]] == ["And in the evening?", "Trastevere for dinner."]
    back = store.versions(ann, rome.id, other)[other[2].id]
    store.switch_version(ann, rome.id, other[2].id, back.step(-1) or "")
    assert [m.text for m in store.all_messages(ann, rome.id)] == [m.text for m in shown]


def test_an_import_never_overwrites_a_conversation(store: ConversationStore, ann: Member) -> None:
    mine = chat(store, ann, "Keep me", "Kept")
    imported(store, ann)
    imported(store, ann)  # the same file again: two more, side by side
    titles = [c.title for c in store.list_conversations(ann)]
    assert titles.count("Trip to Rome") == 2
    assert [m.text for m in store.all_messages(ann, mine)] == ["Keep me", "Kept"]


def test_a_conversation_the_database_refuses_leaves_nothing_and_the_rest_is_written(
    store: ConversationStore, ann: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = store._branches.insert_imported
    calls = []

    def fail_first(conn, conversation_id, path_ids, versions):  # type: ignore[no-untyped-def]
        calls.append(conversation_id)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        original(conn, conversation_id, path_ids, versions)

    monkeypatch.setattr(store._branches, "insert_imported", fail_first)
    _, record = imported(store, ann)
    assert (record.written, record.failed) == (1, 1)
    assert [c.title for c in store.list_conversations(ann)] == ["Quick question"]
    assert count(store, messages) == 2  # the refused conversation left no message behind


def test_remove_this_import_undoes_it_in_one_step_for_a_day(
    store: ConversationStore, ann: Member, bob: Member, clock: Clock
) -> None:
    mine = chat(store, ann, "Keep me")
    imports, record = imported(store, ann)
    with pytest.raises(LookupError):
        imports.remove(bob, record.id)  # someone else's import is not theirs to remove
    assert imports.remove(ann, record.id) == 2
    assert [c.id for c in store.list_conversations(ann)] == [mine]
    assert count(store, message_versions) == 0
    assert imports.get(ann, record.id).status == REMOVED
    with pytest.raises(ImportNotRemovable):
        imports.remove(ann, record.id)
    _, later = imported(store, ann)
    clock.advance(hours=25)
    assert not imports.get(ann, later.id).can_remove(store.now())
    with pytest.raises(ImportNotRemovable):
        imports.remove(ann, later.id)
    with store.transaction() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).where(conversations.c.import_id == later.id)
        ).scalar()
    assert left == 2


def test_a_run_whose_worker_stopped_reads_as_interrupted_and_can_be_removed(
    store: ConversationStore, ann: Member, clock: Clock
) -> None:
    plan = read_upload("x.json", (FIXTURES / "openwebui_export.json").read_bytes())
    imports = ImportStore(store)
    record = imports.begin(ann, "x.json", plan, "omni")
    assert imports.get(ann, record.id).is_running(store.now())
    with pytest.raises(ImportNotRemovable):
        imports.remove(ann, record.id)
    clock.advance(minutes=5)  # the process died: no heartbeat since
    assert imports.get(ann, record.id).shown_status(store.now()) == "interrupted"
    assert imports.remove(ann, record.id) == 0
