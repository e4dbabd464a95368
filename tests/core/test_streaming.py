"""ChatStream / AsyncChatStream over an in-memory transport: exactly which
pieces come out, when, and what happens when a stream goes wrong."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from ablt_core import (
    AbltClient,
    AsyncAbltClient,
    AsyncChatStream,
    ChatStream,
    StreamInterruptedError,
)

TOKEN = "sk-mock-secret-0123456789"


def event(payload: str) -> bytes:
    return f"data: {payload}\n\n".encode()


class RecordingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Response body chunks that count how many were taken, and may fail after them."""

    def __init__(self, chunks: list[bytes], fail_with: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail_with = fail_with
        self.taken = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk
        if self.fail_with is not None:
            raise self.fail_with

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk
        if self.fail_with is not None:
            raise self.fail_with

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def sse_handler(body: RecordingStream) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream", "x-request-id": "req-1"},
            stream=body,
        )

    return handler


def sync_stream(body: RecordingStream) -> ChatStream:
    client = AbltClient(
        TOKEN, "http://ablt.test", transport=httpx.MockTransport(sse_handler(body)), max_retries=0
    )
    return client.chat(bot_slug="omni", prompt="Hi")


async def async_stream(body: RecordingStream) -> AsyncChatStream:
    client = AsyncAbltClient(
        TOKEN, "http://ablt.test", transport=httpx.MockTransport(sse_handler(body)), max_retries=0
    )
    return await client.chat(bot_slug="omni", prompt="Hi")


def test_each_piece_reaches_the_caller_before_the_next_chunk_is_read() -> None:
    body = RecordingStream(
        [
            event('{"content":""}'),
            b'data: {"content":"Hel',
            b'lo"}\n',
            b"\n",
            event('{"content":" world"}') + b'data: {"content":"!"}\n',
            b"\n",
            event("[DONE]"),
        ]
    )
    stream = sync_stream(body)
    seen = [(piece, body.taken) for piece in stream]
    assert seen == [("Hello", 4), (" world", 5), ("!", 6)]
    assert stream.done
    assert stream.text == "Hello world!"
    assert body.closed


async def test_async_each_piece_reaches_the_caller_before_the_next_chunk_is_read() -> None:
    body = RecordingStream(
        [event('{"content":"A"}'), b'data: {"content":"B"}\r\n', b"\r\n", event("[DONE]")]
    )
    stream = await async_stream(body)
    seen = [(piece, body.taken) async for piece in stream]
    assert seen == [("A", 1), ("B", 3)]
    assert stream.done
    assert body.closed


def test_message_key_and_empty_pieces() -> None:
    body = RecordingStream(
        [
            event('{"content":""}'),
            event('{"message":"from message"}'),
            event('{"content":null,"message":" and"}'),
            event('{"content":" content"}'),
            b"data:\n\n",
            event("[DONE]"),
        ]
    )
    assert list(sync_stream(body)) == ["from message", " and", " content"]


def test_malformed_event_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    body = RecordingStream(
        [
            event('{"content":"a"}'),
            b"data: {not json\n\n",
            event("[1, 2]"),
            event('{"content":"b"}'),
            event("[DONE]"),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="ablt_core"):
        stream = sync_stream(body)
        assert list(stream) == ["a", "b"]
    assert stream.done
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    # Why and which request, never the event's text (it may be part of an answer).
    assert "not valid JSON" in warnings[0].getMessage()
    assert "req-1" in warnings[0].getMessage()
    assert "{not json" not in warnings[0].getMessage()


def test_stream_ending_without_done_is_interrupted() -> None:
    body = RecordingStream([event('{"content":"Par"}'), event('{"content":"tial"}')])
    stream = sync_stream(body)
    pieces = []
    with pytest.raises(StreamInterruptedError) as info:
        for piece in stream:
            pieces.append(piece)
    assert pieces == ["Par", "tial"]
    assert info.value.partial_text == "Partial"
    assert info.value.request_id == "req-1"
    assert stream.text == "Partial"
    assert not stream.done
    assert body.closed


def test_transport_error_mid_stream_is_interrupted_and_chained() -> None:
    failure = httpx.ReadError("connection reset")
    body = RecordingStream([event('{"content":"Half"}')], fail_with=failure)
    with pytest.raises(StreamInterruptedError) as info:
        list(sync_stream(body))
    assert info.value.partial_text == "Half"
    assert info.value.__cause__ is failure
    assert "connection reset" in str(info.value)
    assert body.closed


async def test_async_transport_error_mid_stream_is_interrupted_and_chained() -> None:
    failure = httpx.RemoteProtocolError("peer closed")
    body = RecordingStream([event('{"content":"Half"}')], fail_with=failure)
    stream = await async_stream(body)
    with pytest.raises(StreamInterruptedError) as info:
        async for _ in stream:
            pass
    assert info.value.partial_text == "Half"
    assert info.value.__cause__ is failure
    assert body.closed


def test_nothing_after_done_is_yielded() -> None:
    body = RecordingStream([event('{"content":"a"}'), event("[DONE]"), event('{"content":"x"}')])
    stream = sync_stream(body)
    assert list(stream) == ["a"]
    assert stream.text == "a"


def test_leaving_the_with_block_early_closes_the_response() -> None:
    body = RecordingStream([event('{"content":"a"}'), event('{"content":"b"}'), event("[DONE]")])
    with sync_stream(body) as stream:
        assert next(stream) == "a"
    assert body.closed
    assert stream.text == "a"
    assert list(stream) == []  # a closed stream yields nothing more
    stream.close()  # closing twice is harmless


async def test_async_with_block_closes_the_response() -> None:
    body = RecordingStream([event('{"content":"a"}'), event('{"content":"b"}'), event("[DONE]")])
    async with await async_stream(body) as stream:
        assert await stream.__anext__() == "a"
    assert body.closed


def test_until_done_returns_the_whole_answer() -> None:
    body = RecordingStream([event('{"content":"a"}'), event('{"content":"b"}'), event("[DONE]")])
    assert sync_stream(body).until_done() == "ab"


def test_stream_repr_shows_no_token() -> None:
    body = RecordingStream([event("[DONE]")])
    stream = sync_stream(body)
    assert TOKEN not in repr(stream)


def test_the_token_is_redacted_from_stream_warnings_and_errors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A proxy or a misbehaving server may echo the request's headers back.
    echoed = f"data: {{bad Bearer {TOKEN}\n\n".encode()
    failure = httpx.ReadError(f"reset while sending Authorization: Bearer {TOKEN}")
    body = RecordingStream([event('{"content":"Half"}'), echoed], fail_with=failure)
    with (
        caplog.at_level(logging.WARNING, logger="ablt_core"),
        pytest.raises(StreamInterruptedError) as info,
    ):
        list(sync_stream(body))
    assert info.value.partial_text == "Half"
    logged = [record.getMessage() for record in caplog.records]
    # The bad event is logged without its text at all; the error redacts the token.
    assert any("Skipping a malformed stream event" in line for line in logged)
    assert "[redacted]" in str(info.value)
    for text in [*logged, str(info.value), repr(info.value)]:
        assert TOKEN not in text


# -- surrogate halves (issue 7, item 4) ----------------------------------------------------


def test_an_emoji_split_into_two_escaped_halves_across_events_is_rejoined() -> None:
    body = RecordingStream(
        [
            event('{"content": "Smile \\ud83d"}'),
            event('{"content": "\\ude00 done"}'),
            event("[DONE]"),
        ]
    )
    stream = sync_stream(body)
    pieces = list(stream)
    assert "".join(pieces) == "Smile \U0001f600 done"
    assert stream.text == "Smile \U0001f600 done"
    for piece in pieces:
        piece.encode("utf-8")  # every piece on its own is valid Unicode


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # a high half followed by something else: it never pairs
        (['{"content": "a\\ud83d"}', '{"content": "b"}'], "a\ufffdb"),
        # a high half right before [DONE]
        (['{"content": "end \\ud83c"}'], "end \ufffd"),
        # a low half alone, and one inside a piece
        (['{"content": "\\udc00x"}', '{"content": "y\\ude00z"}'], "\ufffdxy\ufffdz"),
        # a whole pair inside one piece stays one character
        (['{"content": "\\ud83c\\udf89!"}'], "\U0001f389!"),
        # two high halves in a row: the first never pairs, the second does
        (
            ['{"content": "\\ud83d"}', '{"content": "\\ud83d"}', '{"content": "\\ude03"}'],
            "\ufffd\U0001f603",
        ),
    ],
)
def test_a_half_that_never_pairs_becomes_the_replacement_character(
    events: list[str], expected: str
) -> None:
    body = RecordingStream([*(event(e) for e in events), event("[DONE]")])
    stream = sync_stream(body)
    assert "".join(stream) == expected
    assert stream.text == expected
    expected.encode("utf-8")


async def test_async_stream_rejoins_split_halves_too() -> None:
    body = RecordingStream(
        [event('{"content": "\\ud83d"}'), event('{"content": "\\ude00"}'), event("[DONE]")]
    )
    stream = await async_stream(body)
    assert [piece async for piece in stream] == ["\U0001f600"]


def test_a_cut_stream_keeps_a_dangling_half_as_the_replacement_character() -> None:
    body = RecordingStream([event('{"content": "Half \\ud83d"}')])
    with pytest.raises(StreamInterruptedError) as info:
        list(sync_stream(body))
    assert info.value.partial_text == "Half \ufffd"
    info.value.partial_text.encode("utf-8")


# -- [DONE] ends the stream (issue 7, item 5) -----------------------------------------------


class EndlessAfterDone(RecordingStream):
    """A body that, after [DONE], sends keep-alive comments and never ends."""

    def __iter__(self) -> Iterator[bytes]:
        yield from super().__iter__()
        while not self.closed:
            self.taken += 1
            yield b": keep-alive\n\n"
            if self.taken > 10_000:
                raise AssertionError("the client kept reading after [DONE]")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in super().__aiter__():
            yield chunk
        while not self.closed:
            self.taken += 1
            yield b": keep-alive\n\n"
            if self.taken > 10_000:
                raise AssertionError("the client kept reading after [DONE]")


def test_done_ends_the_stream_and_closes_the_response_without_reading_on() -> None:
    body = EndlessAfterDone([event('{"content":"All"}'), event("[DONE]")])
    stream = sync_stream(body)
    assert list(stream) == ["All"]
    assert stream.done
    assert body.closed
    assert body.taken == 2  # not one keep-alive comment was read


async def test_async_done_ends_the_stream_and_closes_the_response() -> None:
    body = EndlessAfterDone([event('{"content":"All"}'), event("[DONE]")])
    stream = await async_stream(body)
    assert [piece async for piece in stream] == ["All"]
    assert body.closed
    assert body.taken == 2


def test_json_followed_by_more_text_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    body = RecordingStream(
        [event('{"content":"a"} trailing'), event(' {"content":"b"} '), event("[DONE]")]
    )
    with caplog.at_level(logging.WARNING, logger="ablt_core"):
        assert list(sync_stream(body)) == ["b"]  # spaces around a value are no fault
    message = caplog.records[0].getMessage()
    assert "not valid JSON" in message and "trailing" not in message  # no event text logged
