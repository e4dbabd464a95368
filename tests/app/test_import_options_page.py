"""Importing and opening hostile conversations on the real chat page (demo mode):
no crash, no request the member did not ask for, system messages shown as such."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from tests.reliability import row
from webapp import limits
from webapp.conversations import context as history
from webapp.conversations.store import ConversationStore
from webapp.db.schema import conversations
from webapp.ui.state import Keys

from .test_chat_page import chat_requests, conversation, send

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


def export(messages: list[tuple[str, str]], **options: object) -> bytes:
    return json.dumps(
        {
            "format": history.EXPORT_FORMAT,
            "version": history.EXPORT_VERSION,
            "conversation": {
                "title": "From a colleague",
                "bot_slug": "omni",
                "bot_name": "Omni",
                "options": options,
                "created_at": "2026-11-01T10:00:00Z",
            },
            "messages": [
                {"role": role, "text": text, "created_at": "2026-11-01T10:00:00Z"}
                for role, text in messages
            ],
        }
    ).encode()


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, data, "application/json"))
    at.run()
    assert not at.exception, at.exception
    return at


@row(
    "An imported conversation that ends with an unanswered prompt",
    happens="Nothing is sent on opening; the prompt is marked as never sent.",
    sees="The prompt with 'not sent yet' and a Send button; system messages shown as such.",
    kept="The import as it was; nothing billed until Send.",
)
def test_an_imported_prompt_is_not_sent_until_the_member_sends_it(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    before = len(chat_requests())
    upload(
        at,
        "bill-me.json",
        export(
            [
                ("system", "Always answer in French."),
                ("user", "Hello?"),
                ("assistant", "Bonjour !"),
                ("user", "Write me a 2000-word essay."),
            ]
        ),
    )
    assert "Imported" in at.success[0].value
    at.run()  # opening it again (a rerun, a reload) sends nothing either
    assert len(chat_requests()) == before
    names = [m.name for m in at.chat_message]
    assert names == ["system", "user", "assistant", "user"]  # a system bubble, not a user one
    system_bubble = at.chat_message[0]
    assert any("System message" in c.value for c in system_bubble.caption)
    last = at.chat_message[-1]
    assert any(history.UNSENT_NOTE in c.value for c in last.caption)

    at.button(key="chat_send_unsent").click().run()  # the member's own Send
    assert not at.exception, at.exception
    sent = chat_requests()[before:]
    assert len(sent) == 1
    assert sent[0]["messages"][0] == {"role": "system", "content": "Always answer in French."}
    assert sent[0]["messages"][-1] == {"role": "user", "content": "Write me a 2000-word essay."}
    member = at.session_state[Keys.MEMBER]
    stored = app_store.all_messages(member, conversation(at).id)
    assert [m.role for m in stored] == ["system", "user", "assistant", "user", "assistant"]
    assert stored[-1].status == "complete" and stored[-1].text


@row(
    "An import asking for max_words 50,000 (over the app's own limit)",
    happens="The import is checked against the limits of the options widgets and the API call.",
    sees="A plain refusal naming the option and the limit.",
    kept="Nothing is written; every conversation as it was.",
)
def test_an_import_with_max_words_50000_is_refused_plainly(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    upload(at, "huge.json", export([("user", "Hi")], max_words=50_000))
    assert "was not imported" in at.error[0].value
    assert "answer length limit (50000)" in at.error[0].value
    assert f"{limits.MAX_WORDS_MAX:,}" in at.error[0].value
    assert app_store.list_conversations(member) == []


@row(
    "An import of a JSON nested 100,000 levels deep (or any malformed file)",
    happens="Reading it fails inside Python (RecursionError and the like); nothing is written.",
    sees="A plain reason why the file was not imported; nothing changed.",
    kept="Every conversation as it was; no half-imported one.",
)
def test_a_json_nested_100000_levels_deep_is_refused_plainly(logged_in: Login) -> None:
    at = logged_in()
    upload(at, "deep.json", b"[" * 100_000 + b"]" * 100_000)
    assert "nested too deeply" in at.error[0].value
    assert "Nothing was changed" in at.error[0].value


@row(
    "A stored conversation whose option is outside today's limits",
    happens="The option falls back to its default (a too-long answer limit to the limit).",
    sees="The conversation, with a note naming the option set aside.",
    kept="Every message; the conversation opens every time.",
)
def test_a_stored_out_of_range_option_opens_with_a_note(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "Short question")
    conv_id = conversation(at).id
    # What an older version's import left in the database.
    with app_store.engine.begin() as conn:
        conn.execute(
            sa.update(conversations)
            .where(conversations.c.id == conv_id)
            .values(options='{"max_words": 50000, "system_instruction": "Be brief."}')
        )
    again = logged_in()
    again.button(key=f"chat_open_{conv_id}").click().run()
    assert not again.exception, again.exception
    assert any("50,000 words" in info.value for info in again.info)
    suffix = conversation(again).key
    widget = again.number_input(key=f"chat_max_words_{suffix}")
    assert widget.value == limits.MAX_WORDS_MAX and widget.max == limits.MAX_WORDS_MAX
    send(again, "And another")
    assert chat_requests()[-1]["max_words"] == limits.MAX_WORDS_MAX


def test_the_system_instruction_widget_refuses_more_than_the_limit(logged_in: Login) -> None:
    at = logged_in()
    suffix = conversation(at).key
    area = at.text_area(key=f"chat_system_{suffix}")
    assert area.max_chars == limits.SYSTEM_INSTRUCTION_MAX_CHARS
    # A longer paste is cut to the limit by the widget: no crash.
    area.set_value("p" * (limits.SYSTEM_INSTRUCTION_MAX_CHARS + 5_000)).run()
    assert not at.exception, at.exception
    assert (
        len(conversation(at).conversation.options.system_instruction or "")
        == limits.SYSTEM_INSTRUCTION_MAX_CHARS
    )
