"""AbltClient against the emulator over real loopback HTTP: construction, health,
bots, chat, usage statistics and the token kept secret (every error from a
real server response and the retries the server sees: test_client_errors)."""

from __future__ import annotations

import datetime as dt
import logging
import random
import ssl

import httpx
import pytest

from ablt_core import (
    DEFAULT_BASE_URL,
    AbltClient,
    AbltError,
    Bot,
    ChatMessage,
    ChatStream,
    RateLimitError,
    UsageDay,
    UsageStatistics,
    UsageTotals,
    _constants,
)
from ablt_core.emulator import EmulatorHandle, Fault

from .conftest import BOT_SLUG, PROMPT, chat_requests, free_port, full_answer

# -- construction ---------------------------------------------------------------


def test_token_and_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, emulator: EmulatorHandle, test_token: str
) -> None:
    monkeypatch.setenv("ABLT_BEARER_TOKEN", test_token)
    monkeypatch.setenv("ABLT_BASE_URL", emulator.base_url + "/")
    with AbltClient() as client:
        assert client.base_url == emulator.base_url
        assert client.get_bots()


def test_no_token_anywhere_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABLT_BEARER_TOKEN", raising=False)
    with pytest.raises(AbltError, match="ABLT_BEARER_TOKEN"):
        AbltClient()
    with pytest.raises(AbltError, match="ABLT_BEARER_TOKEN"):
        AbltClient("   ")


def test_default_base_url_and_verify_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ABLT_BASE_URL", raising=False)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    for verify in (True, False, context):
        with AbltClient("t", verify=verify) as client:
            assert client.base_url == DEFAULT_BASE_URL
    with pytest.raises(AbltError, match="base_url"):
        AbltClient("t", "ftp://example.com")
    with pytest.raises(AbltError, match="max_retries"):
        AbltClient("t", max_retries=-1)


def test_repr_never_shows_the_token() -> None:
    secret = "sk-very-secret-token-123"
    with AbltClient(secret, "http://127.0.0.1:9") as client:
        assert secret not in repr(client)
        assert secret not in str(client)
        assert "127.0.0.1:9" in repr(client)


def test_close_and_context_manager(emulator: EmulatorHandle, test_token: str) -> None:
    with AbltClient(test_token, emulator.base_url) as client:
        assert not client.is_closed
    assert client.is_closed
    other = AbltClient(test_token, emulator.base_url)
    other.close()
    assert other.is_closed


# -- health, bots -----------------------------------------------------------------


def test_health_check(client: AbltClient, emulator: EmulatorHandle, test_token: str) -> None:
    assert client.health_check() is True
    with AbltClient(test_token, f"http://127.0.0.1:{free_port()}") as down:
        assert down.health_check() is False
    with AbltClient(test_token, emulator.base_url + "/not-the-api") as wrong:
        assert wrong.health_check() is False


def test_get_bots(client: AbltClient, emulator: EmulatorHandle) -> None:
    bots = client.get_bots()
    assert len(bots) >= 6
    assert all(isinstance(bot, Bot) for bot in bots)
    assert len({bot.uid for bot in bots}) == len(bots)
    assert len({bot.slug for bot in bots}) == len(bots)
    raw = httpx.get(emulator.base_url + "/v1/bots", headers={"Authorization": "Bearer test-token"})
    assert [bot.model_dump() for bot in bots] == [
        {key: item[key] for key in Bot.model_fields} for item in raw.json()
    ]
    omni = next(bot for bot in bots if bot.slug == BOT_SLUG)
    assert omni.avatar_url is not None and omni.avatar_url.startswith(emulator.base_url)


def test_finders(client: AbltClient) -> None:
    bots = client.get_bots()
    target = bots[1]
    assert client.find_bot_by_uid(target.uid) == target
    assert client.find_bot_by_uid(target.uid.lower()) == target
    assert client.find_bot_by_uid(target.uid.upper()) == target
    assert client.find_bot_by_slug(target.slug) == target
    assert client.find_bot_by_name(target.name) == next(b for b in bots if b.name == target.name)
    assert client.find_bot_by_uid("no-such-uid") is None
    assert client.find_bot_by_slug("no-such-slug") is None
    assert client.find_bot_by_name("No Such Bot") is None


# -- chat ---------------------------------------------------------------------------


def test_streamed_chat(client: AbltClient, emulator: EmulatorHandle) -> None:
    stream = client.chat(bot_slug=BOT_SLUG, prompt=PROMPT)
    assert isinstance(stream, ChatStream)
    # The request went out when chat() was called, before any iteration.
    assert chat_requests(emulator) == 1
    with stream:
        pieces = list(stream)
    assert len(pieces) > 3
    assert all(pieces)  # the stream's empty first piece is not yielded
    assert stream.done
    assert stream.text == "".join(pieces)
    assert stream.text == full_answer(client)
    assert PROMPT in stream.text


def test_non_streamed_chat_returns_the_answer(client: AbltClient) -> None:
    answer = client.chat(bot_slug=BOT_SLUG, prompt="Hello there", stream=False)
    assert isinstance(answer, str)
    assert "Hello there" in answer


def test_only_the_given_options_reach_the_server(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    client.chat(bot_slug=BOT_SLUG, prompt="Hi", stream=False)
    assert emulator.requests[-1].json == {"bot_slug": BOT_SLUG, "prompt": "Hi", "stream": False}

    uid = client.get_bots()[0].uid
    messages: list[ChatMessage | dict[str, str]] = [
        ChatMessage(role="system", content="Answer like a pirate"),
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": "First answer"},
        {"role": "user", "content": "Second question"},
    ]
    with client.chat(
        bot_uid=uid,
        messages=messages,
        language="Arabic",
        max_words=120,
        user_id=77,
        use_search=True,
        assumptions={"audience": "kids", "depth": 2},
    ) as stream:
        text = stream.until_done()
    request = emulator.requests[-1]
    assert request.json == {
        "bot_uid": uid,
        "messages": [
            {"role": "system", "content": "Answer like a pirate"},
            {"role": "user", "content": "First question"},
            {"role": "assistant", "content": "First answer"},
            {"role": "user", "content": "Second question"},
        ],
        "stream": True,
        "language": "Arabic",
        "max_words": 120,
        "user_id": 77,
        "use_search": True,
        "assumptions": {"audience": "kids", "depth": 2},
    }
    assert request.headers["user-agent"].startswith("ablt-core/")
    assert request.headers["accept"] == "text/event-stream"
    assert "Answer like a pirate" in text
    assert "Arabic" in text
    assert len(text.split()) <= 120


def test_max_words_cuts_the_answer(client: AbltClient) -> None:
    assert (
        len(client.chat(bot_slug=BOT_SLUG, prompt=PROMPT, stream=False, max_words=7).split()) <= 7
    )


def test_advice_warnings_are_logged_and_the_call_still_goes_out(
    client: AbltClient, emulator: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ablt_core"):
        client.chat(bot_slug=BOT_SLUG, prompt="Hi", use_search=True, max_words=20, stream=False)
    assert any("use_search" in record.getMessage() for record in caplog.records)
    assert chat_requests(emulator) == 1


# -- usage statistics ---------------------------------------------------------------------


def test_usage_ledger_moves_after_a_chat(client: AbltClient, emulator: EmulatorHandle) -> None:
    user_id = random.randint(10_000, 99_999)
    assert client.get_usage_statistics_for_day(user_id=user_id) is None
    before = client.get_total_usage_statistics(user_id=user_id)
    assert before.total_words == 0

    client.chat(bot_slug=BOT_SLUG, prompt="Count these words please", user_id=user_id, stream=False)
    stats = client.get_usage_statistics(user_id=user_id)
    assert isinstance(stats, UsageStatistics)
    assert stats.model_dump(mode="json") == emulator.usage(user_id=user_id)
    assert stats.total.original_words == 4
    assert stats.total.response_words > 0
    assert stats.total.enhancement_tokens == stats.total.enchancement_tokens > 0
    assert stats.total.enhancement_words == stats.total.enchancement_words

    day = client.get_usage_statistics_for_day(dt.date.today().isoformat(), user_id=user_id)
    assert isinstance(day, UsageDay)
    assert day.date == dt.date.today()
    assert day.total_words == stats.total.total_words
    totals = client.get_total_usage_statistics(user_id=user_id)
    assert isinstance(totals, UsageTotals)
    assert totals == stats.total


def test_usage_over_a_range_for_all_users(client: AbltClient, emulator: EmulatorHandle) -> None:
    end = dt.date.today()
    start = end - dt.timedelta(days=30)
    stats = client.get_usage_statistics(start, end.isoformat())
    assert stats.items, "the emulator seeds about 90 days of history"
    assert all(start <= item.date <= end for item in stats.items)
    assert stats.total.total_tokens == sum(item.total_tokens for item in stats.items)
    assert emulator.requests[-1].json == {
        "user_id": -1,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
    }
    assert stats.day(stats.items[0].date) == stats.items[0]


# -- the token stays secret ---------------------------------------------------------------


def test_token_never_in_logs_or_messages(
    emulator: EmulatorHandle, test_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    messages: list[str] = []
    with caplog.at_level(logging.DEBUG):
        with AbltClient(test_token, emulator.base_url) as client:
            messages.append(repr(client))
            client.health_check()
            client.get_bots()
            client.chat(bot_slug=BOT_SLUG, prompt="Hi", stream=False)
            client.chat(bot_slug=BOT_SLUG, prompt="Hi", max_words=5000, stream=False)
            emulator.inject(Fault(kind="rate_limit", retry_after=0, times=1))
            emulator.inject(Fault(kind="malformed_event", after_pieces=1))
            client.chat(bot_slug=BOT_SLUG, prompt="Hi").until_done()
            for slug, prompt in (("nope", "Hi"), (BOT_SLUG, "")):
                with pytest.raises(AbltError) as info:
                    client.chat(bot_slug=slug, prompt=prompt)
                messages += [str(info.value), repr(info.value)]
        with AbltClient("sk-bad-token-77", emulator.base_url) as bad:
            with pytest.raises(AbltError) as info:
                bad.get_bots()
            messages += [str(info.value), repr(info.value)]
    assert caplog.records
    logged = [record.getMessage() for record in caplog.records]
    for text in messages + logged:
        assert test_token not in text
        assert "sk-bad-token-77" not in text


def test_a_retry_after_above_max_retry_after_is_raised_at_once_not_slept_through(
    emulator: EmulatorHandle, sleeps: list[float], test_token: str
) -> None:
    # A one-hour wait is shown at once (with Retry), never slept through; a short one is waited.
    with AbltClient(test_token, emulator.base_url, max_retry_after=60) as client:
        emulator.inject(Fault(kind="rate_limit", retry_after=3600, times=3))
        with pytest.raises(RateLimitError) as info:
            client.chat(bot_slug="omni", prompt="hi", stream=False)
        assert info.value.retry_after == 3600
        assert sleeps == []
        emulator.clear_faults()
        emulator.inject(Fault(kind="rate_limit", retry_after=42, times=1))
        notices: list[tuple[float, str]] = []
        answer = client.chat(
            bot_slug="omni",
            prompt="hi",
            stream=False,
            on_retry=lambda delay, err: notices.append((delay, type(err).__name__)),
        )
    assert answer
    assert sleeps == [42]
    assert notices == [(42, "RateLimitError")]


def test_the_connection_pool_is_sized_from_max_connections() -> None:
    from ablt_core._base import make_limits

    assert make_limits(3).max_connections == 3
    assert make_limits(None).max_connections == _constants.MAX_CONNECTIONS
    with pytest.raises(AbltError):
        make_limits(0)
