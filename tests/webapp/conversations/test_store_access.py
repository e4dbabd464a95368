"""The conversation store's edits (rename, pin, options, delete) and ownership:
no member reaches another's conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.conversations.context import ConversationOptions
from webapp.conversations.store import (
    ConversationNotFound,
    ConversationStore,
    MessageNotFound,
)
from webapp.db import schema

from .store_helpers import Member, chat

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
    "view": lambda s, m, c, _: s.view(m, c, limit=10),
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


@pytest.mark.parametrize("limit", [None, 2, 5])
def test_the_chat_pages_one_read_is_the_three_reads_it_replaces(
    store: ConversationStore, ann: Member, limit: int | None
) -> None:
    cid = chat(store, ann, "Q1", "A1", "Q2")
    store.enqueue_prompt(ann, cid, "typed ahead")
    store.enqueue_prompt(ann, cid, "and another")

    view = store.view(ann, cid, limit=limit)

    assert view.conversation == store.get_conversation(ann, cid)
    assert view.page == store.messages(ann, cid, limit=limit)
    assert [m.text for m in view.page.messages] == ["Q1", "A1", "Q2"][-(limit or 3) :]
    assert view.page.total == 3
    assert [q.text for q in view.queued] == ["typed ahead", "and another"]
    assert view.queued == store.queued_prompts(ann, cid)
    with pytest.raises(ValueError):
        store.view(ann, cid, limit=0)


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
