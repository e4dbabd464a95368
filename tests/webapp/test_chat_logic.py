"""webapp.chat: the conversation model, the context sent, and streaming for real."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

import ablt_core._retry
from ablt_core import AbltClient, Bot
from ablt_core.emulator import EmulatorHandle, Fault
from webapp import chat
from webapp.chat import ChatMessage, ChatOptions, Conversation


def make_bot(slug: str = "omni", name: str = "Omni", welcome: str = "Hi!\r\nAsk me.") -> Bot:
    return Bot(
        uid=f"uid-{slug}",
        slug=slug,
        name=name,
        description="",
        welcome_message=welcome,
        model="gpt-4",
        avatar_url=None,
    )


# -- the model ----------------------------------------------------------------


def test_a_new_conversation_opens_with_the_welcome_message() -> None:
    conv = chat.new_conversation(make_bot())
    assert conv.bot_slug == "omni"
    assert [(m.role, m.text, m.status) for m in conv.messages] == [
        ("assistant", "Hi!\nAsk me.", "complete")
    ]
    assert chat.new_conversation(make_bot(welcome="  ")).messages == []


def test_conversations_round_trip_through_json() -> None:
    conv = chat.new_conversation(
        make_bot(), ChatOptions(language="French", max_words=150, use_search=True)
    )
    chat.add_prompt(conv, "Bonjour")
    conv.messages.append(ChatMessage("assistant", "Sal", chat.INTERRUPTED, "cut off"))
    again = Conversation.from_dict(json.loads(json.dumps(conv.to_dict())))
    assert again == conv


def test_prompts_are_trimmed_and_empty_ones_refused() -> None:
    conv = chat.new_conversation(make_bot())
    assert chat.add_prompt(conv, "  hello \n").text == "hello"
    with pytest.raises(ValueError):
        chat.add_prompt(conv, "   ")


def test_context_has_system_first_prompt_last_and_no_failed_answers() -> None:
    conv = chat.new_conversation(make_bot(), ChatOptions(system_instruction="Be terse."))
    chat.add_prompt(conv, "one")
    conv.messages.append(ChatMessage("assistant", "answer one"))
    chat.add_prompt(conv, "two")
    conv.messages.append(ChatMessage("assistant", "half", chat.STOPPED))
    chat.add_prompt(conv, "three")
    conv.messages.append(ChatMessage("assistant", "partial", chat.INTERRUPTED, "cut"))
    conv.messages.append(ChatMessage("assistant", "", chat.ERROR, "rate limited"))
    chat.add_prompt(conv, "four")

    assert chat.api_messages(conv) == [
        {"role": "system", "content": "Be terse."},
        {"role": "assistant", "content": "Hi!\nAsk me."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "answer one"},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "half"},
        {"role": "user", "content": "three"},
        {"role": "user", "content": "four"},
    ]


def test_context_needs_a_new_prompt() -> None:
    with pytest.raises(ValueError):
        chat.api_messages(chat.new_conversation(make_bot()))


def test_only_the_options_that_are_set_are_sent() -> None:
    assert ChatOptions().api_options() == {}
    assert ChatOptions(language="  ", use_search=False).api_options() == {}
    assert ChatOptions(language=" Klingon ", max_words=40, use_search=True).api_options() == {
        "language": "Klingon",
        "max_words": 40,
        "use_search": True,
    }


def test_the_apis_advice_on_answer_length_and_search() -> None:
    assert ChatOptions().advice() == []
    assert ChatOptions(max_words=500, use_search=True).advice() == []
    assert any("cut off" in note for note in ChatOptions(max_words=50).advice())
    assert any("time out" in note for note in ChatOptions(max_words=2500).advice())
    assert any("Web search" in note for note in ChatOptions(max_words=50, use_search=True).advice())


def test_retry_drops_the_failed_answer_only() -> None:
    conv = chat.new_conversation(make_bot())
    chat.add_prompt(conv, "hi")
    assert chat.awaiting_answer(conv) and not chat.can_retry(conv)
    conv.messages.append(ChatMessage("assistant", "par", chat.INTERRUPTED, "cut"))
    assert chat.can_retry(conv) and not chat.awaiting_answer(conv)
    chat.prepare_retry(conv)
    assert conv.last.text == "hi" and chat.awaiting_answer(conv)
    conv.messages.append(ChatMessage("assistant", "fine"))
    chat.prepare_retry(conv)  # nothing to retry: a complete answer stays
    assert conv.last.text == "fine"


def test_an_answer_left_streaming_by_an_earlier_run_counts_as_stopped() -> None:
    conv = chat.new_conversation(make_bot())
    chat.add_prompt(conv, "hi")
    conv.messages.append(ChatMessage("assistant", "so far", chat.STREAMING))
    chat.settle_interrupted(conv)
    assert conv.last.status == chat.STOPPED and conv.last.text == "so far"


def test_choose_conversation() -> None:
    omni, chef = make_bot("omni"), make_bot("chef", "Chef", "Bon appétit")
    bots = [omni, chef]
    first = chat.choose_conversation(None, None, False, bots)
    assert first.bot_slug == "omni"
    chat.add_prompt(first, "hi")
    assert chat.choose_conversation(first, "omni", False, bots) is first
    assert chat.choose_conversation(first, "gone", False, bots) is first
    fresh = chat.choose_conversation(first, "omni", True, bots)
    assert fresh is not first and fresh.messages[0].text == "Hi!\nAsk me."
    switched = chat.choose_conversation(first, "chef", False, bots)
    assert switched.bot_slug == "chef" and switched.messages[0].text == "Bon appétit"


def test_bot_labels_are_unique_even_when_names_are_not() -> None:
    labels = chat.bot_labels(
        [make_bot("omni", "Omni"), make_bot("omni-fast", "Omni"), make_bot("chef", "Chef")]
    )
    assert labels == {"omni": "Omni (omni)", "omni-fast": "Omni (omni-fast)", "chef": "Chef"}


# -- streaming against the emulator over loopback ----------------------------


@pytest.fixture
def client(emulator: EmulatorHandle, test_token: str) -> Iterator[AbltClient]:
    with AbltClient(bearer_token=test_token, base_url=emulator.base_url) as c:
        yield c


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ablt_core._retry, "sleep", lambda seconds: None)


def started(client: AbltClient, options: ChatOptions | None = None) -> Conversation:
    bot = client.find_bot_by_slug("omni")
    assert bot is not None
    conv = chat.new_conversation(bot, options)
    chat.add_prompt(conv, "How do I boil an egg?")
    return conv


def test_stream_answer_saves_the_answer_as_it_grows(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    conv = started(
        client,
        ChatOptions(
            language="French",
            max_words=150,
            use_search=True,
            system_instruction="Answer like a pirate.",
        ),
    )
    seen = []
    for piece in chat.stream_answer(client, conv, user_id=42):
        seen.append(piece)
        assert conv.last.text == "".join(seen)  # saved before the caller sees the piece
        assert conv.last.status == chat.STREAMING
    assert conv.last.status == chat.COMPLETE and conv.last.error is None
    assert len(seen) > 1

    body = emulator.requests[-1].json
    assert body["bot_slug"] == "omni" and body["stream"] is True
    assert body["user_id"] == 42
    assert (body["language"], body["max_words"], body["use_search"]) == ("French", 150, True)
    assert body["messages"][0] == {"role": "system", "content": "Answer like a pirate."}
    assert body["messages"][-1] == {"role": "user", "content": "How do I boil an egg?"}


def test_a_rate_limit_becomes_a_plain_error_and_keeps_the_prompt(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=2, times=3))
    conv = started(client)
    assert list(chat.stream_answer(client, conv, user_id=1)) == []
    assert conv.messages[-2].text == "How do I boil an egg?"
    assert conv.last.status == chat.ERROR
    assert "rate limiting" in conv.last.error and "2 seconds" in conv.last.error

    chat.prepare_retry(conv)
    assert "".join(chat.stream_answer(client, conv, user_id=1))
    assert conv.last.status == chat.COMPLETE


def test_a_dropped_stream_keeps_the_part_received(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=3))
    conv = started(client)
    pieces = list(chat.stream_answer(client, conv, user_id=1))
    assert len(pieces) == 3
    assert conv.last.status == chat.INTERRUPTED
    assert conv.last.text == "".join(pieces)
    assert "cut off" in conv.last.error


def test_stopping_mid_stream_keeps_the_part_marked_stopped(client: AbltClient) -> None:
    conv = started(client)
    answer = chat.stream_answer(client, conv, user_id=1)
    first = next(answer)
    answer.close()  # what happens when Streamlit abandons write_stream (Stop)
    assert conv.last.status == chat.STOPPED
    assert conv.last.text == first


def test_display_text_keeps_line_breaks_but_not_inside_code() -> None:
    text = "Hi!\nAsk me.\n\n```\ncode line\nmore\n```\nend"
    assert chat.display_text(text) == "Hi!  \nAsk me.  \n\n```\ncode line\nmore\n```\nend"
