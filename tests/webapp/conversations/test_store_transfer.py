"""The conversation store's export (JSON, Markdown) and import: a round trip
makes a new conversation, a bad import says why and writes nothing."""

from __future__ import annotations

import json

import pytest

from webapp.conversations.context import ConversationImportError
from webapp.conversations.store import (
    ConversationStore,
)

from .store_helpers import Member, chat

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
