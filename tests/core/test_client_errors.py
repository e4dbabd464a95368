"""AbltClient against the emulator over real loopback HTTP: every error from a
real server response, the retries the server sees, and streams that break or
end oddly (issue 7)."""

from __future__ import annotations

import logging
import threading

import httpx
import pytest

from ablt_core import (
    AbltClient,
    AbltError,
    APIConnectionError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from ablt_core._constants import RETRY_AFTER_CAP, RETRY_BACKOFF_BASE, RETRY_BACKOFF_CAP
from ablt_core.emulator import EmulatorHandle, Fault

from .conftest import BOT_SLUG, PROMPT, chat_requests, free_port, full_answer

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
