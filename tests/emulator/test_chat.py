"""POST /v1/chat: answers reflect the request, SSE shape, validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ablt_core.emulator import BOTS, EmulatorHandle, Fault
from tests.emulator.helpers import CHAT_URL, sse_events


def ask(http: httpx.Client, **body: Any) -> str:
    body = {"bot_slug": "omni", "stream": False, **body}
    response = http.post(CHAT_URL, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["content"])


def test_plain_answer_quotes_the_prompt_and_has_a_plausible_length(http: httpx.Client) -> None:
    answer = ask(http, prompt="How do I pay my taxes?")
    assert "\u201cHow do I pay my taxes?\u201d" in answer
    assert 80 <= len(answer.split()) <= 150
    assert answer == ask(http, prompt="How do I pay my taxes?"), "deterministic"


def test_each_bot_answers_in_its_own_voice(http: httpx.Client) -> None:
    answers = {ask(http, bot_slug=bot.slug, prompt="Any advice?") for bot in BOTS}
    assert len(answers) == len(BOTS)


def test_bot_uid_matches_case_insensitively(http: httpx.Client) -> None:
    uid = next(b.uid for b in BOTS if b.slug == "omni")
    by_uid = ask(http, bot_slug=None, bot_uid=uid.lower(), prompt="hi")
    assert by_uid == ask(http, prompt="hi")


def test_context_and_options_are_reflected(http: httpx.Client) -> None:
    messages = [
        {"role": "system", "content": "Answer like a pirate"},
        {"role": "user", "content": "What is a budget?"},
        {"role": "assistant", "content": "A plan for money."},
        {"role": "user", "content": "And a forecast?"},
    ]
    answer = ask(
        http,
        messages=messages,
        language="Arabic",
        use_search=True,
        assumptions={"region": "EU"},
    )
    assert "\u201cAnswer like a pirate\u201d" in answer
    assert "\u201cAnd a forecast?\u201d" in answer
    assert "2 earlier turns" in answer
    assert "\u201cWhat is a budget?\u201d" in answer
    assert "Arabic" in answer
    assert "region=EU" in answer
    assert "searched the web" in answer and "[1]" in answer


def test_a_welcome_message_alone_is_not_recalled_as_earlier_conversation(
    http: httpx.Client,
) -> None:
    messages = [
        {"role": "assistant", "content": "Hi, I'm Omni. Ask me anything."},
        {"role": "user", "content": "Name our chat tool"},
    ]
    answer = ask(http, messages=messages)
    assert "\u201cName our chat tool\u201d" in answer
    assert "earlier turn" not in answer


@pytest.mark.parametrize("max_words", [1, 7, 40])
def test_max_words_cuts_the_answer(http: httpx.Client, max_words: int) -> None:
    full = ask(http, prompt="Tell me everything")
    cut = ask(http, prompt="Tell me everything", max_words=max_words)
    assert len(cut.split()) == max_words
    assert full.startswith(cut)


def test_stream_is_byte_exact_sse(http: httpx.Client) -> None:
    body = {"bot_slug": "chef", "prompt": "Pasta tonight?", "stream": True}
    with http.stream("POST", CHAT_URL, json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read()
    assert raw.startswith(b'data: {"content":""}\n\n')
    assert raw.endswith(b"\n\ndata: [DONE]\n\n")
    events = sse_events(raw)
    assert events[0] == {"content": ""} and events[-1] == "[DONE]"
    pieces = [e["content"] for e in events[1:-1]]
    assert all(pieces)
    assert all(p.startswith((" ", "\n")) for p in pieces[1:]), "each piece carries its space"
    assert all(len(p.split()) == 1 for p in pieces), "a piece is one word"
    non_streamed = ask(http, bot_slug="chef", prompt="Pasta tonight?")
    assert "".join(pieces) == non_streamed


def test_stream_respects_max_words(http: httpx.Client) -> None:
    response = http.post(
        CHAT_URL, json={"bot_slug": "omni", "prompt": "x", "stream": True, "max_words": 5}
    )
    events = sse_events(response.content)
    assert len(events) == 1 + 5 + 1


def test_stream_pieces_are_flushed_one_by_one(http: httpx.Client, emulator: EmulatorHandle) -> None:
    emulator.set_delay(0.05)
    body = {"bot_slug": "omni", "prompt": "x", "stream": True, "max_words": 4}
    with http.stream("POST", CHAT_URL, json=body) as response:
        chunks = list(response.iter_raw())
    assert len(chunks) >= 4, "pieces arrive as separate chunks, not one buffered body"


BAD_BODIES: list[tuple[str, Any, list[Any]]] = [
    ("missing-stream", {"bot_slug": "omni", "prompt": "hi"}, ["body", "stream"]),
    ("both-bots", {"bot_slug": "omni", "bot_uid": "x", "prompt": "hi", "stream": False}, ["body"]),
    ("no-bot", {"prompt": "hi", "stream": False}, ["body"]),
    (
        "both-inputs",
        {"bot_slug": "omni", "prompt": "hi", "messages": [], "stream": False},
        ["body"],
    ),
    ("no-input", {"bot_slug": "omni", "stream": False}, ["body"]),
    (
        "messages-not-list",
        {"bot_slug": "omni", "messages": "hi", "stream": False},
        ["body", "messages"],
    ),
    (
        "message-no-content",
        {"bot_slug": "omni", "messages": [{"role": "user"}], "stream": False},
        ["body", "messages", 0, "content"],
    ),
    (
        "bad-role",
        {"bot_slug": "omni", "messages": [{"role": "bot", "content": "hi"}], "stream": False},
        ["body", "messages", 0, "role"],
    ),
    (
        "last-not-user",
        {
            "bot_slug": "omni",
            "stream": False,
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
        },
        ["body"],
    ),
    ("empty-messages", {"bot_slug": "omni", "messages": [], "stream": False}, ["body"]),
    (
        "max-words-text",
        {"bot_slug": "omni", "prompt": "hi", "stream": False, "max_words": "many"},
        ["body", "max_words"],
    ),
    (
        "max-words-float",
        {"bot_slug": "omni", "prompt": "hi", "stream": False, "max_words": 1.5},
        ["body", "max_words"],
    ),
    (
        "user-id-text",
        {"bot_slug": "omni", "prompt": "hi", "stream": False, "user_id": "me"},
        ["body", "user_id"],
    ),
    ("not-an-object", [1, 2], ["body"]),
]


@pytest.mark.parametrize(
    ("body", "loc"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
def test_contract_breaking_body_is_422(http: httpx.Client, body: Any, loc: list[Any]) -> None:
    response = http.post(CHAT_URL, json=body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    assert all({"loc", "msg", "type"} <= set(item) for item in detail)
    assert loc in [item["loc"] for item in detail]


def test_non_json_body_is_422(http: httpx.Client) -> None:
    response = http.post(CHAT_URL, content=b"{oops", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("key", ["bot_slug", "bot_uid"])
def test_unknown_bot_is_404(http: httpx.Client, key: str) -> None:
    response = http.post(CHAT_URL, json={key: "no-such-bot", "prompt": "hi", "stream": True})
    assert response.status_code == 404
    assert response.json() == {"detail": "Bot not found"}


def _streamed(http: httpx.Client, **body: Any) -> tuple[str, bool]:
    """The streamed answer's text, and whether it ended with [DONE]."""
    response = http.post(CHAT_URL, json={"bot_slug": "omni", "stream": True, **body})
    raw = response.content
    done = raw.endswith(b"data: [DONE]\n\n")
    events = sse_events(raw)
    return "".join(e["content"] for e in events if isinstance(e, dict)), done


def test_asking_again_gets_another_answer_as_regenerate_expects(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    messages = [{"role": "user", "content": "Name a good first programming language."}]
    first, _ = _streamed(http, messages=messages)
    second, _ = _streamed(http, messages=messages)
    third, _ = _streamed(http, messages=messages)
    assert len({first, second, third}) == 3, "each regenerate reads differently"
    for answer in (first, second, third):
        assert "\u201cName a good first programming language.\u201d" in answer
    # Deterministic per attempt number: after a reset the same sequence comes back.
    emulator.clear_requests()
    assert _streamed(http, messages=messages)[0] == first
    assert _streamed(http, messages=messages)[0] == second
    # Other requests keep their own count; a non-streamed answer stays the first one.
    assert _streamed(http, prompt="Something else")[0] == ask(http, prompt="Something else")
    assert ask(http, messages=messages) == ask(http, messages=messages) == first


def test_a_dropped_stream_does_not_count_as_an_answer(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=3))
    cut, done = _streamed(http, prompt="Retry me")
    assert not done
    whole, done = _streamed(http, prompt="Retry me")
    assert done and whole.startswith(cut), "a Retry after a failure gets the same answer"
