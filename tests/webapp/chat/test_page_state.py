"""The chat page's state: when the whole page is drawn again (no Streamlit run)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from webapp.chat import open_chat as chat
from webapp.chat import page_state
from webapp.chat.page_state import Action, ChatPageState, View
from webapp.conversations.context import Conversation, ConversationOptions, Message

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def opened_with(conversation_id: str, *statuses: str) -> chat.OpenChat:
    conv = Conversation(
        id=conversation_id,
        owner="ann",
        owner_user_id=1,
        bot_slug="omni",
        bot_name="Omni",
        title="t",
        options=ConversationOptions(),
        created_at=NOW,
        updated_at=NOW,
    )
    messages = [
        Message(
            id=f"m{seq}" if conversation_id else "",
            conversation_id=conversation_id,
            seq=seq,
            role="assistant" if seq % 2 == 0 else "user",
            text="x",
            status=status,
            created_at=NOW,
        )
        for seq, status in enumerate(statuses)
    ]
    return chat.OpenChat(conversation=conv, messages=messages, total=len(messages))


def settled_view(last_id: str = "m2") -> View:
    return View("chat-1", "c1", "settled", last_id)


def test_the_view_names_the_phase() -> None:
    assert page_state.view_of(None) == page_state.NO_VIEW
    draft = opened_with("", "complete")
    assert page_state.view_of(draft).phase == "draft"
    assert page_state.view_of(opened_with("c1", "complete", "complete")).phase == "settled"
    streaming = page_state.view_of(opened_with("c1", "complete", "complete", "streaming"))
    assert streaming.phase == "streaming" and streaming.streaming and streaming.last_id == "m2"


def test_a_conversation_run_shows_what_the_page_was_drawn_for() -> None:
    state = ChatPageState()
    page_state.begin_page_run(state, settled_view())
    assert page_state.take_page_run(state)  # the page's own run of the conversation
    assert not page_state.take_page_run(state)  # the next one is the conversation alone
    assert page_state.conversation_run(state, settled_view()) is Action.SHOW


def test_an_answer_being_written_streams_in_the_conversation_alone() -> None:
    state = ChatPageState()
    page_state.begin_page_run(state, View("chat-1", "", "draft", ""))
    sent = View("chat-1", "c1", "streaming", "m2")  # the draft saved by the send
    assert page_state.conversation_run(state, sent) is Action.STREAM


def test_the_page_catches_up_once_the_conversation_settled_otherwise() -> None:
    state = ChatPageState()
    page_state.begin_page_run(state, View("chat-1", "", "draft", ""))
    # A new chat saved and answered before its run could show it arriving.
    ended = View("chat-1", "c1", "settled", "m2")
    assert page_state.conversation_run(state, ended) is Action.RERUN_PAGE
    page_state.begin_page_run(state, ended)  # the whole page, drawn again
    assert page_state.conversation_run(state, ended) is Action.SHOW


def test_an_answer_that_ended_in_a_saved_chat_reruns_the_page() -> None:
    state = ChatPageState()
    page_state.begin_page_run(state, settled_view("m2"))
    # Sent, answered and settled between two runs of the conversation alone.
    assert page_state.conversation_run(state, settled_view("m4")) is Action.RERUN_PAGE


def test_an_answer_stopped_mid_stream_reruns_the_page() -> None:
    state = ChatPageState()
    page_state.begin_page_run(state, View("chat-1", "c1", "streaming", "m4"))
    stopped = View("chat-1", "c1", "settled", "m4")
    assert page_state.conversation_run(state, stopped) is Action.RERUN_PAGE


def test_the_header_waits_for_the_answer_only_when_it_is_on_screen_already() -> None:
    state = ChatPageState()
    streaming = View("chat-1", "c1", "streaming", "m4")
    assert not page_state.begin_page_run(state, streaming)  # first drawn: header first
    assert page_state.begin_page_run(state, streaming)  # the page again: after the answer
    page_state.left_page(state)  # Statistics, then back to Chat
    assert not page_state.begin_page_run(state, streaming)
    other = View("chat-2", "c2", "streaming", "m9")  # another chat: its header first
    assert not page_state.begin_page_run(state, other)
    assert not page_state.header_last(state, View("chat-2", "c2", "settled", "m9"))


def test_leaving_the_page_forgets_what_it_drew() -> None:
    state = ChatPageState()
    page_state.begin_page_run(state, settled_view())
    page_state.left_page(state)
    assert state.drawn is None and not page_state.take_page_run(state)
    assert page_state.conversation_run(state, settled_view()) is Action.RERUN_PAGE


def test_the_sidebar_comes_first_only_for_an_answer_under_way() -> None:
    assert page_state.sidebar_first(View("chat-1", "c1", "streaming", "m4"))
    assert not page_state.sidebar_first(settled_view())
    assert not page_state.sidebar_first(page_state.NO_VIEW)


def test_stop_keeps_what_this_page_showed_of_that_answer() -> None:
    state = ChatPageState()
    assert page_state.kept_on_stop(state, "a1") is None  # not shown here: all received
    counter = page_state.start_shown(state, "a1")
    counter.chars = 42
    assert page_state.kept_on_stop(state, "a1") == 42
    assert page_state.kept_on_stop(state, "a2") is None


ROW = page_state.HistoryRow("Today", "2026-11-30 12:00 UTC", None)


def drawn_settled(state: ChatPageState, last_id: str = "m2") -> chat.OpenChat:
    """A page run drew the saved conversation settled, its History row first in its group."""
    opened = opened_with("c1", "complete", "complete", "complete")
    page_state.begin_page_run(state, settled_view(last_id), opened.conversation)
    page_state.drew_row(state, ROW)
    return opened


def test_an_answer_that_leaves_the_page_as_drawn_reruns_the_conversation_alone() -> None:
    state = ChatPageState()
    opened = drawn_settled(state)
    assert page_state.after_answer(state, "c1", fragment_run=True) == "fragment"
    # Its row now: the same but for its dates (the row's minute is the same).
    later = replace(opened.conversation, updated_at=NOW + timedelta(seconds=20))
    around = page_state.Around(later, ROW)
    assert page_state.conversation_run(state, settled_view("m4"), lambda: around) is Action.SHOW
    assert state.drawn == settled_view("m4")  # the page is now drawn for it
    assert page_state.conversation_run(state, settled_view("m4")) is Action.SHOW


def test_an_answer_that_changes_the_page_around_reruns_it_whole() -> None:
    state = ChatPageState()
    opened = drawn_settled(state)
    conv = opened.conversation
    changed = [
        page_state.Around(conv, replace(ROW, last_active="2026-11-30 12:01 UTC")),
        page_state.Around(conv, replace(ROW, group="Pinned")),
        page_state.Around(conv, replace(ROW, expiry="Deleted in 3 days unless you open it")),
        page_state.Around(replace(conv, title="Renamed"), ROW),
        page_state.Around(replace(conv, options=ConversationOptions(language="French")), ROW),
    ]
    for around in changed:
        run = page_state.conversation_run(state, settled_view("m4"), lambda a=around: a)
        assert run is Action.RERUN_PAGE, around
        assert state.drawn == settled_view("m2")
    # Not known (an answer that did not complete, a refused read): the page too.
    assert page_state.conversation_run(state, settled_view("m4"), lambda: None) is (
        Action.RERUN_PAGE
    )


def test_the_whole_page_reruns_after_an_answer_unless_drawn_for_it_settled_first_in_history() -> (
    None
):
    state = ChatPageState()
    around = page_state.Around(opened_with("c1", "complete").conversation, ROW)
    # A new chat: its History row, its title and the header's menus appear.
    page_state.begin_page_run(state, View("chat-1", "", "draft", ""))
    assert page_state.after_answer(state, "c1", fragment_run=True) == "app"
    saved = View("chat-1", "c1", "settled", "m2")
    assert page_state.conversation_run(state, saved, lambda: around) is Action.RERUN_PAGE
    # The History did not draw its row first in its group (in a folder, further
    # down, a search shown): it moves, the page reruns.
    page_state.begin_page_run(state, settled_view(), around.conversation)
    assert page_state.after_answer(state, "c1", fragment_run=True) == "app"
    assert page_state.conversation_run(state, settled_view("m4"), lambda: around) is (
        Action.RERUN_PAGE
    )
    # Drawn first, but this run is the whole page's (an answer seen from a reload).
    drawn_settled(state)
    assert page_state.after_answer(state, "c1", fragment_run=False) == "app"
    # Another page drawn since: the chat page is drawn whole again.
    page_state.left_page(state)
    assert page_state.after_answer(state, "c1", fragment_run=True) == "app"
    # Drawn while an answer was being written (it was stopped, or ended).
    page_state.begin_page_run(state, View("chat-1", "c1", "streaming", "m4"), around.conversation)
    page_state.drew_row(state, ROW)
    assert page_state.after_answer(state, "c1", fragment_run=True) == "app"
    stopped = View("chat-1", "c1", "settled", "m4")
    assert page_state.conversation_run(state, stopped, lambda: around) is Action.RERUN_PAGE
