"""Helpers shared by the tests that drive the real answer service against the
emulator over loopback and a real database (a SQLite file, and PostgreSQL when
ABLT_TEST_PG_URL is set): the member, bounded waits, the database and service
fixtures, and every way of starting an answer (for the admission rules' tests).

Fixtures are imported by name into the modules that use them (pytest finds
them there); plain helpers are imported as usual.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle, Fault
from tests.pg import backend_fixtures
from webapp.answers import AnswerService
from webapp.chat import changes, versions
from webapp.chat import open_chat as chat
from webapp.compare import Comparisons, run
from webapp.conversations.context import ContextLimits, ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.conversations.transcripts import export_json
from webapp.db import schema
from webapp.sharing import ShareLinks


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


ANN = Member("ann", 42)
NO_CAP = ContextLimits(max_messages=None, max_words=None)
SETTLE = 15.0  # seconds a bounded wait for a state may take before the test fails


def until(condition: Callable[[], object], timeout: float = SETTLE) -> None:
    """Wait for `condition()` to hold (polling); fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the expected state was not reached")
        time.sleep(0.01)


db_url, store = backend_fixtures("answers")


@pytest.fixture
def make_service(
    store: ConversationStore, emulator: EmulatorHandle, test_token: str
) -> Iterator[Callable[..., AnswerService]]:
    """Answer services on the test database: one per "app process" a test needs."""
    made: list[AnswerService] = []
    extra: list[ConversationStore] = []

    def make(
        max_workers: int = 4, save_every: float = 0.1, own_store: bool = False, **kw: object
    ) -> AnswerService:
        target = store
        if own_store:  # another process: its own pool on the same database
            target = ConversationStore(store.url)
            extra.append(target)
        service = AnswerService(
            target,
            lambda: AsyncAbltClient(
                test_token,
                emulator.base_url,
                max_connections=max_workers,
                max_retry_after=60,
            ),
            limits=NO_CAP,
            max_workers=max_workers,
            save_every=save_every,
            **kw,  # type: ignore[arg-type]
        )
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()
    for other in extra:
        other.close()


@pytest.fixture
def service(make_service: Callable[..., AnswerService]) -> AnswerService:
    return make_service()


def conversation(store: ConversationStore) -> str:
    return store.create_conversation(ANN, "omni", "Omni").id


def chat_requests(emulator: EmulatorHandle) -> list:  # type: ignore[type-arg]
    return [r for r in emulator.requests if r.path == "/v1/chat"]


def messages(store: ConversationStore, cid: str) -> list[tuple[str, str, str]]:
    return [(m.role, m.text, m.status) for m in store.all_messages(ANN, cid)]


def finished(service: AnswerService, answer_id: str | None) -> None:
    assert answer_id is not None
    live = service.live(answer_id)
    if live is not None:
        assert live.wait_done(SETTLE), "the answer did not finish"


TWO = [("omni", "Omni"), ("chef", "Chef")]  # a comparison's bots
SAVED_TABLES = ("conversations", "messages", "queued_prompts", "message_versions")


def saved(store: ConversationStore) -> dict[str, list[str]]:
    """Every row of the tables a started answer writes to (what "nothing saved" means).
    A conversation's `opened_at` is left out: opening it to retry is a look, not a save."""
    with store.engine.connect() as conn:
        tables = [schema.metadata.tables[name] for name in SAVED_TABLES]
        return {
            t.name: sorted(
                str(tuple(r))
                for r in conn.execute(sa.select(*(c for c in t.c if c.name != "opened_at")))
            )
            for t in tables
        }


def answered(service: AnswerService, store: ConversationStore, prompt: str) -> str:
    """A conversation with one exchange, its answer complete."""
    cid = store.create_conversation(ANN, "omni", "Omni").id
    finished(service, service.submit(ANN, cid, prompt).answer_id)
    until(lambda: store.all_messages(ANN, cid)[-1].status == AnswerStatus.COMPLETE)
    return cid


def failed(service: AnswerService, store: ConversationStore, emulator: EmulatorHandle) -> str:
    """A conversation whose one answer failed (an empty answer: Retry is offered)."""
    emulator.inject(Fault(kind="empty_answer"))
    cid = store.create_conversation(ANN, "omni", "Omni").id
    finished(service, service.submit(ANN, cid, "Anything?").answer_id)
    until(lambda: store.all_messages(ANN, cid)[-1].status == AnswerStatus.ERROR)
    return cid


def ways(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> dict[str, Callable[[], Any]]:
    """Each way of starting an answer by name, set up while answers are allowed,
    to be tried once a rule refuses them (the budget, the member's bots).
    Retry, Regenerate and Edit ask for the ticket with the chat's bot before
    their change, as the chat page does (`webapp.chat.answer_view.answer_after`);
    "imported" and "copied share" make their copy first (allowed), then send."""
    sent = answered(service, store, "Name a colour")
    retry = failed(service, store, emulator)
    unanswered = store.create_conversation(ANN, "omni", "Omni").id
    store.append_message(ANN, unanswered, "user", "What is a fjord?")
    typed_ahead = store.create_conversation(ANN, "omni", "Omni").id
    store.enqueue_prompt(ANN, typed_ahead, "Queued: what is a tide?")
    comparisons = Comparisons(store)
    options = [ConversationOptions()] * 2
    comparison = run.start(comparisons, service, ANN, TWO, options, "Soup?")
    until(lambda: not run.streaming_answers(service, ANN, comparisons.get(ANN, comparison.id)))
    emulator.inject(Fault(kind="empty_answer"))
    column = comparisons.get(ANN, comparison.id).columns[0].id
    run.send(service, ANN, comparisons.get(ANN, comparison.id), "And bread?")
    until(lambda: not run.streaming_answers(service, ANN, comparisons.get(ANN, comparison.id)))
    opened = chat.open_conversation(store, ANN, sent)
    exported = export_json(opened.conversation, store.all_messages(ANN, sent))
    link = ShareLinks(store).share(ANN, sent)

    def then_answer(cid: str, change: Callable[[chat.OpenChat], None]) -> None:
        opened = chat.open_conversation(store, ANN, cid)
        admission = service.admit(ANN, bots=(opened.conversation.bot_slug,))
        change(opened)
        service.start(ANN, cid, admission=admission)

    def edit(opened: chat.OpenChat) -> None:
        prompt = chat.last_prompt(opened)
        assert prompt is not None
        versions.edit_prompt(store, ANN, opened, prompt.id, "Name a fruit")

    def new_chat() -> None:
        # A crafted widget event: a new chat of a bot the picker does not offer.
        service.admit(ANN, bots=("omni",))

    def imported() -> None:
        cid = store.import_conversation(ANN, exported).id
        service.submit(ANN, cid, "Go on?")

    def copied_share() -> None:
        cid = ShareLinks(store).copy_into(ANN, link.token).id
        service.submit(ANN, cid, "Go on?")

    return {
        "send": lambda: service.submit(ANN, sent, "And another?"),
        "new chat": new_chat,
        "retry": lambda: then_answer(retry, lambda o: changes.prepare_retry(store, ANN, o)),
        "regenerate": lambda: then_answer(
            sent, lambda o: changes.prepare_regenerate(store, ANN, o)
        ),
        "edit": lambda: then_answer(sent, edit),
        "answer it": lambda: service.start(ANN, unanswered),
        "send queued now": lambda: service.start(
            ANN, typed_ahead, admission=service.admit(ANN, queued=True)
        ),
        "imported": imported,
        "copied share": copied_share,
        "compare": lambda: run.start(comparisons, service, ANN, TWO, options, "Bread?"),
        "compare follow-up": lambda: run.send(
            service, ANN, comparisons.get(ANN, comparison.id), "And cheese?"
        ),
        "compare retry": lambda: run.retry(service, ANN, column),
    }
