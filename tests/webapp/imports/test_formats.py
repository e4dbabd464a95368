"""Each format's importer on a hand-written fixture built from its documented or
observed shape: the text, order, versions, roles and times that come out."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from webapp.conversations.context import export_dict
from webapp.conversations.model import AnswerStatus, Conversation, Message
from webapp.conversations.options import ConversationOptions
from webapp.imports import chatgpt
from webapp.imports.model import ImportPlan, ParsedConversation, Source
from webapp.imports.reader import read_upload

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def only(plan: ImportPlan, title: str) -> ParsedConversation:
    found = [c for c in plan.conversations if c.conversation.conversation.title == title]
    assert len(found) == 1, [c.conversation.conversation.title for c in plan.conversations]
    return found[0]


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_chatgpt_the_current_branch_is_the_conversation_and_forks_become_versions() -> None:
    plan = read_upload("export.json", fixture("chatgpt_conversations.json"))
    assert not plan.skipped
    assert [c.source for c in plan.conversations] == [Source.CHATGPT, Source.CHATGPT]
    rome = only(plan, "Trip to Rome")
    conv = rome.conversation
    shown = [(m.role, m.text) for m in conv.messages]
    assert shown == [
        # The file name is made literal Markdown (map\\.pdf shows as map.pdf).
        ("user", "Plan a **day** in Rome <b>please</b>\n\n[File map\\.pdf not imported]"),
        ("assistant", "Start at the Colosseum."),
        ("user", "[Image not imported]\n\nWhat is this?"),
        (
            "assistant",
            "[Code run by Code Interpreter not imported]\n\n"
            "[Code Interpreter output not imported]\n\n"
            "It is the Trevi Fountain.\n\n"
            "[Quote from Trevi Fountain not imported]\n\n"
            "Throw a coin in it.",
        ),
        ("user", "[Voice message] Thanks a lot"),
        ("assistant", "[Voice message] You're welcome!"),
        ("user", "Draw it"),
        ("assistant", "[Image not imported]\n\nHere it is."),
    ]
    # Times kept from create_time, fractions of a second included.
    assert conv.messages[0].created_at == at(1714557600.25)
    assert conv.messages[1].created_at == at(1714557620.75)
    assert conv.messages[3].created_at == at(1714557705.0)  # the joined answer's first part
    assert conv.conversation.created_at == at(1714557600.125)
    assert conv.conversation.updated_at == at(1714558200.5)
    # The other branches: the first answer beside the shown one, and an edited
    # prompt (with its own answer) beside "What is this?".
    versions = {v.text: v for v in conv.versions}
    assert set(versions) == {
        "First try: see the Vatican.",
        "And in the evening?",
        "Trastevere for dinner.",
    }
    assert versions["First try: see the Vatican."].parent == 0
    assert versions["First try: see the Vatican."].role == "assistant"
    assert versions["And in the evening?"].parent == 1
    assert versions["And in the evening?"].role == "user"
    evening = versions["And in the evening?"].key
    assert versions["Trastevere for dinner."].parent == evening
    assert versions["Trastevere for dinner."].selected
    assert versions["Trastevere for dinner."].created_at == at(1714557810.0)
    # The model of the last answer shown, for the header.
    assert rome.original_model == "gpt-4o"
    assert rome.message_count == 11


def test_chatgpt_hidden_system_memory_and_reasoning_are_not_shown() -> None:
    plan = read_upload("conversations.json", fixture("chatgpt_conversations.json"))
    rome = only(plan, "Trip to Rome").conversation
    texts = " ".join(m.text for m in rome.messages)
    assert "Likes Italy" not in texts  # model_editable_context
    assert "DALL·E displayed" not in texts  # hidden tool text
    assert "search(" not in texts  # a call to the browser tool
    quick = only(plan, "Quick question")
    assert [(m.role, m.text) for m in quick.conversation.messages] == [
        ("user", "Is 7 prime?"),
        ("assistant", "Yes."),
    ]
    assert quick.original_model == "o3"
    assert plan.summary() == "2 conversations, 13 messages"


def test_open_webui_two_branches_current_one_shown() -> None:
    plan = read_upload("chat-export.json", fixture("openwebui_export.json"))
    assert not plan.skipped
    (parsed,) = plan.conversations
    assert parsed.source == Source.OPENWEBUI
    conv = parsed.conversation
    assert conv.conversation.title == "Greetings"
    assert [(m.role, m.text) for m in conv.messages] == [
        ("user", "Hello there\n\n[Image not imported]"),
        ("assistant", "Hello! (second answer)"),
        ("user", "Bye"),
        ("assistant", "Goodbye, see `you`!"),
    ]
    assert [m.created_at for m in conv.messages] == [
        at(1719000000),
        at(1719000010),
        at(1719000100),
        at(1719000105),
    ]
    (other,) = conv.versions
    assert (other.role, other.text, other.parent) == ("assistant", "Hi! (first answer)", 0)
    assert other.created_at == at(1719000005)
    assert parsed.original_model == "mistral:7b"


def test_librechat_recursive_export_newest_branch_shown() -> None:
    plan = read_upload("export.json", fixture("librechat_export.json"))
    assert not plan.skipped
    (parsed,) = plan.conversations
    assert parsed.source == Source.LIBRECHAT
    conv = parsed.conversation
    assert conv.conversation.title == "Haiku help"
    assert [(m.role, m.text) for m in conv.messages] == [
        ("user", "Write a haiku about rain"),
        ("assistant", "Rain taps the window\nclouds hum a quiet sermon\npuddles hold the sky"),
        ("user", "Thanks!"),
    ]
    assert conv.messages[0].created_at == datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
    (other,) = conv.versions
    assert (other.text, other.parent, other.role) == ("Soft rain on the roof", 0, "assistant")
    assert other.created_at == datetime(2024, 6, 1, 9, 0, 5, 250000, tzinfo=UTC)
    assert parsed.original_model == "gpt-4o-mini"


def test_librechat_flat_export_with_parent_links() -> None:
    flat = {
        "conversationId": "c",
        "title": "Flat",
        "recursive": False,
        "messages": [
            {
                "messageId": "b",
                "parentMessageId": "a",
                "isCreatedByUser": False,
                "sender": "Claude",
                "text": "Answer",
                "createdAt": "2024-06-02T10:00:01Z",
            },
            {
                "messageId": "a",
                "parentMessageId": "00000000-0000-0000-0000-000000000000",
                "isCreatedByUser": True,
                "sender": "User",
                "text": "Question",
                "createdAt": "2024-06-02T10:00:00Z",
            },
        ],
    }
    (parsed,) = read_upload("x.json", json.dumps(flat).encode()).conversations
    assert [(m.role, m.text) for m in parsed.conversation.messages] == [
        ("user", "Question"),
        ("assistant", "Answer"),
    ]
    assert parsed.original_model == "Claude"  # no model recorded: the sender's label


def own_export(title: str) -> bytes:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    conv = Conversation(
        id="x",
        owner="ann",
        owner_user_id=1,
        bot_slug="omni",
        bot_name="Omni",
        title=title,
        options=ConversationOptions(),
        created_at=now,
        updated_at=now,
    )
    msgs = [
        Message("1", "x", 0, "user", "Hi", AnswerStatus.COMPLETE, now),
        Message("2", "x", 1, "assistant", "Hello", AnswerStatus.COMPLETE, now),
    ]
    return json.dumps(export_dict(conv, msgs)).encode()


def test_a_zip_of_several_formats_mixed_is_recognised_by_content() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("conversations.json", fixture("chatgpt_conversations.json"))
        zf.writestr("a/whatever.txt", fixture("openwebui_export.json"))  # not by name
        zf.writestr("b/librechat.json", fixture("librechat_export.json"))
        zf.writestr("mine.json", own_export("My own"))
        zf.writestr("user.json", b'{"email": "ann@example.com"}')
        zf.writestr("file-abc.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    plan = read_upload("export.zip", buffer.getvalue())
    assert not plan.skipped
    assert plan.sources == [Source.CHATGPT, Source.OPENWEBUI, Source.LIBRECHAT, Source.ABLT]
    assert len(plan.conversations) == 5
    assert any("user.json" in note for note in plan.notes)
    assert any("1 other file" in note for note in plan.notes)
    mine = only(plan, "My own")
    assert [m.text for m in mine.conversation.messages] == ["Hi", "Hello"]


def test_chatgpt_one_conversation_alone_is_read_too() -> None:
    data = json.loads(fixture("chatgpt_conversations.json"))[1]
    assert chatgpt.is_export(data)
    (parsed,) = read_upload("one.json", json.dumps(data).encode()).conversations
    assert parsed.conversation.conversation.title == "Quick question"
