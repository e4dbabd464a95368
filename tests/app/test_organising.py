"""Organising conversations in the History (issue 26): folders, tags, archive,
temporary chats and Select mode's bulk actions, through app.py's real sidebar.

Demo mode against the embedded emulator; `app_store` reads the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from webapp.conversations.store import ConversationNotFound, ConversationStore
from webapp.db import schema
from webapp.history import organise_view as ov
from webapp.ui.state import Keys

from .test_chat_page import conversation, send
from .test_conversations import history_titles, open_menu

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def new_chat(at: AppTest, prompt: str) -> str:
    """Start a new chat, send `prompt`; the new conversation's id."""
    ok(at.button(key="chat_new").click().run())
    send(at, prompt)
    return conversation(at).id


def folders(at: AppTest, store: ConversationStore) -> dict[str, str]:
    """name -> id of the member's folders."""
    return {f.name: f.id for f in store.organise.folders(at.session_state[Keys.MEMBER])}


def create_folder(at: AppTest, name: str) -> None:
    at.text_input(key=Keys.HISTORY_NEW_FOLDER).input(name)
    ok(next(b for b in at.button if b.label == "Create folder").click().run())


def folder_labels(at: AppTest) -> list[str]:
    return [e.label for e in at.sidebar.expander if e.label != "Archive older conversations"]


def set_folder_open(at: AppTest, folder_id: str, is_open: bool) -> AppTest:
    """As a click on the folder's expander: its state, and what its callback keeps."""
    at.session_state[f"{ov.FOLDER_OPEN_PREFIX}{folder_id}"] = is_open
    shown = (
        set(at.session_state[Keys.HISTORY_OPEN_FOLDERS])
        if Keys.HISTORY_OPEN_FOLDERS in at.session_state
        else set()
    )
    at.session_state[Keys.HISTORY_OPEN_FOLDERS] = (
        (shown | {folder_id}) if is_open else (shown - {folder_id})
    )
    return ok(at.run())


def move_to(at: AppTest, conversation_id: str, folder_id: str) -> None:
    open_menu(at, conversation_id)
    ok(at.selectbox(key=f"{ov.ROW_FOLDER_PREFIX}{conversation_id}").set_value(folder_id).run())


def test_folders_create_move_collapse_and_delete_both_ways(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    trip = new_chat(at, "Plan the trip to Rome")
    budget = new_chat(at, "Draft the budget")
    loose = new_chat(at, "What is a monad?")

    at.session_state[ov.NEW_FOLDER_MENU_KEY] = True  # the New folder popover, open
    create_folder(at, "**Travel** :red[plans]")  # shown as typed, not as Markdown
    assert at.session_state[ov.NEW_FOLDER_MENU_KEY] is False  # created: it closed
    create_folder(at, "Work")
    ids = folders(at, app_store)
    assert set(ids) == {"**Travel** :red[plans]", "Work"}
    assert folder_labels(at) == [ov.folder_label(f) for f in app_store.organise.folders(member)]
    assert "\\*\\*Travel\\*\\*" in folder_labels(at)[0]

    move_to(at, trip, ids["**Travel** :red[plans]"])
    move_to(at, budget, ids["Work"])
    assert app_store.get_conversation(member, trip).folder_id == ids["**Travel** :red[plans]"]
    labels = folder_labels(at)
    assert labels[0].endswith("(1)") and labels[1].endswith("(1)")
    # The folders sit above the date groups; open, they list their conversations.
    set_folder_open(at, ids["Work"], True)
    assert set(history_titles(at)) == {trip, budget, loose}
    buttons = [b.key for b in at.sidebar.button if b.key and b.key.startswith("chat_open_")]
    assert buttons.index(f"chat_open_{budget}") < buttons.index(f"chat_open_{loose}")
    # Collapsed, a folder's rows are not drawn.
    set_folder_open(at, ids["Work"], False)
    set_folder_open(at, ids["**Travel** :red[plans]"], False)
    assert set(history_titles(at)) == {loose}

    # Delete "Work", its conversation to no folder: it is back in the date groups.
    set_folder_open(at, ids["Work"], True)
    ok(at.button(key=f"history_folder_delete_{ids['Work']}").click().run())
    assert any("What happens to its conversations" in w.value for w in at.sidebar.warning)
    ok(at.button(key="history_folder_delete_keep").click().run())
    assert app_store.get_conversation(member, budget).folder_id is None
    assert set(history_titles(at)) == {budget, loose}

    # Delete the other with its conversations.
    travel = ids["**Travel** :red[plans]"]
    set_folder_open(at, travel, True)
    ok(at.button(key=f"history_folder_delete_{travel}").click().run())
    ok(at.button(key="history_folder_delete_all").click().run())
    with pytest.raises(ConversationNotFound):
        app_store.get_conversation(member, trip)
    assert folders(at, app_store) == {}
    assert set(history_titles(at)) == {budget, loose}


def test_tags_added_from_the_menu_filter_and_tag_search(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    a = new_chat(at, "Quarterly report")
    b = new_chat(at, "Report typo")
    c = new_chat(at, "Lunch ideas")

    open_menu(at, a)
    ok(at.multiselect(key=f"{ov.ROW_TAGS_PREFIX}{a}").set_value(["Work", "urgent"]).run())
    open_menu(at, b)
    # The member's tags are offered (autocomplete); a new one can be typed.
    assert set(at.multiselect(key=f"{ov.ROW_TAGS_PREFIX}{b}").options) >= {"work", "urgent"}
    ok(at.multiselect(key=f"{ov.ROW_TAGS_PREFIX}{b}").set_value(["work"]).run())
    assert app_store.organise.tags_for(member, [a, b, c]) == {a: ["urgent", "work"], b: ["work"]}

    # The filter: several tags, all must match.
    ok(at.multiselect(key=Keys.HISTORY_TAGS).set_value(["work"]).run())
    assert set(history_titles(at)) == {a, b}
    ok(at.multiselect(key=Keys.HISTORY_TAGS).set_value(["work", "urgent"]).run())
    assert set(history_titles(at)) == {a}
    ok(at.multiselect(key=Keys.HISTORY_TAGS).set_value([]).run())
    assert set(history_titles(at)) == {a, b, c}

    # The search box's tag: words, with words to search too.
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("tag:work").run())
    assert set(history_titles(at)) == {a, b}
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("typo tag:work").run())
    assert set(history_titles(at)) == {b}
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("tag:nothing").run())
    assert history_titles(at) == {}


def test_tags_and_folders_are_never_shown_to_another_member(
    logged_in: Login, app_store: ConversationStore
) -> None:
    owner = logged_in("demo-member")
    mine = new_chat(owner, "My plans")
    create_folder(owner, "Private folder")
    open_menu(owner, mine)
    ok(owner.multiselect(key=f"{ov.ROW_TAGS_PREFIX}{mine}").set_value(["secret-tag"]).run())

    other = logged_in("demo-admin")
    assert folder_labels(other) == []
    assert not [m for m in other.sidebar.multiselect if m.key == Keys.HISTORY_TAGS]
    ok(other.text_input(key=Keys.CHAT_HISTORY_QUERY).input("tag:secret-tag").run())
    assert history_titles(other) == {}
    admin = other.session_state[Keys.MEMBER]
    assert app_store.organise.member_tags(admin) == []
    assert app_store.organise.folders(admin) == []


def test_archive_restore_search_and_delete_in_the_archived_view(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    old = new_chat(at, "Old pancake recipe")
    keep = new_chat(at, "Current work")
    other = new_chat(at, "Old waffle recipe")

    open_menu(at, old)
    ok(at.button(key=f"history_archive_{old}").click().run())
    open_menu(at, other)
    ok(at.button(key=f"history_archive_{other}").click().run())
    assert set(history_titles(at)) == {keep}
    assert app_store.get_conversation(member, old).archived_at is not None

    # Search can include archived ones.
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("recipe").run())
    assert history_titles(at) == {}
    ok(at.checkbox(key=Keys.HISTORY_INCLUDE_ARCHIVED).check().run())
    assert set(history_titles(at)) == {old, other}
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("").run())

    # The Archived view lists them, searches them, restores and deletes them.
    ok(at.toggle(key=Keys.HISTORY_ARCHIVED).set_value(True).run())
    assert set(history_titles(at)) == {old, other}
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("pancake").run())
    assert set(history_titles(at)) == {old}
    open_menu(at, old)
    ok(at.button(key=f"history_archive_{old}").click().run())  # Restore to History
    assert app_store.get_conversation(member, old).archived_at is None
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("").run())
    assert set(history_titles(at)) == {other}
    open_menu(at, other)
    ok(at.button(key=f"chat_delete_{other}").click().run())
    ok(at.button(key="chat_delete_confirm").click().run())
    with pytest.raises(ConversationNotFound):
        app_store.get_conversation(member, other)
    assert history_titles(at) == {}
    ok(at.toggle(key=Keys.HISTORY_ARCHIVED).set_value(False).run())
    assert set(history_titles(at)) == {old, keep}


def stored_texts(store: ConversationStore) -> list[str]:
    with store.transaction() as conn:
        return [str(t) for t in conn.execute(sa.select(schema.messages.c.text)).scalars()]


def test_a_temporary_chat_leaves_no_trace_in_history_or_the_database_after_logout(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    saved = new_chat(at, "An ordinary chat")
    ok(at.toggle(key=Keys.CHAT_TEMPORARY).set_value(True).run())
    assert conversation(at).conversation.temporary
    assert any("Temporary chat" in i.value for i in at.info)
    send(at, "My temporary secret about zebras")
    temporary = conversation(at).id
    assert temporary and app_store.get_conversation(member, temporary).temporary
    answer = conversation(at).messages[-1]
    assert answer.role == "assistant" and answer.text  # answered in the background
    assert set(history_titles(at)) == {saved}  # never in History
    ok(at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("zebras").run())
    assert history_titles(at) == {}  # nor found by search
    # Neither shared nor exported.
    assert not [b for b in at.button if b.label in ("Share", "Export")]

    ok(next(b for b in at.sidebar.button if b.label == "Log out").click().run())
    assert not at.chat_input  # the login page
    with pytest.raises(ConversationNotFound):
        app_store.get_conversation(member, temporary)
    assert all("zebras" not in t for t in stored_texts(app_store))
    with app_store.transaction() as conn:
        rows = conn.execute(
            sa.select(schema.conversations.c.id).where(schema.conversations.c.temporary)
        ).all()
    assert rows == []
    app_store.get_conversation(member, saved)  # the ordinary one stays


def test_a_temporary_chat_left_is_deleted_and_one_kept_joins_history(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    ok(at.toggle(key=Keys.CHAT_TEMPORARY).set_value(True).run())
    send(at, "Forget me soon")
    left = conversation(at).id
    ok(at.button(key="chat_new").click().run())  # leaving it
    with pytest.raises(ConversationNotFound):
        app_store.get_conversation(member, left)
    assert not conversation(at).conversation.temporary

    ok(at.toggle(key=Keys.CHAT_TEMPORARY).set_value(True).run())
    send(at, "Actually keep me")
    kept = conversation(at).id
    ok(at.button(key="chat_keep_temporary").click().run())
    assert not app_store.get_conversation(member, kept).temporary
    assert set(history_titles(at)) == {kept}
    ok(at.button(key="chat_new").click().run())
    app_store.get_conversation(member, kept)  # kept: still there


def test_select_mode_moves_tags_and_deletes_several_at_once(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    made = [new_chat(at, f"Chat number {n}") for n in range(4)]
    create_folder(at, "Batch")
    batch = folders(at, app_store)["Batch"]

    ok(at.toggle(key=Keys.HISTORY_SELECT).set_value(True).run())
    for conversation_id in made[:2]:
        ok(at.checkbox(key=f"{ov.PICK_PREFIX}{conversation_id}").check().run())
    assert any("2 conversations selected" in c.value for c in at.sidebar.caption)
    at.selectbox(key=Keys.HISTORY_BULK_FOLDER).set_value(batch)
    ok(at.button(key="history_bulk_move").click().run())
    assert [app_store.get_conversation(member, i).folder_id for i in made] == [
        batch,
        batch,
        None,
        None,
    ]
    assert folder_labels(at)[0].endswith("(2)")
    # The same two, tagged at once (a tag typed new).
    at.multiselect(key=Keys.HISTORY_BULK_TAGS).set_value(["Batch job"])
    ok(at.button(key="history_bulk_tag").click().run())
    assert app_store.organise.tags_for(member, made) == {
        made[0]: ["batch-job"],
        made[1]: ["batch-job"],
    }

    ok(at.button(key="history_bulk_clear").click().run())
    for conversation_id in made[2:]:
        ok(at.checkbox(key=f"{ov.PICK_PREFIX}{conversation_id}").check().run())
    ok(at.button(key="history_bulk_delete").click().run())
    # Asked once, with the count.
    assert [w.value for w in at.sidebar.warning if "Delete" in w.value] == [
        "Delete 2 conversations and all their messages? This cannot be undone."
    ]
    ok(at.button(key="history_bulk_delete_confirm").click().run())
    for conversation_id in made[2:]:
        with pytest.raises(ConversationNotFound):
            app_store.get_conversation(member, conversation_id)
    assert len(app_store.list_conversations(member)) == 2


def test_the_history_reads_tags_and_folders_once_per_run_whatever_its_rows(
    logged_in: Login, app_store: ConversationStore
) -> None:
    """Drawn on every run of the chat page: one query per kind (the folders
    with their counts, the member's tags, the shown rows' tags), none per row."""
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    folder = app_store.organise.create_folder(member, "Filed")

    def statements() -> dict[str, int]:
        seen: list[str] = []

        def note(conn: object, cursor: object, statement: str, *args: object) -> None:
            seen.append(statement)

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", note)
        try:
            ok(at.run())
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", note)
        return {
            "tags": sum("conversation_tags" in s for s in seen),
            "folders": sum("FROM folders" in s for s in seen),
        }

    def add(count: int) -> None:
        for n in range(count):
            conv = app_store.create_conversation(member, "omni", "Omni", title=f"Row {n}")
            app_store.organise.set_tags(member, conv.id, [f"tag{n}", "common"])
            if n % 2:
                app_store.organise.move(member, [conv.id], folder.id)

    add(2)
    set_folder_open(at, folder.id, True)
    few = statements()
    assert len(history_titles(at)) == 2
    add(40)
    many = statements()
    assert len(history_titles(at)) > 30
    assert many == few == {"tags": 2, "folders": 1}


def test_archive_a_whole_folder_and_everything_older_than_a_date(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    filed = new_chat(at, "In the folder")
    loose = new_chat(at, "Not in a folder")
    create_folder(at, "Done")
    done = folders(at, app_store)["Done"]
    move_to(at, filed, done)
    ok(at.button(key=f"history_folder_archive_{done}").click().run())
    assert app_store.get_conversation(member, filed).archived_at is not None
    assert set(history_titles(at)) == {loose}

    ok(at.toggle(key=Keys.HISTORY_ARCHIVED).set_value(True).run())
    at.date_input(key=Keys.HISTORY_ARCHIVE_BEFORE).set_value(date.today() + timedelta(days=2))
    ok(at.button(key="history_archive_older_go").click().run())
    assert app_store.get_conversation(member, loose).archived_at is not None
    assert set(history_titles(at)) == {filed, loose}
    ok(at.toggle(key=Keys.HISTORY_ARCHIVED).set_value(False).run())
    assert history_titles(at) == {}
