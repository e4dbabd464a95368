"""A send in as few writes as it takes: a new chat saved with its welcome in
one transaction (`create_conversation(opening=...)`), and the prompt in one
more (`ConversationStore.send_prompt`): answered at once when nothing comes
before it, else queued behind what does, the due answer claimed in the same
transaction. On a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.pg import backend_fixtures
from tests.webapp.answer_helpers import ANN, Member
from webapp.conversations.model import DEFAULT_TITLE, AnswerStatus
from webapp.conversations.store import ConversationNotFound, ConversationStore

db_url, store = backend_fixtures("send")


class Writes:
    """The transactions begun and the statements run on an engine meanwhile."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.begun = 0
        self.statements: list[str] = []

    def _begin(self, conn: Any) -> None:
        self.begun += 1

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            self.statements.append(" ".join(statement.split()))

    def __enter__(self) -> Writes:
        sa.event.listen(self.engine, "begin", self._begin)
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(self.engine, "begin", self._begin)
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)


@pytest.fixture
def cid(store: ConversationStore) -> Iterator[str]:
    yield store.create_conversation(ANN, "omni", "Omni").id


def test_a_prompt_into_an_idle_chat_starts_its_answer_in_one_transaction_without_queueing(
    store: ConversationStore, cid: str
) -> None:
    with Writes(store.engine) as writes:
        sent = store.send_prompt(ANN, cid, "  How do fjords form?  ")
    assert writes.begun == 1
    assert not any("queued_prompts" in s and s.startswith("INSERT") for s in writes.statements)
    assert sent.queued is None and sent.own and sent.claim is not None
    assert sent.claim.prompt.text == "How do fjords form?"
    assert sent.claim.answer.status == AnswerStatus.STREAMING
    # The claim carries the conversation as its worker will send it, titled by the prompt.
    assert sent.claim.conversation is not None
    assert sent.claim.conversation.bot_slug == "omni"
    saved = store.get_conversation(ANN, cid)
    assert saved.title == sent.claim.conversation.title == "How do fjords form?"
    assert [m.role for m in store.messages(ANN, cid).messages] == ["user", "assistant"]


def test_a_prompt_sent_while_an_answer_runs_is_queued_in_order(
    store: ConversationStore, cid: str
) -> None:
    first = store.send_prompt(ANN, cid, "First")
    second = store.send_prompt(ANN, cid, "Second")
    third = store.send_prompt(ANN, cid, "Third")
    assert first.own
    assert second.claim is None and third.claim is None
    assert [q.text for q in store.queued_prompts(ANN, cid)] == ["Second", "Third"]
    # The answer ends: the next claim takes the oldest queued prompt, titles stay.
    assert first.claim is not None
    store.finish_answer(ANN, first.claim.answer.id, "An answer", AnswerStatus.COMPLETE)
    claim = store.claim_next(ANN, cid)
    assert claim is not None and claim.prompt.text == "Second"
    assert store.get_conversation(ANN, cid).title == "First"


def test_a_prompt_left_unanswered_is_answered_first_and_the_new_one_waits(
    store: ConversationStore, cid: str
) -> None:
    store.append_message(ANN, cid, "user", "An older question")  # e.g. its answer deleted
    sent = store.send_prompt(ANN, cid, "A newer question")
    assert sent.claim is not None and not sent.own
    assert sent.claim.prompt.text == "An older question"
    assert sent.queued is not None and sent.queued.text == "A newer question"
    assert [q.text for q in store.queued_prompts(ANN, cid)] == ["A newer question"]


def test_a_blank_prompt_or_another_members_chat_writes_nothing(
    store: ConversationStore, cid: str
) -> None:
    with pytest.raises(ValueError):
        store.send_prompt(ANN, cid, " \n ")
    with pytest.raises(ConversationNotFound):
        store.send_prompt(Member("bob", 7), cid, "Hello")
    assert store.messages(ANN, cid).messages == []
    assert store.queued_prompts(ANN, cid) == []


def test_a_new_chat_is_saved_with_its_welcome_in_one_transaction(
    store: ConversationStore,
) -> None:
    with Writes(store.engine) as writes:
        created = store.create_conversation(
            ANN, "omni", "Omni", opening=[("assistant", "Hello! Ask me anything.")]
        )
    assert writes.begun == 1
    assert created.title == DEFAULT_TITLE  # untitled until its first prompt
    shown = store.messages(ANN, created.id).messages
    assert [(m.seq, m.role, m.text, m.status) for m in shown] == [
        (0, "assistant", "Hello! Ask me anything.", AnswerStatus.COMPLETE)
    ]
    # Its first prompt still names it, and goes after the welcome.
    sent = store.send_prompt(ANN, created.id, "Plan a trip to Bergen")
    assert sent.claim is not None and sent.claim.prompt.seq == 1
    assert store.get_conversation(ANN, created.id).title == "Plan a trip to Bergen"
    with pytest.raises(ValueError):
        store.create_conversation(ANN, "omni", opening=[("robot", "beep")])  # type: ignore[list-item]


def test_the_claim_reads_the_answers_context_in_its_transaction_when_asked(
    store: ConversationStore, cid: str
) -> None:
    untold = store.send_prompt(ANN, cid, "Q0").claim
    assert untold is not None and untold.tail is None  # no tail asked: none read
    fresh = store.create_conversation(ANN, "omni").id
    with Writes(store.engine) as writes:
        later = store.send_prompt(ANN, fresh, "Hi", tail=5)
    assert writes.begun == 1
    assert later.claim is not None and later.claim.tail is not None
    assert [m.text for m in later.claim.tail] == ["Hi"]

    other = store.create_conversation(ANN, "omni").id
    for text in ("Q1", "A1", "Q2", "A2"):
        store.append_message(ANN, other, "user" if text.startswith("Q") else "assistant", text)
    last_three = store.send_prompt(ANN, other, "Q3", tail=3).claim
    assert last_three is not None and last_three.tail is not None
    assert [m.text for m in last_three.tail] == ["Q2", "A2", "Q3"]  # oldest first, up to its prompt
    assert store.send_prompt(ANN, other, "Q4", tail=3).claim is None  # queued: nothing claimed
