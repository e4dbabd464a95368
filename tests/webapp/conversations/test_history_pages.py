"""The History has no ceiling: read in keyset pages (`HistoryCursor`), every
conversation comes back exactly once, in the History's order, however many
share a timestamp, on SQLite and PostgreSQL (issue 21)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.conversations.context import Conversation, group_conversations
from webapp.conversations.store import ConversationStore, HistoryCursor
from webapp.history.actions import HISTORY_PAGE, load_history

from .store_helpers import Member

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COUNT = 450


def history_order(conversations: list[Conversation]) -> list[str]:
    """Ids as the History lists them: pinned first, newest activity first, then id."""
    ranked = sorted(conversations, key=lambda c: (not c.pinned, -c.updated_at.timestamp(), c.id))
    return [c.id for c in ranked]


def seed(db_url: str, owner: Member) -> tuple[ConversationStore, list[Conversation], datetime]:
    """450 conversations over about 9 days: runs of three share a timestamp, the
    rest are a few hours apart; every 40th is pinned. Returns the open store, the
    conversations as stored, and the clock's last time."""
    now = [START]
    store = ConversationStore(db_url, clock=lambda: now[0])
    for n in range(COUNT):
        if n % 3 == 0:
            now[0] += timedelta(minutes=90)  # then three in the same microsecond
        conv = store.create_conversation(owner, "omni", "Omni", title=f"Chat {n}")
        if n % 40 == 0:
            store.set_pinned(owner, conv.id, True)
    stored = store.list_conversations(owner, limit=COUNT + 10)
    return store, stored, now[0]


def test_keyset_pages_return_every_conversation_once_in_history_order(
    db_url: str, ann: Member
) -> None:
    store, stored, _ = seed(db_url, ann)
    try:
        assert len(stored) == COUNT
        assert len({c.updated_at for c in stored}) == COUNT // 3  # equal timestamps in threes
        expected = history_order(stored)
        assert [c.id for c in stored] == expected

        for size in (7, HISTORY_PAGE, 100):  # 7: pages end inside runs of equal timestamps
            seen: list[str] = []
            after: HistoryCursor | None = None
            while True:
                page = store.list_conversations(ann, limit=size, after=after)
                if not page:
                    break
                seen.extend(c.id for c in page)
                after = HistoryCursor.after(page[-1])
            assert seen == expected, size
            assert len(set(seen)) == COUNT

        # Search pages the same way: only the matches, each once, in order.
        matches = [c for c in stored if c.title.startswith("Chat 1")]
        found: list[str] = []
        after = None
        while page := store.list_conversations(ann, "chat 1", limit=9, after=after):
            found.extend(c.id for c in page)
            after = HistoryCursor.after(page[-1])
        assert found == history_order(matches)
    finally:
        store.close()


def test_show_more_reaches_the_oldest_with_the_date_groups_kept_across_pages(
    db_url: str, ann: Member
) -> None:
    store, stored, last = seed(db_url, ann)
    try:
        now = last + timedelta(minutes=5)
        everything = group_conversations(stored, now=now, tz=UTC)
        assert [name for name, _ in everything] == [
            "Pinned",
            "Today",
            "Yesterday",
            "Previous 7 days",
            "Older",
        ]
        rows, shown = HISTORY_PAGE, load_history(store, ann, rows=HISTORY_PAGE, now=now, tz=UTC)
        assert shown.more
        while shown.more:  # "Show more", again and again
            rows += HISTORY_PAGE
            longer = load_history(store, ann, rows=rows, now=now, tz=UTC)
            flat = [c.id for _, convs in shown.sections for c in convs]
            assert [c.id for _, convs in longer.sections for c in convs][: len(flat)] == flat
            shown = longer
        assert shown.sections == everything  # the oldest reached, grouped as one list would be
        assert rows >= COUNT > rows - HISTORY_PAGE
        exact = load_history(store, ann, rows=COUNT, now=now, tz=UTC)
        assert not exact.more and exact.sections == everything
        assert load_history(store, ann, rows=COUNT - 1, now=now, tz=UTC).more
    finally:
        store.close()
