"""AbltClient against the emulator over real loopback HTTP: the whole surface,
every error from a real server response, and the retries the server sees."""

from __future__ import annotations

import datetime as dt
import logging
import random
import socket
import ssl
import threading

import httpx
import pytest

from ablt_core import (
    DEFAULT_BASE_URL,
    AbltClient,
    AbltError,
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    Bot,
    ChatMessage,
    ChatStream,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
    UsageDay,
    UsageStatistics,
    UsageTotals,
)
from ablt_core._constants import RETRY_AFTER_CAP, RETRY_BACKOFF_BASE, RETRY_BACKOFF_CAP
from ablt_core.emulator import EmulatorHandle, Fault

from .conftest import BOT_SLUG

PROMPT = "How should I plan a small garden?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chat_requests(emulator: EmulatorHandle) -> int:
    return sum(1 for request in emulator.requests if request.path == "/v1/chat")


def full_answer(client: AbltClient, prompt: str = PROMPT) -> str:
    return client.chat(bot_slug=BOT_SLUG, prompt=prompt, stream=False)


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


# -- errors from real responses -------------------------------------------------------


def test_wrong_token_is_an_authentication_error(
    emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    secret = "sk-wrong-token-4f9a"
    with AbltClient(secret, emulator.base_url) as client:
        with pytest.raises(AuthenticationError) as info:
            client.chat(bot_slug=BOT_SLUG, prompt="Hi")
        with pytest.raises(AuthenticationError):
            client.get_bots()
        with pytest.raises(AuthenticationError):
            client.get_usage_statistics()
    error = info.value
    assert error.status_code == 401
    assert error.detail
    assert error.request_id == emulator.requests[0].request_id
    assert secret not in str(error) and secret not in repr(error)
    assert len(emulator.requests) == 3  # 401 is never retried
    assert sleeps == []


def test_injected_unauthorized(client: AbltClient, emulator: EmulatorHandle) -> None:
    emulator.inject(Fault(kind="unauthorized", path="/v1/bots"))
    with pytest.raises(AuthenticationError):
        client.get_bots()
    assert client.get_bots()


def test_unknown_bot_is_not_found_raised_from_chat_itself(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    with pytest.raises(NotFoundError) as info:
        client.chat(bot_slug="no-such-bot", prompt="Hi")
    assert info.value.status_code == 404
    assert info.value.detail
    assert info.value.request_id == emulator.requests[-1].request_id
    with pytest.raises(NotFoundError):
        client.chat(bot_uid="00000000-0000-0000-0000-000000000000", prompt="Hi", stream=False)
    assert chat_requests(emulator) == 2


def test_server_validation_is_unprocessable_entity(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    # A body the client would never build (no `stream`), sent through the same
    # request path every call uses, so the server's own 422 comes back.
    with pytest.raises(UnprocessableEntityError) as info:
        client._request("POST", "/v1/chat", body={"bot_slug": BOT_SLUG, "prompt": "Hi"})
    error = info.value
    assert error.status_code == 422
    assert ("body", "stream") in [e.loc for e in error.errors]
    assert "stream" in error.detail
    assert chat_requests(emulator) == 1  # never retried


def test_rate_limited_twice_then_success(
    client: AbltClient, emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=1.5, times=2))
    assert "garden" in full_answer(client)
    assert chat_requests(emulator) == 3
    assert sleeps == [1.5, 1.5]


def test_rate_limit_after_all_retries(
    client: AbltClient, emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=2.5, times=None))
    with pytest.raises(RateLimitError) as info:
        client.chat(bot_slug=BOT_SLUG, prompt="Hi")
    assert info.value.retry_after == 2.5
    assert info.value.status_code == 429
    assert chat_requests(emulator) == 3  # one attempt + max_retries=2
    assert sleeps == [2.5, 2.5]


def test_retry_after_is_capped(
    client: AbltClient, emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=RETRY_AFTER_CAP * 20, times=1))
    assert full_answer(client)
    assert sleeps == [RETRY_AFTER_CAP]


def test_rate_limit_without_retry_after_backs_off(
    client: AbltClient, emulator: EmulatorHandle, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=None, times=None))
    with pytest.raises(RateLimitError) as info:
        client.chat(bot_slug=BOT_SLUG, prompt="Hi")
    assert info.value.retry_after is None
    assert len(sleeps) == 2
    assert 0 < sleeps[0] <= RETRY_BACKOFF_BASE
    assert RETRY_BACKOFF_BASE < sleeps[1] <= min(RETRY_BACKOFF_CAP, 2 * RETRY_BACKOFF_BASE)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_after_retries(
    client: AbltClient, emulator: EmulatorHandle, sleeps: list[float], status: int
) -> None:
    emulator.inject(Fault(kind="server_error", status=status, times=None, path="*"))
    with pytest.raises(InternalServerError) as info:
        client.get_bots()
    assert info.value.status_code == status
    assert info.value.request_id == emulator.requests[-1].request_id
    assert len(emulator.requests) == 3
    assert len(sleeps) == 2


def test_server_error_once_is_retried_away(client: AbltClient, emulator: EmulatorHandle) -> None:
    emulator.inject(Fault(kind="server_error", status=503, times=1))
    with client.chat(bot_slug=BOT_SLUG, prompt=PROMPT) as stream:
        assert stream.until_done() == full_answer(client)
    assert chat_requests(emulator) == 3  # failed + retried stream, then the reference answer


def test_max_retries_zero_means_one_request(
    emulator: EmulatorHandle, test_token: str, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="server_error", times=None))
    client = AbltClient(test_token, emulator.base_url, max_retries=0)
    with client, pytest.raises(InternalServerError):
        client.chat(bot_slug=BOT_SLUG, prompt="Hi", stream=False)
    assert chat_requests(emulator) == 1
    assert sleeps == []


def test_connection_refused(test_token: str, sleeps: list[float]) -> None:
    client = AbltClient(test_token, f"http://127.0.0.1:{free_port()}")
    with client, pytest.raises(APIConnectionError) as info:
        client.get_bots()
    assert not isinstance(info.value, APITimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert len(sleeps) == 2


def test_slow_first_byte_times_out(
    emulator: EmulatorHandle, test_token: str, sleeps: list[float]
) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=0.6, times=None))
    client = AbltClient(test_token, emulator.base_url, timeout=0.1)
    with client, pytest.raises(APITimeoutError) as info:
        client.chat(bot_slug=BOT_SLUG, prompt="Hi")
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert chat_requests(emulator) == 3
    assert len(sleeps) == 2


def test_one_slow_first_byte_is_retried_away(emulator: EmulatorHandle, test_token: str) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=0.6, times=1))
    with AbltClient(test_token, emulator.base_url, timeout=0.2) as client:
        assert client.chat(bot_slug=BOT_SLUG, prompt="Hi", stream=False)
    assert chat_requests(emulator) == 2


def test_a_200_without_content_is_a_response_validation_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"answer": "?"}, headers={"x-request-id": "r-1"})

    with AbltClient("t", "http://ablt.test", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(APIResponseValidationError) as info:
            client.chat(bot_slug=BOT_SLUG, prompt="Hi", stream=False)
        assert info.value.request_id == "r-1"
        assert isinstance(info.value, AbltError)
        # Older deployments answer with `message`.
        transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"message": "old"}))
    with AbltClient("t", "http://ablt.test", transport=transport) as client:
        assert client.chat(bot_slug=BOT_SLUG, prompt="Hi", stream=False) == "old"


def test_bodies_that_break_the_contract_are_response_validation_errors() -> None:
    replies = {
        "/v1/bots": httpx.Response(200, json=[{"slug": "no-uid", "name": "X"}]),
        "/v1/user/usage-statistics": httpx.Response(
            200, text="<html><title>Proxy login</title></html>", headers={"x-request-id": "r-2"}
        ),
    }
    transport = httpx.MockTransport(lambda request: replies[request.url.path])
    with AbltClient("t", "http://ablt.test", transport=transport, max_retries=0) as client:
        with pytest.raises(APIResponseValidationError) as bots:
            client.get_bots()
        assert "0.uid" in str(bots.value)
        with pytest.raises(APIResponseValidationError) as usage:
            client.get_usage_statistics()
        assert "not JSON" in str(usage.value)
        assert usage.value.request_id == "r-2"


# -- streams that break -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["close", "abort"])
def test_dropped_stream_raises_with_the_partial_text(
    client: AbltClient, emulator: EmulatorHandle, sleeps: list[float], mode: str
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=4, mode=mode))
    received: list[str] = []
    stream = client.chat(bot_slug=BOT_SLUG, prompt=PROMPT)
    with pytest.raises(StreamInterruptedError) as info:
        for piece in stream:
            received.append(piece)
    error = info.value
    assert len(received) == 4
    assert error.partial_text == "".join(received) == stream.text
    assert not stream.done
    assert full_answer(client).startswith(error.partial_text)
    if mode == "abort":
        assert isinstance(error.__cause__, httpx.HTTPError)
    # No retry once pieces reached the caller: one streamed request, no waits.
    assert chat_requests(emulator) == 2  # the dropped stream + the reference answer
    assert sleeps == []


def test_malformed_event_is_skipped(
    client: AbltClient, emulator: EmulatorHandle, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.inject(Fault(kind="malformed_event", after_pieces=2))
    with (
        caplog.at_level(logging.WARNING, logger="ablt_core"),
        client.chat(bot_slug=BOT_SLUG, prompt=PROMPT) as stream,
    ):
        text = stream.until_done()
    assert stream.done
    assert text == full_answer(client)
    assert any("malformed" in record.getMessage() for record in caplog.records)


def test_streams_leave_no_connection_behind(client: AbltClient) -> None:
    # A stream closes its connection at [DONE] (a server may keep it open with
    # keep-alive comments: issue 7); other calls keep reusing the pooled one.
    for _ in range(3):
        with client.chat(bot_slug=BOT_SLUG, prompt="Hi") as stream:
            stream.until_done()
        client.get_bots()
    pool = client._http._transport._pool  # type: ignore[attr-defined]
    assert len(pool.connections) == 1


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


# -- issue 7: surrogate halves, [DONE] on an open connection, an empty answer ------------------


def test_split_surrogate_halves_from_the_server_arrive_as_one_emoji(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="split_surrogate"))
    with client.chat(bot_slug=BOT_SLUG, prompt="Hi") as stream:
        assert stream.until_done() == "Smile \U0001f600 done"


def test_done_ends_the_answer_though_the_server_keeps_the_connection_open(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    # After [DONE] the emulator sends a keep-alive comment every 50 ms and never
    # ends the body: reading on would never finish (a worker thread is used so a
    # regression fails this test instead of hanging the run).
    emulator.inject(Fault(kind="keepalive_after_done", seconds=0.05))
    outcome: dict[str, object] = {}

    def read() -> None:
        stream = client.chat(bot_slug=BOT_SLUG, prompt="Hi")
        outcome["text"] = stream.until_done()
        outcome["closed"] = stream.response.is_closed

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the stream did not end at [DONE]"
    assert outcome["text"] == full_answer(client, "Hi")
    assert outcome["closed"] is True


def test_a_stream_of_only_done_is_a_complete_empty_answer_for_the_client(
    client: AbltClient, emulator: EmulatorHandle
) -> None:
    # The client reports what was sent; the app decides an empty answer is a failure.
    emulator.inject(Fault(kind="empty_answer"))
    with client.chat(bot_slug=BOT_SLUG, prompt="Hi") as stream:
        assert list(stream) == []
        assert stream.done
        assert stream.text == ""
