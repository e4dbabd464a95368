"""Durable conversations through app.py: history, reload, ownership, controls.

Demo mode against the embedded emulator; the app's store is a SQLite file in
the test's tmp_path (`app_db_url`), which `app_store` opens too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import Fault
from webapp.chat import open_chat as chat
from webapp.chat import page_state
from webapp.chat.view import local_time
from webapp.conversations import context as history
from webapp.conversations.store import ConversationNotFound, ConversationStore
from webapp.history.sidebar import HISTORY_STEP
from webapp.text import literal as markdown
from webapp.ui.state import Keys

from .test_chat_page import bubbles, chat_requests, conversation, emulator, send, set_options

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


def history_titles(at: AppTest) -> dict[str, str]:
    """conversation id -> title, as the sidebar history lists them."""
    prefix = "chat_open_"
    return {
        b.key[len(prefix) :]: b.label
        for b in at.sidebar.button
        if b.key and b.key.startswith(prefix)
    }


def open_menu(at: AppTest, conversation_id: str) -> AppTest:
    """Open a History row's ⋮ menu (its actions are drawn only while it is open)."""
    at.session_state[f"chat_row_menu_{conversation_id}"] = True
    return at.run()


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def test_a_new_session_lists_and_reopens_the_conversation_and_continues_it(
    logged_in: Login,
) -> None:
    first = logged_in("demo-member")
    set_options(first, language="French", max_words=150, search=True, system="Be a pirate.")
    send(first, "How do I boil an egg?")
    conv_id = conversation(first).id
    shown = bubbles(first)

    again = logged_in("demo-member")  # a brand-new session: a reload, another browser
    assert again.session_state[Keys.CHAT_OPEN].is_draft
    assert history_titles(again) == {conv_id: "How do I boil an egg?"}
    click(again, f"chat_open_{conv_id}")
    assert bubbles(again) == shown
    assert again.query_params[chat.OPEN_PARAM] == conv_id  # a reload reopens it too
    options = conversation(again).conversation.options
    assert (options.language, options.max_words, options.use_search) == ("French", 150, True)
    assert options.system_instruction == "Be a pirate."

    send(again, "And a duck egg?")
    body = chat_requests()[-1]
    assert (body["language"], body["max_words"], body["use_search"]) == ("French", 150, True)
    assert body["messages"][0] == {"role": "system", "content": "Be a pirate."}
    assert body["messages"][1:-1] == [{"role": r, "content": t} for r, t in shown]
    assert body["messages"][-1] == {"role": "user", "content": "And a duck egg?"}


def test_another_member_does_not_see_it_and_cannot_open_it_by_id(
    logged_in: Login, app_store: ConversationStore
) -> None:
    owner = logged_in("demo-member")
    send(owner, "My secret plan")
    conv_id = conversation(owner).id

    other = logged_in("demo-admin")
    assert conv_id not in history_titles(other)
    # By the URL...
    other.query_params[chat.OPEN_PARAM] = conv_id
    other.run()
    assert conversation(other).is_draft
    assert [e.value for e in other.error] == [chat.NOT_FOUND_MESSAGE]
    assert all("secret" not in text for _, text in bubbles(other))
    assert chat.OPEN_PARAM not in other.query_params
    # ...by the session key the history uses...
    other.session_state[Keys.CHAT_OPEN_ID] = conv_id
    other.run()
    assert conversation(other).is_draft
    assert all("secret" not in text for _, text in bubbles(other))
    # ...and in the store itself.
    admin = other.session_state[Keys.MEMBER]
    with pytest.raises(ConversationNotFound):
        app_store.get_conversation(admin, conv_id)
    with pytest.raises(ConversationNotFound):
        app_store.messages(admin, conv_id)
    assert app_store.list_conversations(admin, "secret") == []


def test_a_dropped_stream_is_interrupted_with_retry_in_this_and_a_new_session(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    emulator().inject(Fault(kind="drop_stream", after_pieces=3))
    send(at, "Tell me a long story")
    member = at.session_state[Keys.MEMBER]
    saved = app_store.all_messages(member, conversation(at).id)
    assert [(m.role, m.status) for m in saved][-2:] == [
        ("user", "complete"),
        ("assistant", "interrupted"),
    ]
    assert saved[-1].text and bubbles(at)[-1] == ("assistant", saved[-1].text)

    reloaded = logged_in()
    click(reloaded, f"chat_open_{conversation(at).id}")
    assert bubbles(reloaded)[-1] == ("assistant", saved[-1].text)
    assert "cut off" in reloaded.error[0].value
    click(reloaded, "chat_retry")
    assert not reloaded.error
    final = app_store.all_messages(member, conversation(at).id)[-1]
    assert final.status == "complete" and final.text.startswith(saved[-1].text)


def test_regenerate_replaces_the_last_answer(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "Name a colour")
    before = conversation(at).messages
    click(at, "chat_regenerate")
    after = conversation(at).messages
    assert len(after) == len(before) and after[-1].id != before[-1].id
    assert after[-1].status == "complete" and after[-2].text == "Name a colour"
    assert chat_requests()[-1]["messages"][-1] == {"role": "user", "content": "Name a colour"}
    member = at.session_state[Keys.MEMBER]
    assert len(app_store.all_messages(member, conversation(at).id)) == len(before)


def test_edit_the_last_prompt_and_resend_replaces_the_old_answer(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "First question")
    send(at, "Waht is a tyop?")
    click(at, "chat_edit")
    at.text_area(key=Keys.CHAT_EDIT_TEXT).input("What is a typo?")
    click(at, "chat_edit_send")
    texts = [text for _, text in bubbles(at)]
    assert "Waht is a tyop?" not in texts and texts[-2] == "What is a typo?"
    assert chat_requests()[-1]["messages"][-1] == {"role": "user", "content": "What is a typo?"}
    member = at.session_state[Keys.MEMBER]
    stored = app_store.all_messages(member, conversation(at).id)
    assert [m.role for m in stored] == ["assistant", "user", "assistant", "user", "assistant"]
    assert stored[-1].text == bubbles(at)[-1][1]


def test_rename_pin_search_and_delete_with_confirmation(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "Trip to Rome")
    rome = conversation(at).id
    click(at, "chat_new")
    send(at, "Egg recipes")
    eggs = conversation(at).id
    assert list(history_titles(at)) == [eggs, rome]  # newest first

    open_menu(at, rome)
    at.text_input(key=f"chat_rename_text_{rome}").input("Rome in May")
    click(at, f"chat_rename_{rome}")
    assert history_titles(at)[rome] == "Rome in May"

    open_menu(at, rome)
    click(at, f"chat_pin_{rome}")
    assert list(history_titles(at)) == [rome, eggs]
    assert "Pinned" in [c.value for c in at.sidebar.caption]
    open_menu(at, rome)
    assert at.button(key=f"chat_pin_{rome}").label == "Unpin"

    # Search finds message text, not only titles.
    answer_word = app_store.all_messages(at.session_state[Keys.MEMBER], eggs)[-1].text.split()[0]
    at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("recipes").run()
    assert list(history_titles(at)) == [eggs]
    at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("may").run()
    assert list(history_titles(at)) == [rome]
    at.text_input(key=Keys.CHAT_HISTORY_QUERY).input(answer_word).run()
    assert eggs in history_titles(at)
    at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("").run()

    open_menu(at, eggs)
    click(at, f"chat_delete_{eggs}")
    assert "cannot be undone" in at.sidebar.warning[0].value
    click(at, "chat_delete_cancel")
    assert set(history_titles(at)) == {rome, eggs}
    open_menu(at, eggs)
    click(at, f"chat_delete_{eggs}")
    click(at, "chat_delete_confirm")
    assert list(history_titles(at)) == [rome]
    assert conversation(at).is_draft  # the open conversation went: a fresh chat
    with pytest.raises(ConversationNotFound):
        app_store.get_conversation(at.session_state[Keys.MEMBER], eggs)


def test_export_and_import_round_trip_and_a_bad_file_changes_nothing(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "Plan a picnic")
    send(at, "For six people")
    member = at.session_state[Keys.MEMBER]
    source = conversation(at).id
    labels = {b.key: b.label for b in at.download_button}
    assert set(labels) == {"chat_export_md", "chat_export_json"}
    # The buttons' deferred data is exactly these functions' output.
    markdown = chat.export_markdown(app_store, member, source)
    assert markdown.startswith("# Plan a picnic") and "For six people" in markdown
    exported = chat.export_json(app_store, member, source).encode()

    before = app_store.list_conversations(member)
    at.file_uploader[0].set_value(("picnic.json", b'{"format": "nope"}', "application/json"))
    at.run()
    assert "not an aBLT Chat conversation export" in at.error[0].value
    assert "Nothing was changed" in at.error[0].value
    assert app_store.list_conversations(member) == before
    assert conversation(at).id == source

    at.file_uploader[0].set_value(("picnic.json", exported, "application/json"))
    at.run()
    assert not at.exception
    imported = conversation(at).id
    assert imported != source and len(app_store.list_conversations(member)) == 2
    assert "Imported" in at.success[0].value
    original = [(m.role, m.text, m.status) for m in app_store.all_messages(member, source)]
    copy = [(m.role, m.text, m.status) for m in app_store.all_messages(member, imported)]
    assert copy == original
    assert json.loads(exported)["format"] == history.EXPORT_FORMAT


def test_a_long_conversation_shows_its_tail_and_says_when_context_was_cut(
    logged_in: Login, app_store: ConversationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ABLT_CONTEXT_MAX_MESSAGES", "6")
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    conv = app_store.create_conversation(member, "omni", "Omni")
    for i in range(200):
        app_store.append_message(member, conv.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    at.run()  # the history lists it
    click(at, f"chat_open_{conv.id}")
    assert len(at.chat_message) == chat.PAGE_SIZE and bubbles(at)[-1][1] == "m199"
    click(at, "chat_show_earlier")
    assert len(at.chat_message) == 2 * chat.PAGE_SIZE and bubbles(at)[0][1] == "m140"

    send(at, "Summarise")
    sent = chat_requests()[-1]["messages"]
    assert [m["content"] for m in sent] == ["m196", "m197", "m198", "m199", "Summarise"]
    note = " ".join(c.value for c in at.caption)
    assert "196 earlier messages were left out" in note


def test_a_title_with_markdown_is_listed_as_typed(logged_in: Login) -> None:
    at = logged_in("demo-member")
    send(at, "Why is **bold** $x^2$ [here](x)?")
    (label,) = history_titles(at).values()
    # The label is escaped Markdown: Streamlit shows it exactly as typed.
    assert label == r"Why is \*\*bold\*\* \$x\^2\$ \[here\]\(x\)?"


def test_a_title_renamed_to_an_image_or_a_script_link_is_text_everywhere(
    logged_in: Login, app_store: ConversationStore
) -> None:
    # Issue 12, remote content: a rename to Markdown must not load an image or
    # make a link in the History row, the import notice or the export.
    hostile = "![](http://host.example/t?secret=1) [go](javascript:alert(1))"
    at = logged_in("demo-member")
    send(at, "Hello")
    cid = conversation(at).id
    open_menu(at, cid)
    at.text_input(key=f"chat_rename_text_{cid}").input(hostile)
    click(at, f"chat_rename_{cid}")
    label = history_titles(at)[cid]
    assert label == markdown.escape(hostile)
    assert "![" not in label and "](" not in label  # no image or link syntax left

    member = at.session_state[Keys.MEMBER]
    exported = chat.export_json(app_store, member, cid).encode()
    at.file_uploader[0].set_value(("t.json", exported, "application/json"))
    at.run()
    notice = at.success[0].value
    assert markdown.escape(hostile) in notice and "![" not in notice
    assert chat.export_markdown(app_store, member, cid).startswith(
        r"# \!\[\](http://host.example/t?secret=1) \[go\](javascript:alert(1))"
    )


def test_a_history_rows_menu_closes_once_its_action_is_done(logged_in: Login) -> None:
    at = logged_in()
    send(at, "Trip to Rome")
    rome = conversation(at).id
    menu = f"chat_row_menu_{rome}"
    for action in (f"chat_rename_{rome}", f"chat_pin_{rome}", f"chat_delete_{rome}"):
        at.session_state[menu] = True  # the member opened the ⋮ menu
        at.run()
        click(at, action)
        assert at.session_state[menu] is False, f"{action} left the menu open"
        assert not [b for b in at.sidebar.button if b.key == action], "its items went with it"


def test_show_more_reaches_the_oldest_of_230_conversations(
    logged_in: Login, app_db_url: str
) -> None:
    """The History has no ceiling: past 200 conversations, pressing Show more
    again and again reaches the oldest, which then opens."""
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    start = datetime.now(UTC) - timedelta(days=30)
    made = [start]
    with ConversationStore(app_db_url, clock=lambda: made[0]) as seeding:
        ids = []
        for n in range(230):
            made[0] = start + timedelta(hours=3 * n)  # the first made is the oldest
            ids.append(seeding.create_conversation(member, "omni", "Omni", title=f"Trip {n}").id)
    oldest, newest = ids[0], ids[-1]

    at.run()
    assert not at.exception, at.exception
    shown = history_titles(at)
    assert len(shown) == HISTORY_STEP and newest in shown and oldest not in shown
    presses = 0
    while oldest not in history_titles(at):
        click(at, "chat_history_more")
        presses += 1
        assert len(history_titles(at)) == min(HISTORY_STEP * (presses + 1), 230)
    assert presses == 230 // HISTORY_STEP  # past the old ceiling of 200
    assert history_titles(at)[oldest] == "Trip 0"
    assert not [b for b in at.sidebar.button if b.key == "chat_history_more"]  # the end
    assert len(history_titles(at)) == 230
    headers = [c.value for c in at.sidebar.caption]
    assert headers.index("Older") > headers.index("Previous 7 days")  # groups kept across pages

    click(at, f"chat_open_{oldest}")
    assert conversation(at).id == oldest


def test_the_history_tells_the_page_where_it_drew_the_open_conversation(
    logged_in: Login,
) -> None:
    """After an answer the conversation alone reruns only when the History drew
    its row first in its group (`page_state.after_answer`): the History says so."""
    at = logged_in("demo-member")
    send(at, "How do I boil an egg?")
    eggs = conversation(at).conversation
    state = at.session_state[Keys.CHAT_PAGE_STATE]
    assert state.drawn_conversation == eggs
    assert state.drawn_row == page_state.HistoryRow(
        history.GROUP_TODAY, local_time(eggs.updated_at, None), None
    )
    click(at, "chat_new")
    send(at, "Where is Rome?")
    click(at, f"chat_open_{eggs.id}")  # now second in Today: an answer moves it up
    assert conversation(at).id == eggs.id
    assert at.session_state[Keys.CHAT_PAGE_STATE].drawn_row is None
    at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("Rome").run()  # a search shown
    [rome] = history_titles(at)  # first in Today, listed alone
    click(at, f"chat_open_{rome}")
    assert at.session_state[Keys.CHAT_PAGE_STATE].drawn_row is None
