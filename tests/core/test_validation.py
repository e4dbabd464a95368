"""Calls that can never be valid fail before anything is sent; advice is a warning."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest

from ablt_core import AbltClient, AsyncAbltClient, ChatMessage, InvalidRequestError
from ablt_core._validation import build_chat_body, build_usage_body, parse_date
from ablt_core.emulator import EmulatorHandle

LOG = logging.getLogger("ablt_core.test")

INVALID_CHATS: list[tuple[str, dict[str, Any]]] = [
    ("no bot", {"prompt": "Hi"}),
    ("both bots", {"bot_uid": "u", "bot_slug": "omni", "prompt": "Hi"}),
    ("empty slug", {"bot_slug": "  ", "prompt": "Hi"}),
    ("no prompt", {"bot_slug": "omni"}),
    (
        "both prompt and messages",
        {"bot_slug": "omni", "prompt": "Hi", "messages": [{"role": "user", "content": "Hi"}]},
    ),
    ("empty prompt", {"bot_slug": "omni", "prompt": ""}),
    ("whitespace prompt", {"bot_slug": "omni", "prompt": " \n\t "}),
    ("prompt not a string", {"bot_slug": "omni", "prompt": 42}),
    ("empty messages", {"bot_slug": "omni", "messages": []}),
    ("messages not a list", {"bot_slug": "omni", "messages": "Hi"}),
    ("message not a mapping", {"bot_slug": "omni", "messages": ["Hi"]}),
    ("bad role", {"bot_slug": "omni", "messages": [{"role": "robot", "content": "Hi"}]}),
    ("no content", {"bot_slug": "omni", "messages": [{"role": "user"}]}),
    (
        "last from assistant",
        {
            "bot_slug": "omni",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
            ],
        },
    ),
    (
        "last user message blank",
        {"bot_slug": "omni", "messages": [{"role": "user", "content": "   "}]},
    ),
    ("max_words zero", {"bot_slug": "omni", "prompt": "Hi", "max_words": 0}),
    ("max_words negative", {"bot_slug": "omni", "prompt": "Hi", "max_words": -5}),
    ("max_words not int", {"bot_slug": "omni", "prompt": "Hi", "max_words": 10.5}),
    ("user_id str", {"bot_slug": "omni", "prompt": "Hi", "user_id": "7"}),
    ("user_id bool", {"bot_slug": "omni", "prompt": "Hi", "user_id": True}),
    ("use_search not bool", {"bot_slug": "omni", "prompt": "Hi", "use_search": "yes"}),
    ("assumptions not mapping", {"bot_slug": "omni", "prompt": "Hi", "assumptions": [1]}),
]

INVALID_USAGE: list[tuple[str, dict[str, Any]]] = [
    ("unparseable start", {"start_date": "yesterday"}),
    ("wrong format", {"start_date": "01/02/2024"}),
    ("impossible date", {"end_date": "2024-02-30"}),
    ("not a date", {"start_date": 20240101}),
    ("end before start", {"start_date": "2024-03-02", "end_date": dt.date(2024, 3, 1)}),
    ("user_id str", {"user_id": "1"}),
]


def chat_body(**kwargs: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bot_uid": None,
        "bot_slug": None,
        "prompt": None,
        "messages": None,
        "stream": True,
        "language": None,
        "max_words": None,
        "user_id": None,
        "use_search": None,
        "assumptions": None,
    }
    options.update(kwargs)
    return build_chat_body(logger=LOG, **options)


@pytest.mark.parametrize(("case", "kwargs"), INVALID_CHATS, ids=[c for c, _ in INVALID_CHATS])
def test_invalid_chat_sends_nothing(
    case: str, kwargs: dict[str, Any], client: AbltClient, emulator: EmulatorHandle
) -> None:
    with pytest.raises(InvalidRequestError):
        client.chat(**kwargs)
    with pytest.raises(InvalidRequestError):
        client.chat(stream=False, **kwargs)
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("case", "kwargs"), INVALID_CHATS[:6], ids=[c for c, _ in INVALID_CHATS[:6]]
)
async def test_async_invalid_chat_sends_nothing(
    case: str, kwargs: dict[str, Any], async_client: AsyncAbltClient, emulator: EmulatorHandle
) -> None:
    with pytest.raises(InvalidRequestError):
        await async_client.chat(**kwargs)
    assert emulator.requests == []


@pytest.mark.parametrize(("case", "kwargs"), INVALID_USAGE, ids=[c for c, _ in INVALID_USAGE])
def test_invalid_usage_query_sends_nothing(
    case: str, kwargs: dict[str, Any], client: AbltClient, emulator: EmulatorHandle
) -> None:
    with pytest.raises(InvalidRequestError):
        client.get_usage_statistics(**kwargs)
    with pytest.raises(InvalidRequestError):
        client.get_total_usage_statistics(**kwargs)
    assert emulator.requests == []


def test_invalid_day_sends_nothing(client: AbltClient, emulator: EmulatorHandle) -> None:
    with pytest.raises(InvalidRequestError):
        client.get_usage_statistics_for_day("2024-13-01")
    assert emulator.requests == []


def test_invalid_request_error_is_also_a_value_error() -> None:
    with pytest.raises(ValueError, match="bot_uid or bot_slug"):
        chat_body(prompt="Hi")


def test_only_given_options_are_in_the_body() -> None:
    assert chat_body(bot_slug="omni", prompt="Hi") == {
        "bot_slug": "omni",
        "prompt": "Hi",
        "stream": True,
    }
    body = chat_body(
        bot_uid="U-1",
        messages=[
            ChatMessage(role="system", content="Be brief"),
            {"role": "user", "content": "Hi"},
        ],
        stream=False,
        language="Arabic",
        max_words=150,
        user_id=0,
        use_search=False,
        assumptions={"tone": "formal"},
    )
    assert body == {
        "bot_uid": "U-1",
        "messages": [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Hi"}],
        "stream": False,
        "language": "Arabic",
        "max_words": 150,
        "user_id": 0,
        "use_search": False,
        "assumptions": {"tone": "formal"},
    }


def test_advice_is_a_warning_not_an_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ablt_core.test"):
        chat_body(bot_slug="omni", prompt="Hi", use_search=True, max_words=50)
        chat_body(bot_slug="omni", prompt="Hi", max_words=2500)
        chat_body(bot_slug="omni", prompt="Hi", use_search=True, max_words=100)
        chat_body(bot_slug="omni", prompt="Hi", use_search=False, max_words=50)
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert "use_search" in messages[0] and "100" in messages[0]
    assert "2500" in messages[1] and "2000" in messages[1]


def test_dates() -> None:
    assert parse_date(None, "d") == dt.date.today()
    assert parse_date("2024-02-29", "d") == dt.date(2024, 2, 29)
    assert parse_date(dt.datetime(2024, 1, 2, 23, 0), "d") == dt.date(2024, 1, 2)
    assert build_usage_body("2024-01-01", "2024-01-01", -1) == {
        "user_id": -1,
        "start_date": "2024-01-01",
        "end_date": "2024-01-01",
    }
    today = dt.date.today().isoformat()
    assert build_usage_body(None, None, 3) == {"user_id": 3, "start_date": today, "end_date": today}
