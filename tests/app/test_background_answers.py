"""The chat page with answers generated in the background (issue 8, issue 13).

A person's mid-answer actions are driven deterministically from inside the
run that shows the answer: `show_stream` (the page's one place that streams)
is wrapped to act after a given number of pieces, the way Streamlit acts on a
click made then: the run is stopped (the person clicked elsewhere, reloaded,
closed the tab) or rerun (the login cookie's late report). The emulator
streams slowly enough that the answer is still generating at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import EmulatorHandle, Fault
from tests.reliability import row
from tests.shown import shown
from webapp import backend, render
from webapp.chat import answer_view as answers_view
from webapp.chat import open_chat as chat
from webapp.conversations.store import ConversationStore
from webapp.ui.state import Keys

pytestmark = pytest.mark.usefixtures("demo_env", "slow")

SLOW = 0.03  # seconds between the emulator's pieces: an answer takes a few seconds


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo emulator streams slowly (the app sets its pace from the settings)."""
    monkeypatch.setenv("ABLT_EMULATOR_DELAY", str(SLOW))


def emulator() -> EmulatorHandle:
    handle = backend.demo_emulator()
    assert handle is not None
    return handle


def chat_requests() -> list[Any]:
    return [r for r in emulator().requests if r.path == "/v1/chat"]


def opened(at: AppTest) -> chat.OpenChat:
    return at.session_state[Keys.CHAT_OPEN]


def answers_service() -> Any:
    from webapp.answers import service

    (only,) = list(service.OPEN_SERVICES)
    return only


def act_mid_answer(
    monkeypatch: pytest.MonkeyPatch, after: int, action: str, seen: list[str] | None = None
) -> None:
    """The next answer shown: after `after` pieces, `action` happens to the run.

    "stop": the run ends there (a click elsewhere, a reload, a closed tab);
    "rerun": the run is rerun (the login cookie component's late report).
    `seen` collects the pieces the page drew before that.
    """
    real = answers_view.show_stream
    drawn = seen if seen is not None else []

    def act() -> None:
        ctx = get_script_run_ctx()
        assert ctx is not None
        if action == "stop":
            ctx.script_requests.request_stop()
        else:
            ctx.script_requests.request_rerun(
                RerunData(query_string=ctx.query_string, page_script_hash=ctx.page_script_hash)
            )

    def acting(pieces: Iterable[str], *args: Any) -> None:
        monkeypatch.setattr(answers_view, "show_stream", real)  # this answer only
        if after == 0:
            act()  # before any text: handled at the page's next update

        def counted() -> Iterator[str]:
            for index, piece in enumerate(pieces):
                if index == after and after:
                    act()
                yield piece
                drawn.append(piece)  # on screen: Streamlit sent it and asked for more

        real(counted(), *args)

    monkeypatch.setattr(answers_view, "show_stream", acting)


def until_settled(answer_id: str) -> None:
    live = answers_service().live(answer_id)
    if live is not None:
        assert live.wait_done(30), "the answer did not finish"


def until(condition: Callable[[], object], timeout: float = 30) -> None:
    """A bounded wait for a state (never a timed assertion)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the expected state was not reached"
        time.sleep(0.01)


def stored_last(store: ConversationStore, at: AppTest) -> Any:
    return store.all_messages(at.session_state[Keys.MEMBER], opened(at).id)[-1]


def last_bubble_text(at: AppTest) -> str:
    """The text the last bubble shows (its answer blocks, without the status line)."""
    return shown(m.value for m in at.chat_message[-1].markdown if "<" in m.value)


def as_shown(text: str) -> str:
    """What a bubble shows for this saved text."""
    return shown(render.answer_blocks(text))


# -- issue 8 ---------------------------------------------------------------------


@row(
    "Switching to another conversation in History while an answer streams",
    happens="The page detaches; the worker goes on and saves the answer.",
    sees="Back in the conversation: the whole answer, complete.",
    kept="The whole answer.",
)
def test_switching_chat_mid_answer_and_back_shows_it_complete(
    logged_in: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    other = app_store.create_conversation(member, "omni", "Omni", title="Another chat")
    at.run()
    # The chat is drawn before the sidebar (its first words come first), so a run
    # cut mid-answer has not drawn the sidebar again: the browser still shows the
    # last run's History, and that row is the one clicked.
    other_row = at.sidebar.button(key=f"chat_open_{other.id}")
    act_mid_answer(monkeypatch, after=3, action="stop")
    at.chat_input[0].set_value("Tell me about tides").run()
    first = opened(at)
    answer = stored_last(app_store, at)
    assert answer.status == "streaming"  # cut from the page, not from the server

    other_row.click().run()  # the person looks elsewhere
    assert opened(at).id == other.id and not at.exception
    until_settled(answer.id)
    at.button(key=f"chat_open_{first.id}").click().run()
    assert opened(at).id == first.id
    done = stored_last(app_store, at)
    assert done.status == "complete" and "Tell me about tides" in done.text
    assert last_bubble_text(at) == as_shown(done.text)
    assert {"Regenerate", "Edit last message"} <= {b.label for b in at.button}


@row(
    "Switching to another page (Statistics) while an answer streams",
    happens="The page detaches; the worker goes on.",
    sees="Back on Chat: the answer, live if still arriving, then complete (never 'Stopped').",
    kept="The whole answer.",
)
def test_switching_page_mid_answer_and_back_shows_it_complete(
    logged_in: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
) -> None:
    at = logged_in()
    act_mid_answer(monkeypatch, after=2, action="stop")
    at.chat_input[0].set_value("What is a neap tide?").run()
    answer = stored_last(app_store, at)
    at.switch_page("views/statistics.py").run()
    assert not at.exception
    at.switch_page("views/chat.py").run()  # reattaches, follows to the end
    done = stored_last(app_store, at)
    assert done.id == answer.id and done.status == "complete"
    assert last_bubble_text(at) == as_shown(done.text)
    assert not any("Stopped" in c.value for c in at.caption)


@row(
    "Reloading the page (or opening it in a new tab) mid-answer",
    happens="The new session attaches to the answer in progress.",
    sees="The text so far at once, then the rest live, then complete.",
    kept="The whole answer.",
)
def test_a_reload_mid_answer_reattaches_and_completes(
    logged_in: Callable[[str], AppTest],
    new_app: Callable[[], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
) -> None:
    at = logged_in()
    seen: list[str] = []
    act_mid_answer(monkeypatch, after=4, action="stop", seen=seen)
    at.chat_input[0].set_value("Why is the sea salty?").run()
    conversation_id = opened(at).id

    again = logged_in()  # the reload: a new session of the same member
    followed: list[str] = []
    act_mid_answer(monkeypatch, after=10_000, action="none", seen=followed)
    again.query_params[chat.OPEN_PARAM] = conversation_id
    again.run()
    done = stored_last(app_store, again)
    assert done.status == "complete" and opened(again).id == conversation_id
    # It showed what had arrived at once (one piece), then the rest.
    assert "".join(followed) == done.text and len(followed[0]) >= len("".join(seen[:4]))
    assert last_bubble_text(again) == as_shown(done.text)


@row(
    "A rerun forced mid-answer (the login cookie component's late report)",
    happens="The run restarts; the answer is not touched.",
    sees="The answer goes on streaming to its end; never 'Stopped'.",
    kept="The whole answer, saved complete.",
)
def test_a_rerun_forced_mid_answer_leaves_it_streaming_to_completion(
    logged_in: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
) -> None:
    at = logged_in()
    act_mid_answer(monkeypatch, after=3, action="rerun")
    at.chat_input[0].set_value("Describe a rock pool").run()
    done = stored_last(app_store, at)
    assert done.status == "complete" and "Describe a rock pool" in done.text
    assert last_bubble_text(at) == as_shown(done.text)
    assert len(chat_requests()) == 1  # one answer, not asked twice


@row(
    "Stop pressed while the answer streams",
    happens="The worker is cancelled at once; its connection closes.",
    sees="The part shown, 'Stopped', Regenerate / Edit, Export, at once; after a reload too.",
    kept="Exactly the text on screen at Stop, saved 'stopped', in the next prompt's context.",
)
def test_stop_keeps_what_was_on_screen_and_the_page_settles_at_once(
    logged_in: Callable[[str], AppTest],
    new_app: Callable[[], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
) -> None:
    at = logged_in()
    act_mid_answer(monkeypatch, after=5, action="stop")
    at.chat_input[0].set_value("Write me a poem").run()
    on_screen = last_bubble_text(at)  # the page as the browser has it when Stop is pressed
    answer = stored_last(app_store, at)
    assert answer.status == "streaming" and on_screen

    at.button(key="chat_stop").click().run()
    stopped = stored_last(app_store, at)
    assert (stopped.id, stopped.status) == (answer.id, "stopped")
    assert as_shown(stopped.text) == on_screen  # saved exactly what was on screen
    assert last_bubble_text(at) == on_screen
    assert any("Stopped" in c.value for c in at.caption)
    assert {"Regenerate", "Edit last message"} <= {b.label for b in at.button}
    assert at.get("popover") and not at.error  # Export; a stop is no error
    until(lambda: chat_requests()[-1].closed_early)  # the API's connection was closed

    reloaded = logged_in()
    reloaded.query_params[chat.OPEN_PARAM] = opened(at).id
    reloaded.run()
    assert opened(reloaded).last.status == "stopped" and not reloaded.error
    reloaded.chat_input[0].set_value("Go on").run()
    context = chat_requests()[-1].json["messages"]
    assert context[-2:] == [
        {"role": "assistant", "content": stopped.text},
        {"role": "user", "content": "Go on"},
    ]


@row(
    "A prompt typed while an answer streams (type-ahead)",
    happens="It is saved at once and queued behind the answer in progress.",
    sees="The prompt marked 'Queued' with Cancel; then its own answer, after the first.",
    kept="Both prompts and both answers, in order.",
)
def test_a_prompt_typed_ahead_is_queued_then_answered_in_order(
    logged_in: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
) -> None:
    at = logged_in()
    act_mid_answer(monkeypatch, after=2, action="stop")
    at.chat_input[0].set_value("First: what is a wave?").run()
    # The message box is usable meanwhile: the next prompt goes now.
    at.chat_input[0].set_value("Second: and a swell?").run()
    member = at.session_state[Keys.MEMBER]
    rows = app_store.all_messages(member, opened(at).id)
    assert [(m.role, m.status) for m in rows][-4:] == [
        ("user", "complete"),
        ("assistant", "complete"),
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert "First: what is a wave?" in rows[-3].text and "Second: and a swell?" in rows[-1].text
    assert rows[-2].text == "Second: and a swell?"


def test_a_queued_prompt_shows_as_queued_and_can_be_cancelled(
    logged_in: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
) -> None:
    at = logged_in()
    emulator().inject(Fault(kind="slow_first_byte", seconds=30))
    act_mid_answer(monkeypatch, after=0, action="stop")
    at.chat_input[0].set_value("Slow first").run()
    member = at.session_state[Keys.MEMBER]
    answers_service().submit(member, opened(at).id, "Never mind this one")
    # The page, reopened meanwhile: the answer in progress, the queued prompt below it.
    act_mid_answer(monkeypatch, after=0, action="stop")
    at.run()
    assert any("Queued" in c.value for c in at.caption)
    (queued,) = app_store.queued_prompts(member, opened(at).id)
    at.button(key=f"chat_queued_cancel_{queued.id}").click()
    act_mid_answer(monkeypatch, after=0, action="stop")
    at.run()
    assert app_store.queued_prompts(member, opened(at).id) == []


# -- issue 13 --------------------------------------------------------------------


@row(
    "A prompt sent the moment the page appears, then a rerun before the send run draws",
    happens="The message box's own callback saved the prompt and started its answer first.",
    sees="The prompt and its answer; 'Stopped' appears only if someone pressed Stop.",
    kept="The prompt and the whole answer.",
)
@pytest.mark.parametrize("rerun_at", ["history", "options"])
def test_a_prompt_survives_a_rerun_that_comes_before_the_send_run_draws_it(
    logged_in: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
    rerun_at: str,
) -> None:
    from webapp.chat import header as chat_header
    from webapp.history import sidebar

    at = logged_in()
    module, target = (
        (sidebar, "render_history") if rerun_at == "history" else (chat_header, "render_options")
    )
    real = getattr(module, target)

    def late_cookie(*args: Any) -> Any:
        monkeypatch.setattr(module, target, real)  # once
        ctx = get_script_run_ctx()
        assert ctx is not None
        ctx.script_requests.request_rerun(
            RerunData(query_string=ctx.query_string, page_script_hash=ctx.page_script_hash)
        )
        return real(*args)

    monkeypatch.setattr(module, target, late_cookie)
    at.chat_input[0].set_value("Sent right after login").run()
    rows = app_store.all_messages(at.session_state[Keys.MEMBER], opened(at).id)
    assert [m.text for m in rows if m.role == "user"] == ["Sent right after login"]
    assert rows[-1].status == "complete"
    assert not any("Stopped" in c.value for c in at.caption)


@row(
    "The API is down when the app starts (or the bot list's cache expires in an outage)",
    happens="The bot list cannot be loaded; nothing else needs it.",
    sees="A plain message with Retry; History, opening, search and export all work.",
    kept="Every conversation; sending is refused with a plain message until the API is back.",
)
@pytest.mark.parametrize("when", ["at start", "cache expires in an outage"])
def test_with_the_api_down_history_reading_search_and_export_still_work(
    logged_in: Callable[[str], AppTest],
    new_app: Callable[[], AppTest],
    app_store: ConversationStore,
    when: str,
) -> None:
    from webapp.bots import catalogue

    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    conv = app_store.create_conversation(member, "omni", "Omni")
    app_store.append_message(member, conv.id, "user", "Where do puffins nest?")
    app_store.append_message(member, conv.id, "assistant", "On cliff tops.")
    emulator().inject(Fault(kind="server_error", status=503, times=None, path="/v1/bots"))
    catalogue._cached_bots.clear()  # the cache expires
    if when == "at start":
        from tests.app.conftest import log_in
        from webapp.team import DEMO_PASSWORD

        at = log_in(new_app().run(), "demo-member", DEMO_PASSWORD)
        assert at.info and "Open a conversation from the History" in at.info[0].value
    at.run()
    assert not at.exception
    assert any("sending needs the API" in e.value for e in at.error)
    assert at.button(key=f"chat_open_{conv.id}")  # History is there
    at.button(key=f"chat_open_{conv.id}").click().run()
    assert last_bubble_text(at) == "On cliff tops."
    at.text_input(key=Keys.CHAT_HISTORY_QUERY).input("puffins").run()
    assert at.button(key=f"chat_open_{conv.id}") and not at.exception
    assert at.get("download_button") or at.get("popover")  # Export


@row(
    "The database refuses writes (disk full) when a conversation is opened",
    happens="Settling a dead answer fails; the read still succeeds.",
    sees="The conversation, with 'The conversation database is not accepting changes…'.",
    kept="Everything saved before.",
)
def test_a_full_disk_on_open_shows_the_conversation_with_a_plain_message(
    logged_in: Callable[[str], AppTest],
    app_store: ConversationStore,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.engine import Engine
    from sqlalchemy.exc import OperationalError

    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    past = datetime.now(UTC) - timedelta(minutes=5)
    with ConversationStore(app_store.url, clock=lambda: past) as earlier:
        conv = earlier.create_conversation(member, "omni", "Omni")
        earlier.enqueue_prompt(member, conv.id, "Saved before the disk filled")
        earlier.claim_next(member, conv.id)  # an answer whose process then died
    at.run()

    def refuse(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise OperationalError(statement, {}, Exception("database or disk is full"))

    sa.event.listen(Engine, "before_cursor_execute", refuse)
    try:
        at.button(key=f"chat_open_{conv.id}").click().run()
        assert not at.exception
        assert chat.DATABASE_READ_ONLY in [w.value for w in at.warning]
        texts = [shown(m.value for m in b.markdown) for b in at.chat_message]
        assert "Saved before the disk filled" in texts
        assert any("app server generating it stopped" in e.value for e in at.error)  # + Retry
        # Sending now keeps the text and says why.
        at.chat_input[0].set_value("And now?").run()
        assert not at.exception
        assert any(e.value == chat.PROMPT_NOT_SAVED for e in at.error)
    finally:
        sa.event.remove(Engine, "before_cursor_execute", refuse)
