# Not collected by pytest (no test_ prefix): kept to show how the legacy databases were made.
"""Make a database with the pre-Alembic code of main (run from a checkout of e11085d)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore


@dataclass(frozen=True)
class Who:
    username: str
    user_id: int


url = sys.argv[1]
t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
tick = [0]


def clock() -> datetime:
    tick[0] += 1
    return t0 + timedelta(minutes=tick[0])


store = ConversationStore(url, clock=clock)
alice, bob = Who("alice", 1), Who("bob", 2)
for who, n in ((alice, 3), (bob, 2)):
    for i in range(n):
        c = store.create_conversation(who, "gpt-4", "GPT-4")
        store.append_message(who, c.id, "user", f"{who.username} question {i}: naïve café ✓")
        store.append_message(
            who,
            c.id,
            "assistant",
            f"Answer {i} with **Markdown** and `code`",
            AnswerStatus.COMPLETE,
        )
store.close()
print("made", url)
