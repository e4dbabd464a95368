"""An import from another app on the real chat page (demo mode): the preview
before anything is written, the background run, the header's origin, the undo."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from webapp.conversations.store import ConversationStore
from webapp.imports.writer import ImportStore
from webapp.ui.state import Keys

from .test_chat_page import chat_requests, conversation

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]
FIXTURES = Path(__file__).parents[1] / "webapp" / "imports" / "fixtures"


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "application/json"))
    at.run()
    assert not at.exception, at.exception
    return at


def wait_for_import(store: ConversationStore, member: object) -> None:
    imports = ImportStore(store)
    for _ in range(200):
        (latest,) = imports.recent(member, limit=1)  # type: ignore[arg-type]
        if latest.status != "running":
            return
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_a_chatgpt_import_is_previewed_written_in_the_background_and_undone(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    before = len(chat_requests())
    upload(at, "conversations.json", (FIXTURES / "chatgpt_conversations.json").read_bytes())

    # The preview: the counts, where from, the bot; nothing is written yet.
    preview = " ".join(m.value for m in at.sidebar.markdown)
    assert "from ChatGPT" in preview
    assert "2 conversations, 13 messages" in preview
    assert app_store.list_conversations(member) == []
    bot = at.sidebar.selectbox(key="imports_bot")
    assert bot.index == 0  # the first bot, the one a new chat starts with
    chosen = bot.value
    at.sidebar.button(key="imports_confirm").click().run()
    assert not at.exception, at.exception

    wait_for_import(app_store, member)
    at.run()
    titles = {c.title: c for c in app_store.list_conversations(member)}
    assert set(titles) == {"Trip to Rome", "Quick question"}
    assert {c.bot_slug for c in titles.values()} == {chosen}
    assert any(
        "Imported 2 conversations (13 messages) from ChatGPT" in s.value for s in at.sidebar.success
    )
    assert len(chat_requests()) == before  # an import never calls the API

    # Opened, it says where it came from and which model answered there.
    at.sidebar.button(key=f"chat_open_{titles['Trip to Rome'].id}").click().run()
    assert conversation(at).id == titles["Trip to Rome"].id
    badges = [m.value for m in at.main.markdown if "badge" in m.value]
    assert any("Imported from ChatGPT, gpt" in b and "4o" in b for b in badges), badges
    assert any("Start at the Colosseum." in m.markdown[0].value for m in at.chat_message)
    assert len(chat_requests()) == before

    # One step undoes it.
    at.sidebar.button(key=f"imports_remove_{titles['Trip to Rome'].import_id}").click().run()
    assert not at.exception, at.exception
    assert app_store.list_conversations(member) == []
    assert any("Import removed: 2 conversations deleted." in s.value for s in at.success)


def test_cancel_writes_nothing_and_a_bad_zip_says_why(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    upload(at, "chats.json", (FIXTURES / "openwebui_export.json").read_bytes())
    assert "1 conversation, 5 messages" in " ".join(m.value for m in at.sidebar.markdown)
    at.sidebar.button(key="imports_cancel").click().run()
    assert "imports_confirm" not in [b.key for b in at.sidebar.button]
    assert app_store.list_conversations(member) == []
    upload(at, "export.zip", b"PK\x05\x06" + b"\0" * 18)
    assert "was not imported" in at.error[0].value
    assert "the zip is empty" in at.error[0].value
    assert app_store.list_conversations(member) == []


def test_a_running_import_shows_its_progress_after_a_reload(
    logged_in: Login, app_store: ConversationStore
) -> None:
    from webapp.imports.reader import read_upload

    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    plan = read_upload("x.json", (FIXTURES / "chatgpt_conversations.json").read_bytes())
    imports = ImportStore(app_store)
    record = imports.begin(member, "conversations.json", plan, "omni")  # another tab's run
    imports.progress(record.id, written=1, failed=0, messages=11)
    at.run()
    assert not at.exception, at.exception
    (bar,) = at.get("progress")
    assert "Importing “conversations\\.json”: 1 of 2 conversations" in bar.proto.text  # escaped
    imports.progress(record.id, written=2, failed=0, messages=13, status="done")
    at.run()
    assert not at.get("progress")
    assert any("Imported 2 conversations" in s.value for s in at.sidebar.success)


def test_imported_text_goes_through_the_renderer_like_any_answer(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    hostile = (
        "**bold** ![tracker](https://example.com/pixel.png) "
        '<img src="https://example.com/y.png" onerror="alert(1)"><script>alert(2)</script>'
    )
    chat = {
        "title": "Hostile",
        "chat": {
            "history": {
                "currentId": "b",
                "messages": {
                    "a": {"id": "a", "parentId": None, "role": "user", "content": "Hi"},
                    "b": {"id": "b", "parentId": "a", "role": "assistant", "content": hostile},
                },
            }
        },
    }
    upload(at, "chat.json", json.dumps([chat]).encode())
    at.sidebar.button(key="imports_confirm").click().run()
    wait_for_import(app_store, member)
    at.run()
    (conv,) = app_store.list_conversations(member)
    assert app_store.all_messages(member, conv.id)[1].text == hostile  # kept as written
    at.sidebar.button(key=f"chat_open_{conv.id}").click().run()
    shown = at.chat_message[1].markdown[0].value
    assert "<strong>bold</strong>" in shown  # Markdown as Markdown
    assert "<img" not in shown and "<script" not in shown and "onerror" not in shown
    assert 'class="ablt-image-link" href="https://example.com/pixel.png"' in shown  # a link
