"""The chat page's state: when the whole page is drawn again (no Streamlit run)."""

from __future__ import annotations

from datetime import UTC, datetime

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
