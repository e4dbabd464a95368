"""The emulator's benchmark knobs: answers of a set length, stream timings, settings over HTTP."""

from __future__ import annotations

import httpx
import pytest

from ablt_core.emulator import BOTS, EmulatorHandle, Fault
from ablt_core.emulator.answers import shaped
from tests.emulator.helpers import CHAT_URL, sse_events

OMNI = next(bot for bot in BOTS if bot.slug == "omni")


def stream_pieces(http: httpx.Client, prompt: str, **body: object) -> list[str]:
    response = http.post(
        CHAT_URL, json={"bot_slug": "omni", "prompt": prompt, "stream": True, **body}
    )
    assert response.status_code == 200, response.text
    events = sse_events(response.content)
    assert events[0] == {"content": ""} and events[-1] == "[DONE]"
    return [event["content"] for event in events[1:-1]]


@pytest.mark.parametrize("words", [1, 7, 200, 3000])
def test_answer_words_gives_exactly_that_many_words_one_per_event(
    emulator: EmulatorHandle, http: httpx.Client, words: int
) -> None:
    emulator.set_answer_words(words)
    pieces = stream_pieces(http, "How long can you go?")
    assert len(pieces) == words
    assert all(len(piece.split()) == 1 for piece in pieces)
    text = "".join(pieces)
    if words >= 200:
        assert "\u201cHow long can you go?\u201d" in text
        assert text.endswith(OMNI.closer)
        assert text.count("\n\n") >= words // 100, "a long answer comes in paragraphs"


def test_max_words_still_cuts_a_lengthened_answer(
    emulator: EmulatorHandle, http: httpx.Client
) -> None:
    emulator.set_answer_words(500)
    assert len(stream_pieces(http, "Short, please", max_words=120)) == 120


def test_settings_over_http_change_the_length_and_pace(
    emulator: EmulatorHandle, http: httpx.Client
) -> None:
    reply = http.put("/_emulator/settings", json={"answer_words": 40, "delay": 0.001})
    assert reply.status_code == 200
    assert reply.json() == {"answer_words": 40, "delay": 0.001, "answer_shape": "paragraphs"}
    assert len(stream_pieces(http, "Forty words?")) == 40
    assert http.put("/_emulator/settings", json={"answer_words": None}).json() == {
        "answer_words": None,
        "delay": 0.001,
        "answer_shape": "paragraphs",
    }
    assert 80 <= len(stream_pieces(http, "Natural length?")) <= 150
    assert http.get("/_emulator/settings").json()["delay"] == 0.001


@pytest.mark.parametrize(
    "body",
    [
        {"answer_words": 0},
        {"answer_words": "many"},
        {"delay": -1},
        {"speed": 2},
        [1],
        {"answer_shape": "poem"},
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    emulator: EmulatorHandle, http: httpx.Client, body: object
) -> None:
    reply = http.put("/_emulator/settings", json=body)
    assert reply.status_code == 422
    assert http.get("/_emulator/settings").json() == {
        "answer_words": None,
        "delay": 0,
        "answer_shape": "paragraphs",
    }


@pytest.mark.parametrize("shape", ["paragraph", "code", "table", "list"])
def test_a_bench_shape_lays_out_the_same_words(
    emulator: EmulatorHandle, http: httpx.Client, shape: str
) -> None:
    assert http.put("/_emulator/settings", json={"answer_words": 60}).status_code == 200
    plain = "".join(stream_pieces(http, "Shape me"))
    try:
        reply = http.put("/_emulator/settings", json={"answer_shape": shape})
        assert reply.json()["answer_shape"] == shape
        laid_out = "".join(stream_pieces(http, "Shape me"))
    finally:
        http.put("/_emulator/settings", json={"answer_shape": "paragraphs"})
    assert "\n\n" in plain and "\n\n" not in laid_out  # one block
    # As many words as the paragraphs, laid out (a retake: the same length).
    assert len(laid_out.split()) == len(shaped(plain, shape).split())


def test_each_stream_is_recorded_with_its_prompt_text_and_send_times(
    emulator: EmulatorHandle, http: httpx.Client
) -> None:
    emulator.set_answer_words(30)
    pieces = stream_pieces(http, "Who asked?")
    not_streamed = http.post(
        CHAT_URL, json={"bot_slug": "omni", "prompt": "Not streamed", "stream": False}
    )
    assert not_streamed.status_code == 200
    [record] = emulator.streams
    assert record.prompt == "Who asked?"
    assert record.text == "".join(pieces)
    assert record.pieces_sent == 30 and record.completed
    assert record.first_piece_at is not None and record.ended_at is not None
    assert record.started_at <= record.first_piece_at <= record.ended_at
    assert http.get("/_emulator/streams").json()[0]["request_id"] == record.request_id
    assert http.delete("/_emulator/streams").status_code == 204
    assert emulator.streams == []


def test_a_dropped_stream_is_recorded_as_not_completed(
    emulator: EmulatorHandle, http: httpx.Client
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=4))
    response = http.post(CHAT_URL, json={"bot_slug": "omni", "prompt": "Cut", "stream": True})
    assert "[DONE]" not in response.text
    [record] = emulator.streams
    assert record.pieces_sent == 4 and not record.completed and record.ended_at is not None


def test_the_last_user_message_is_the_recorded_prompt(
    emulator: EmulatorHandle, http: httpx.Client
) -> None:
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": "second"},
    ]
    http.post(CHAT_URL, json={"bot_slug": "omni", "messages": messages, "stream": True})
    assert [record.prompt for record in emulator.streams] == ["second"]
