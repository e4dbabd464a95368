"""Helpers shared by the conversation store's tests (test_store*.py,
test_organise_store, the import tests); their fixtures are in conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from webapp.conversations.context import ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.db import migrations

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Member:
    """Stands in for `webapp.auth.gate.Member`: the store needs only these two."""

    username: str
    user_id: int


def schema_version(store: ConversationStore) -> int:
    """The database's schema version, as the migrations read it."""
    with store.transaction() as conn:
        return migrations.current_version(conn)


class Clock:
    """A UTC clock that moves one second per reading, so order is deterministic."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'data' / 'ablt-chat.db'}"


OPTIONS = ConversationOptions(
    language="English", max_words=300, use_search=True, system_instruction="Be brief."
)


def chat(store: ConversationStore, owner: Member, *texts: str, bot: str = "helper") -> str:
    """A conversation with alternating user/assistant messages; returns its id."""
    conv = store.create_conversation(owner, bot, bot.title(), OPTIONS)
    for i, text in enumerate(texts):
        store.append_message(owner, conv.id, "user" if i % 2 == 0 else "assistant", text)
    return conv.id
