"""AsyncAbltClient against the emulator over real loopback HTTP: the same surface
and failure paths as the sync client, through the async I/O loop."""

from __future__ import annotations

import datetime as dt
import logging
import random

import httpx
import pytest

from ablt_core import (
    AbltError,
    APIConnectionError,
    APITimeoutError,
    AsyncAbltClient,
    AsyncChatStream,
    AuthenticationError,
    Bot,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
    UsageDay,
)
from ablt_core.emulator import EmulatorHandle, Fault

from .conftest import BOT_SLUG, chat_requests, free_port

PROMPT = "What is a good first programming language?"


async def test_health_bots_and_finders(async_client: AsyncAbltClient, test_token: str) -> None:
    assert await async_client.health_check() is True
    async with AsyncAbltClient(test_token, f"http://127.0.0.1:{free_port()}") as down:
        assert await down.health_check() is False
    bots = await async_client.get_bots()
    assert len(bots) >= 6 and all(isinstance(bot, Bot) for bot in bots)
    target = bots[2]
    assert await async_client.find_bot_by_uid(target.uid.swapcase()) == target
    assert await async_client.find_bot_by_slug(target.slug) == target
    assert (await async_client.find_bot_by_name(target.name)) is not None
    assert await async_client.find_bot_by_slug("no-such-slug") is None


async def test_streamed_and_non_streamed_chat(
    async_client: AsyncAbltClient, emulator: EmulatorHandle
) -> None:
    stream = await async_client.chat(bot_slug=BOT_SLUG, prompt=PROMPT)
    assert isinstance(stream, AsyncChatStream)
    assert chat_requests(emulator) == 1  # sent by chat(), before iteration
    async with stream:
        pieces = [piece async for piece in stream]
    assert all(pieces) and len(pieces) > 3
    assert stream.done
    answer = await async_client.chat(bot_slug=BOT_SLUG, prompt=PROMPT, stream=False)
    assert isinstance(answer, str)
    assert "".join(pieces) == stream.text == answer


async def test_options_reach_the_server(
    async_client: AsyncAbltClient, emulator: EmulatorHandle
) -> None:
    stream = await async_client.chat(
        bot_slug=BOT_SLUG,
        messages=[{"role": "system", "content": "Be terse"}, {"role": "user", "content": "Hi"}],
        language="French",
        max_words=300,
        user_id=5,
        use_search=False,
    )
    await stream.until_done()
    assert emulator.requests[-1].json == {
        "bot_slug": BOT_SLUG,
        "messages": [{"role": "system", "content": "Be terse"}, {"role": "user", "content": "Hi"}],
        "stream": True,
        "language": "French",
        "max_words": 300,
        "user_id": 5,
        "use_search": False,
    }


async def test_status_errors(
    async_client: AsyncAbltClient, emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    with pytest.raises(NotFoundError) as not_found:
        await async_client.chat(bot_slug="no-such-bot", prompt="Hi")
    assert not_found.value.request_id == emulator.requests[-1].request_id
    with pytest.raises(UnprocessableEntityError) as invalid:
        await async_client._request("POST", "/v1/chat", body={"bot_slug": BOT_SLUG, "stream": True})
    assert invalid.value.errors
    assert chat_requests(emulator) == 2
    assert sleeps == []


async def test_wrong_token(emulator: EmulatorHandle) -> None:
    secret = "sk-async-wrong-31337"
    async with AsyncAbltClient(secret, emulator.base_url) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.get_bots()
    assert info.value.status_code == 401
    assert secret not in str(info.value)
    assert len(emulator.requests) == 1


async def test_rate_limit_retries_honour_retry_after(
    async_client: AsyncAbltClient, emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=0.75, times=2))
    stream = await async_client.chat(bot_slug=BOT_SLUG, prompt=PROMPT)
    assert await stream.until_done()
    assert chat_requests(emulator) == 3
    assert sleeps == [0.75, 0.75]

    sleeps.clear()
    emulator.inject(Fault(kind="rate_limit", retry_after=4, times=None))
    with pytest.raises(RateLimitError) as info:
        await async_client.chat(bot_slug=BOT_SLUG, prompt="Hi", stream=False)
    assert info.value.retry_after == 4.0
    assert sleeps == [4.0, 4.0]


async def test_server_error_after_retries(
    async_client: AsyncAbltClient, emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="server_error", status=503, times=None, path="*"))
    with pytest.raises(InternalServerError) as info:
        await async_client.get_usage_statistics()
    assert info.value.status_code == 503
    assert len(emulator.requests) == 3
    assert len(sleeps) == 2


async def test_connection_refused(test_token: str, sleeps: list[float]) -> None:
    client = AsyncAbltClient(test_token, f"http://127.0.0.1:{free_port()}")
    async with client:
        with pytest.raises(APIConnectionError) as info:
            await client.chat(bot_slug=BOT_SLUG, prompt="Hi")
    assert not isinstance(info.value, APITimeoutError)
    assert len(sleeps) == 2


async def test_slow_first_byte_times_out(
    emulator: EmulatorHandle, test_token: str, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=0.6, times=None))
    client = AsyncAbltClient(test_token, emulator.base_url, timeout=0.1, max_retries=1)
    async with client:
        with pytest.raises(APITimeoutError):
            await client.chat(bot_slug=BOT_SLUG, prompt="Hi")
    assert chat_requests(emulator) == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize("mode", ["close", "abort"])
async def test_dropped_stream(
    async_client: AsyncAbltClient, emulator: EmulatorHandle, sleeps: list[float], mode: str
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=3, mode=mode))
    received: list[str] = []
    stream = await async_client.chat(bot_slug=BOT_SLUG, prompt=PROMPT)
    with pytest.raises(StreamInterruptedError) as info:
        async for piece in stream:
            received.append(piece)
    assert len(received) == 3
    assert info.value.partial_text == "".join(received) == stream.text
    full = await async_client.chat(bot_slug=BOT_SLUG, prompt=PROMPT, stream=False)
    assert full.startswith(info.value.partial_text)
    if mode == "abort":
        assert isinstance(info.value.__cause__, httpx.HTTPError)
    assert chat_requests(emulator) == 2
    assert sleeps == []


async def test_malformed_event_skipped(
    async_client: AsyncAbltClient, emulator: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.inject(Fault(kind="malformed_event", after_pieces=1))
    with caplog.at_level(logging.WARNING, logger="ablt_core"):
        stream = await async_client.chat(bot_slug=BOT_SLUG, prompt=PROMPT)
        text = await stream.until_done()
    assert text == await async_client.chat(bot_slug=BOT_SLUG, prompt=PROMPT, stream=False)
    assert any("malformed" in record.getMessage() for record in caplog.records)


async def test_usage_statistics(async_client: AsyncAbltClient, emulator: EmulatorHandle) -> None:
    user_id = random.randint(100_000, 999_999)
    assert await async_client.get_usage_statistics_for_day(user_id=user_id) is None
    await async_client.chat(
        bot_slug=BOT_SLUG, prompt="One two three", user_id=user_id, stream=False
    )
    day = await async_client.get_usage_statistics_for_day(dt.date.today(), user_id=user_id)
    assert isinstance(day, UsageDay)
    assert day.original_words == 3
    totals = await async_client.get_total_usage_statistics(user_id=user_id)
    assert totals.model_dump() == emulator.usage(user_id=user_id)["total"]
    assert totals.enhancement_words == totals.enchancement_words


async def test_close_and_repr(emulator: EmulatorHandle, test_token: str) -> None:
    client = AsyncAbltClient(test_token, emulator.base_url)
    assert test_token not in repr(client)
    async with client:
        assert not client.is_closed
    assert client.is_closed
    with pytest.raises(AbltError, match="ABLT_BEARER_TOKEN"):
        AsyncAbltClient("")
