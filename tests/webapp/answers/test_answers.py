# ruff: noqa: F811  (the answer-service fixtures are imported from answer_helpers)
"""webapp.answers: answers generated in the background, followed, stopped, settled.

Against the emulator over loopback and a real database (a SQLite file, and
PostgreSQL when ABLT_TEST_PG_URL is set). Races are driven with events and
bounded waits for a state, never with a timed assertion.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle, Fault
from tests.reliability import row
from tests.webapp.answer_helpers import (  # noqa: F401  (fixtures)
    ANN,
    NO_CAP,
    SETTLE,
    chat_requests,
    conversation,
    db_url,
    finished,
    make_service,
    messages,
    service,
    store,
    until,
)
from webapp.answers import AnswerService, Wait, describe_wait
from webapp.answers.live import LiveAnswer
from webapp.chat import changes
from webapp.chat import open_chat as chat
from webapp.conversations.store import DEAD_WORKER_ERROR, ConversationStore

# -- the basics --------------------------------------------------------------------


def test_a_sent_prompt_is_answered_in_the_background_and_saved_complete(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    cid = conversation(store)
    sent = service.submit(ANN, cid, "  Which fern likes shade?  ")
    assert not sent.queued and sent.answer_id
    # Another reader follows it from the start: text so far, then the rest live.
    shown = "".join(service.follow(ANN, sent.answer_id))
    finished(service, sent.answer_id)
    (prompt, answer) = store.all_messages(ANN, cid)
    assert (prompt.role, prompt.text) == ("user", "Which fern likes shade?")
    assert (answer.role, answer.status) == ("assistant", "complete")
    assert "\u201cWhich fern likes shade?\u201d" in answer.text
    assert shown == answer.text
    assert chat_requests(emulator)[0].json["messages"][-1]["content"] == prompt.text


@row(
    "Stop while the API is slow to send its first byte",
    happens="The request is cancelled at once; the connection is closed.",
    sees="The answer settles as stopped at once; Regenerate and Edit show.",
    kept="The prompt; the (empty) answer, saved stopped, in the next context.",
)
def test_stop_during_a_slow_first_byte_cancels_the_request_at_once(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=60))
    cid = conversation(store)
    sent = service.submit(ANN, cid, "Are you there?")
    assert sent.answer_id
    until(lambda: chat_requests(emulator))
    live = service.live(sent.answer_id)
    assert live is not None and live.wait is not None and live.wait.kind == "first_byte"

    assert service.stop(ANN, sent.answer_id, keep_chars=0)
    # Saved before stop() returned; the emulator saw the client hang up.
    assert messages(store, cid)[-1] == ("assistant", "", "stopped")
    until(lambda: chat_requests(emulator)[0].closed_early)


def test_the_saved_text_after_stop_is_exactly_what_the_member_saw(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.set_delay(0.05)
    cid = conversation(store)
    sent = service.submit(ANN, cid, "Tell me a long story")
    assert sent.answer_id
    seen = ""
    for piece in service.follow(ANN, sent.answer_id):
        seen += piece
        if len(seen) > 40:
            break  # the page stops reading here: this is what is on screen
    time.sleep(0.2)  # more pieces arrive in the worker meanwhile
    assert service.stop(ANN, sent.answer_id, keep_chars=len(seen))
    assert messages(store, cid)[-1] == ("assistant", seen, "stopped")
    # The stopped exchange is context for the next prompt.
    next_answer = service.submit(ANN, cid, "Go on")
    finished(service, next_answer.answer_id)
    sent_context = chat_requests(emulator)[-1].json["messages"]
    assert {"role": "assistant", "content": seen} in sent_context


def test_an_answer_goes_on_when_every_reader_goes_away(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.set_delay(0.01)
    cid = conversation(store)
    sent = service.submit(ANN, cid, "Keep going")
    assert sent.answer_id
    reader = service.follow(ANN, sent.answer_id)
    next(reader)
    reader.close()  # a rerun, a page switch, a closed tab
    finished(service, sent.answer_id)
    assert messages(store, cid)[-1][2] == "complete"


# -- issue 13.1: heartbeat whatever it waits for -------------------------------------


@row(
    "A second tab opens the conversation while the answer waits for a slow first byte",
    happens="The worker's heartbeat goes on while it waits; the answer is not taken for dead.",
    sees="Both tabs show the answer arriving, then complete.",
    kept="The whole answer, saved complete.",
)
def test_a_slow_first_byte_keeps_the_heartbeat_so_another_tab_never_marks_it_dead(
    make_service: Callable[..., AnswerService], store: ConversationStore, emulator: EmulatorHandle
) -> None:
    # Heartbeats every 0.1 s, taken for dead after 1.5 s of silence (a margin a
    # busy machine's database keeps), while the first byte takes twice that.
    generating = make_service(idle_after=timedelta(seconds=1.5))
    other_tab = make_service(own_store=True, idle_after=timedelta(seconds=1.5))
    emulator.inject(Fault(kind="slow_first_byte", seconds=3))
    cid = conversation(store)
    sent = generating.submit(ANN, cid, "Slow one?")
    assert sent.answer_id
    live = generating.live(sent.answer_id)
    assert live is not None
    while not live.done:  # the other tab opens the conversation again and again
        assert other_tab.settle(ANN, cid) == 0
        time.sleep(0.05)
    assert messages(store, cid)[-1][2] == "complete"
    assert "Slow one?" in messages(store, cid)[-1][1]


def test_an_answer_wrongly_taken_for_dead_is_still_saved_when_it_finishes(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.set_delay(0.02)
    cid = conversation(store)
    sent = service.submit(ANN, cid, "Survive this")
    assert sent.answer_id
    # A stalled database kept its heartbeat from landing: another process settled it.
    store.settle_stale(ANN, cid, timedelta(0))
    assert messages(store, cid)[-1][2] == "interrupted"
    finished(service, sent.answer_id)
    (_, text, status) = messages(store, cid)[-1]
    assert status == "complete" and "Survive this" in text


# -- issue 13.2: two tabs sending into one conversation -------------------------------


@row(
    "Two tabs send into one conversation before the first answer starts",
    happens="The second prompt is queued in the database behind the first answer.",
    sees="Each prompt gets its own answer, in order; the second shows as queued meanwhile.",
    kept="Both prompts and both answers; each answer records the prompt it answers.",
)
@pytest.mark.parametrize("first,second", [("apples?", "bananas?"), ("Qu'est-ce?", "¿Y esto?")])
def test_two_tabs_sending_into_one_conversation_get_one_answer_each_in_order(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    first: str,
    second: str,
) -> None:
    tab_a = make_service()
    tab_b = make_service(own_store=True)  # another app process, even
    emulator.inject(Fault(kind="slow_first_byte", seconds=0.5))
    cid = conversation(store)
    barrier = threading.Barrier(2)
    results = {}

    def send(name: str, service: AnswerService, text: str) -> None:
        barrier.wait()
        results[name] = service.submit(ANN, cid, text)

    threads = [
        threading.Thread(target=send, args=("a", tab_a, first)),
        threading.Thread(target=send, args=("b", tab_b, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Exactly one started at once; the other waits in the queue.
    assert sorted(r.queued for r in results.values()) == [False, True]
    until(
        lambda: len(store.all_messages(ANN, cid)) == 4 and messages(store, cid)[-1][2] == "complete"
    )
    rows = store.all_messages(ANN, cid)
    assert [m.role for m in rows] == ["user", "assistant", "user", "assistant"]
    for prompt, answer in ((rows[0], rows[1]), (rows[2], rows[3])):
        assert answer.status == "complete"
        assert f"\u201c{prompt.text}\u201d" in answer.text  # answers its own prompt
    assert store.queued_prompts(ANN, cid) == []
    # The second answer's request carried the first exchange as context.
    last_context = chat_requests(emulator)[-1].json["messages"]
    assert [m["content"] for m in last_context][:2] == [rows[0].text, rows[1].text]


def test_a_prompt_typed_ahead_is_queued_cancellable_and_answered_after(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.set_delay(0.02)
    cid = conversation(store)
    first = service.submit(ANN, cid, "One")
    queued = service.submit(ANN, cid, "Two")
    dropped = service.submit(ANN, cid, "Never mind")
    assert queued.queued and dropped.queued
    waiting = store.queued_prompts(ANN, cid)
    assert [q.text for q in waiting] == ["Two", "Never mind"]
    assert service.cancel_queued(ANN, waiting[1].id)
    finished(service, first.answer_id)
    until(
        lambda: (
            [m[0] for m in messages(store, cid)] == ["user", "assistant"] * 2
            and messages(store, cid)[-1][2] == "complete"
        )
    )
    assert [m[1] for m in messages(store, cid)][::2] == ["One", "Two"]


# -- issue 13.5: waiting that says what it waits for -------------------------------


@row(
    "The API rate limits with Retry-After: 3600",
    happens="No retry is slept through: the wait is over a minute.",
    sees="At once: 'rate limiting requests. Try again in 3600 seconds' with Retry.",
    kept="The prompt; the answer saved as an error with that reason.",
)
def test_a_retry_after_over_a_minute_is_shown_at_once_with_retry(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=3600, times=3))
    cid = conversation(store)
    sent = service.submit(ANN, cid, "Now?")
    finished(service, sent.answer_id)
    answer = store.all_messages(ANN, cid)[-1]
    assert answer.status == "error"
    assert answer.error and "3600 seconds" in answer.error
    assert len(chat_requests(emulator)) == 1  # asked once, not three times


@row(
    "The API rate limits with a short Retry-After (or is slow to answer)",
    happens="The worker waits and retries; its heartbeat goes on.",
    sees="'Rate limited by the aBLT API, retrying in 30 s' (or 'The aBLT API is slow to "
    "answer, still waiting (35 s)') and a Stop that works at once.",
    kept="The prompt; the answer once it comes.",
)
def test_a_short_rate_limit_says_what_it_waits_for_and_stop_ends_the_wait_at_once(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=30, times=1))
    cid = conversation(store)
    sent = service.submit(ANN, cid, "Wait for it")
    assert sent.answer_id
    live = service.live(sent.answer_id)
    assert live is not None
    until(lambda: live.wait is not None and live.wait.kind == "retry")
    assert live.wait is not None
    note = describe_wait(live.wait, "Omni", now=live.wait.since)
    assert note == "Rate limited by the aBLT API, retrying in 30 s."
    # Another process following it reads the same wait from the database.
    until(lambda: Wait.from_json(store.answer_row(ANN, sent.answer_id).waiting) == live.wait)  # type: ignore[union-attr]
    assert service.stop(ANN, sent.answer_id)
    assert messages(store, cid)[-1][2] == "stopped"
    assert len(chat_requests(emulator)) == 1  # the retry was never made


def test_describe_wait_words() -> None:
    assert describe_wait(Wait("first_byte", since=100.0), "Omni", now=102.0) == "Omni is thinking…"
    assert describe_wait(Wait("first_byte", since=100.0), "Omni", now=135.4) == (
        "The aBLT API is slow to answer, still waiting (35 s)."
    )
    slot = describe_wait(Wait("slot", since=0.0, ahead=2), "Omni", now=1.0)
    assert "free answer slot" in slot and "API" not in slot  # our queue, not the API's fault
    assert Wait.from_json("{broken") is None and Wait.from_json(None) is None


# -- issue 13.6: our own queue is not the API's fault ----------------------------------


@row(
    "More prompts at once than the process's worker cap (ABLT_MAX_WORKERS)",
    happens="The extra answers wait for a free slot; the HTTP pool is sized to the cap.",
    sees="'Waiting for a free answer slot…' (never 'the API took too long').",
    kept="Every prompt; every answer, complete.",
)
@pytest.mark.parametrize("cap,count", [(1, 3), (2, 5)])
def test_answers_beyond_the_worker_cap_wait_for_a_slot_and_all_complete(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    cap: int,
    count: int,
) -> None:
    service = make_service(max_workers=cap)
    # The first answers hold every slot until the API's first byte comes.
    emulator.inject(Fault(kind="slow_first_byte", seconds=5, times=cap))
    chats = [conversation(store) for _ in range(count)]
    sent = [service.submit(ANN, cid, f"Question {n}") for n, cid in enumerate(chats)]

    def kinds() -> list[str | None]:
        waits = [service.live(s.answer_id).wait for s in sent]  # type: ignore[arg-type,union-attr]
        return [w.kind if w else None for w in waits]

    until(lambda: kinds().count("slot") == count - cap and len(chat_requests(emulator)) == cap)
    assert kinds().count("first_byte") == cap  # never more requests than slots
    for s in sent:
        finished(service, s.answer_id)
    for n, cid in enumerate(chats):
        (_, text, status) = messages(store, cid)[-1]
        assert status == "complete" and f"Question {n}" in text


# -- other processes -------------------------------------------------------------------


def test_another_process_follows_an_answer_through_the_database_and_can_stop_it(
    make_service: Callable[..., AnswerService], store: ConversationStore, emulator: EmulatorHandle
) -> None:
    process_a = make_service()
    process_b = make_service(own_store=True)
    emulator.set_delay(0.03)
    cid = conversation(store)
    sent = process_a.submit(ANN, cid, "Follow me")
    assert sent.answer_id and process_b.live(sent.answer_id) is None
    followed = ""
    for piece in process_b.follow(ANN, sent.answer_id, follow_every=0.05):
        followed += piece
        if len(followed) > 30:
            break
    assert process_b.stop(ANN, sent.answer_id, keep_chars=len(followed))
    live = process_a.live(sent.answer_id)
    if live is not None:
        assert live.wait_done(SETTLE)  # A's worker saw the Stop at its next save
    assert messages(store, cid)[-1] == ("assistant", followed, "stopped")
    until(lambda: chat_requests(emulator)[0].closed_early)


@row(
    "The app process is killed (kill -9) mid-answer",
    happens="Its heartbeat stops; the answer is found silent when the conversation is next opened.",
    sees="The part received, 'interrupted': the app server generating it stopped, with Retry.",
    kept="The prompt and the text saved up to a second before the kill.",
)
def test_an_answer_whose_process_died_is_settled_interrupted_with_retry(
    service: AnswerService, store: ConversationStore
) -> None:
    cid = conversation(store)
    store.enqueue_prompt(ANN, cid, "Still there?")
    claim = store.claim_next(ANN, cid)  # as a worker on a process that then died
    assert claim is not None
    store.save_progress(ANN, claim.answer.id, "Half an ans")
    assert service.settle(ANN, cid) == 0  # a fresh heartbeat: alive
    fresh = AnswerService(
        store,
        lambda: AsyncAbltClient("t", "http://127.0.0.1:9"),
        limits=NO_CAP,
        idle_after=timedelta(0),
    )
    try:
        assert fresh.settle(ANN, cid) == 1
    finally:
        fresh.close()
    answer = store.all_messages(ANN, cid)[-1]
    assert (answer.text, answer.status, answer.error) == (
        "Half an ans",
        "interrupted",
        DEAD_WORKER_ERROR,
    )
    opened = chat.open_conversation(store, ANN, cid)
    assert chat.can_retry(opened)


# -- the request, and failures of the API --------------------------------------------


def test_the_request_carries_the_options_and_the_context_up_to_its_prompt(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    from webapp.conversations.context import ConversationOptions

    options = ConversationOptions(
        language="French", max_words=150, use_search=True, system_instruction="Be a pirate."
    )
    cid = store.create_conversation(ANN, "omni", "Omni", options).id
    store.append_message(ANN, cid, "assistant", "Ahoy!")
    finished(service, service.submit(ANN, cid, "How do I boil an egg?").answer_id)
    body = chat_requests(emulator)[-1].json
    assert body["bot_slug"] == "omni" and body["stream"] is True and body["user_id"] == 42
    assert (body["language"], body["max_words"], body["use_search"]) == ("French", 150, True)
    assert body["messages"] == [
        {"role": "system", "content": "Be a pirate."},
        {"role": "assistant", "content": "Ahoy!"},
        {"role": "user", "content": "How do I boil an egg?"},
    ]


@row(
    "The API drops the stream mid-answer",
    happens="The worker ends the answer as interrupted with the reason.",
    sees="The part received, 'cut off before it finished', and Retry.",
    kept="The prompt and every piece received.",
)
def test_a_dropped_stream_keeps_the_part_received_with_retry(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=3))
    cid = conversation(store)
    sent = service.submit(ANN, cid, "Tell me")
    shown = "".join(service.follow(ANN, sent.answer_id))  # type: ignore[arg-type]
    answer = store.all_messages(ANN, cid)[-1]
    assert answer.status == "interrupted" and answer.text == shown and shown
    assert "cut off" in (answer.error or "")
    opened = chat.open_conversation(store, ANN, cid)
    assert chat.can_retry(opened)
    changes.prepare_retry(store, ANN, opened)
    finished(service, service.start(ANN, cid))
    assert messages(store, cid)[-1][2] == "complete"


# -- issue 13.4: a database that refuses writes ----------------------------------------


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[ConversationStore], None]:
    """Make a store's writes fail as SQLite's do on a full disk (reads still work)."""
    import sqlalchemy as sa
    from sqlalchemy.exc import OperationalError

    def fill(target: ConversationStore) -> None:
        @sa.event.listens_for(target.engine, "before_cursor_execute")
        def refuse(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                raise OperationalError(statement, parameters, Exception("database or disk is full"))

    return fill


@row(
    "The disk fills up while an answer streams",
    happens="The worker's saves fail (logged); streaming goes on; settling on open fails too.",
    sees="The conversation, readable, with a plain note: the database is not accepting changes.",
    kept="Everything saved before the disk filled; the answer still on screen.",
)
@pytest.mark.parametrize("cause", ["full disk while streaming", "full disk on reopen only"])
def test_a_full_disk_keeps_the_conversation_readable_with_a_plain_message(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    full_disk: Callable[[ConversationStore], None],
    cause: str,
) -> None:
    cid = conversation(store)
    store.append_message(ANN, cid, "user", "Earlier question")
    store.append_message(ANN, cid, "assistant", "Earlier answer")
    reader = ConversationStore(store.url)  # the page's process
    try:
        if cause == "full disk while streaming":
            service = make_service(idle_after=timedelta(0), save_retry_pause=0.01)
            emulator.set_delay(0.02)
            sent = service.submit(ANN, cid, "Long one")
            full_disk(store)  # from now on nothing lands
            shown = "".join(service.follow(ANN, sent.answer_id))  # type: ignore[arg-type]
            assert shown  # the member still read the whole answer
        else:
            store.enqueue_prompt(ANN, cid, "Will it settle?")
            store.claim_next(ANN, cid)
        full_disk(reader)
        opened = chat.OpenChat(conversation=reader.get_conversation(ANN, cid))
        chat.refresh(reader, ANN, opened)
        assert opened.problem == chat.DATABASE_READ_ONLY
        texts = [m.text for m in opened.messages]
        assert texts[:2] == ["Earlier question", "Earlier answer"]
    finally:
        reader.close()


def test_an_api_that_never_starts_answering_is_not_blamed_on_the_answer_length(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    test_token: str,
) -> None:
    from webapp.answers.service import FIRST_BYTE_TIMEOUT

    service = AnswerService(
        store,
        lambda: AsyncAbltClient(test_token, emulator.base_url, timeout=0.3, max_retries=1),
        limits=NO_CAP,
    )
    try:
        emulator.inject(Fault(kind="slow_first_byte", seconds=2, times=2))
        cid = conversation(store)
        finished(service, service.submit(ANN, cid, "Hello?").answer_id)
        answer = store.all_messages(ANN, cid)[-1]
        assert (answer.status, answer.error) == ("error", FIRST_BYTE_TIMEOUT)
        assert "fewer words" not in FIRST_BYTE_TIMEOUT
    finally:
        service.close()


@row(
    "The API's stream is only [DONE]: an empty answer",
    happens="The worker ends the answer as an error, not as a complete empty bubble.",
    sees="'The bot sent an empty answer. Retry to ask again.' with Retry.",
    kept="The prompt.",
)
def test_an_empty_answer_is_a_failure_with_retry(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="empty_answer"))
    cid = conversation(store)
    finished(service, service.submit(ANN, cid, "Anything?").answer_id)
    answer = store.all_messages(ANN, cid)[-1]
    assert (answer.status, answer.text, answer.error) == ("error", "", chat.EMPTY_ANSWER)
    opened = chat.open_conversation(store, ANN, cid)
    assert chat.can_retry(opened) and not chat.can_regenerate(opened)


def test_split_surrogate_halves_are_saved_as_one_emoji(
    service: AnswerService, store: ConversationStore, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="split_surrogate"))
    cid = conversation(store)
    finished(service, service.submit(ANN, cid, "Smile?").answer_id)
    assert messages(store, cid)[-1] == ("assistant", "Smile \U0001f600 done", "complete")


def test_an_answer_is_thinking_until_its_first_words_even_before_its_request_is_sent() -> None:
    # A page can attach before the worker has sent the request (a busy machine):
    # it must not say the bot is writing while no word has come.
    live = LiveAnswer("m1", "c1", "ann")
    assert describe_wait(live.wait, "Omni") == "Omni is thinking…"
    live.append("Hello")
    assert describe_wait(live.wait, "Omni") == "Omni is writing…"


def test_streamlit_still_exposes_what_a_click_during_an_answer_relies_on() -> None:
    # answers.view.yield_to_waiting_click reads a pending rerun from Streamlit's
    # private ScriptRequests state; a Streamlit upgrade that renames it would
    # leave Stop waiting for the whole answer, so it fails here first.
    from streamlit.runtime.scriptrunner_utils.script_requests import (
        RerunData,
        ScriptRequests,
        ScriptRequestType,
    )

    requests = ScriptRequests()

    def state() -> ScriptRequestType:
        return requests._state

    assert state() is ScriptRequestType.CONTINUE
    requests.request_rerun(RerunData(fragment_id="conversation"))
    assert state() is ScriptRequestType.RERUN
    # A fragment's own rerun does not preempt the run in progress: why the check exists.
    assert requests.on_scriptrunner_yield() is None
