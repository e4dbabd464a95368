"""The conversation store on a real SQLite file and, when configured, PostgreSQL:
the basics (files, URLs, conversations, listing, search) and messages (order,
streaming, settling, paging). Fixtures: `store_helpers`; the rest of the
store's tests: test_store_access (edits, ownership), test_store_transfer
(export, import), test_store_schema (migrations, several processes).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from webapp.conversations.store import (
    ConversationStore,
    db_url_from_env,
)
from webapp.db import schema

from .store_helpers import OPTIONS, Clock, Member, chat, sqlite_url

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
    message_query, params = next(
        (s, p) for s, p in seen if "FROM messages" in s and "count(" not in s
    )
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
