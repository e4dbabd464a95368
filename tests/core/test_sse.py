"""The SSE decoder at the byte level: chunk boundaries, line endings, fields,
unicode, end of stream, and proof that events come out without waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ablt_core import ServerSentEvent, SSEDecoder, iter_sse
from ablt_core._sse import aiter_sse

ABLT_STREAM = (
    b'data: {"content":""}\n\n'
    b'data: {"content":"To"}\n\n'
    b'data: {"content":" pay"}\n\n'
    b"data: [DONE]\n\n"
)
ABLT_DATA = ['{"content":""}', '{"content":"To"}', '{"content":" pay"}', "[DONE]"]


def decode(chunks: list[bytes]) -> list[ServerSentEvent]:
    return list(iter_sse(chunks))


def data_of(chunks: list[bytes]) -> list[str]:
    return [event.data for event in decode(chunks)]


def test_decodes_the_abltstream_format() -> None:
    events = decode([ABLT_STREAM])
    assert [e.data for e in events] == ABLT_DATA
    assert all(e.event == "message" for e in events)


@pytest.mark.parametrize("cut", range(1, len(ABLT_STREAM)))
def test_a_split_at_any_byte_boundary_changes_nothing(cut: int) -> None:
    assert data_of([ABLT_STREAM[:cut], ABLT_STREAM[cut:]]) == ABLT_DATA


def test_one_byte_at_a_time() -> None:
    assert data_of([ABLT_STREAM[i : i + 1] for i in range(len(ABLT_STREAM))]) == ABLT_DATA


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending(newline: bytes) -> None:
    stream = ABLT_STREAM.replace(b"\n", newline)
    assert data_of([stream]) == ABLT_DATA
    assert data_of([stream[i : i + 1] for i in range(len(stream))]) == ABLT_DATA


def test_crlf_split_between_chunks_is_one_line_ending() -> None:
    # Were the LF after a chunk-final CR read as a blank line, "a" would be
    # dispatched on its own.
    assert data_of([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == ["a\nb"]


def test_mixed_line_endings_in_one_chunk() -> None:
    assert data_of([b"data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r"]) == ["a\nb\nc", "d"]


def test_comments_and_keepalives_are_ignored() -> None:
    stream = b": keep-alive\n\n:another\ndata: x\n: in the middle\n\n\n\n"
    assert data_of([stream]) == ["x"]


def test_event_id_and_retry_fields() -> None:
    stream = b"event: delta\nid: 42\nretry: 1500\ndata: x\n\ndata: y\n\n"
    first, second = decode([stream])
    assert (first.event, first.id, first.retry, first.data) == ("delta", "42", 1500, "x")
    # The event type resets after each event; the last id and retry persist.
    assert (second.event, second.id, second.retry, second.data) == ("message", "42", 1500, "y")


def test_invalid_retry_and_unknown_fields_are_ignored() -> None:
    (event,) = decode([b"retry: soon\nfoo: bar\ndata: x\n\n"])
    assert event.retry is None
    assert event.data == "x"


def test_several_data_lines_join_with_newline() -> None:
    stream = b'data: {"content":\ndata: "two lines"}\n\n'
    assert data_of([stream]) == ['{"content":\n"two lines"}']


def test_only_one_space_after_the_colon_is_dropped_and_no_colon_means_empty_value() -> None:
    assert data_of([b"data:  two spaces\ndata:none\ndata\n\n"]) == [" two spaces\nnone\n"]


def test_an_event_without_data_is_not_dispatched() -> None:
    assert decode([b"event: ping\n\nid: 7\n\n"]) == []


@pytest.mark.parametrize("cut", range(1, 30))
def test_unicode_split_mid_character(cut: int) -> None:
    stream = 'data: {"content":"héllo 🌍 мир"}\n\n'.encode()
    assert data_of([stream[:cut], stream[cut:]]) == ['{"content":"héllo 🌍 мир"}']


def test_unicode_one_byte_at_a_time() -> None:
    stream = "data: ١٢٣ 🌍\n\n".encode()
    assert data_of([stream[i : i + 1] for i in range(len(stream))]) == ["١٢٣ 🌍"]


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert data_of([b"data: a\xffb\n\n"]) == ["a\ufffdb"]


def test_a_leading_bom_is_skipped_even_when_split() -> None:
    bom = "\ufeff".encode()
    assert data_of([bom[:1], bom[1:] + b"data: x\n\n"]) == ["x"]


def test_unicode_line_separators_are_data_not_line_endings() -> None:
    # str.splitlines() would split on these; the SSE rules do not.
    assert data_of(["data: a\u2028b\x0cc\x1dd\n\n".encode()]) == ["a\u2028b\x0cc\x1dd"]


def test_trailing_event_without_blank_line_is_flushed_at_eof() -> None:
    assert data_of([b"data: x\n\ndata: last\n"]) == ["x", "last"]
    assert data_of([b"data: x\n\ndata: last"]) == ["x", "last"]
    assert data_of([b"data: x\r\n\r\ndata: [DONE]\r"]) == ["x", "[DONE]"]


def test_feed_returns_events_the_moment_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert [e.data for e in decoder.feed(b"\n")] == ["a"]
    assert [e.data for e in decoder.feed(b"data: b\n\ndata: c\n\ndata: d")] == ["b", "c"]
    assert [e.data for e in decoder.flush()] == ["d"]


def test_a_cr_at_the_end_of_a_chunk_dispatches_at_once() -> None:
    # CR-terminated streams must not wait for the next chunk to see if an LF follows.
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert [e.data for e in decoder.feed(b"\r")] == ["a"]


class RecordingChunks:
    """A byte iterator that counts how many chunks were taken from it."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.taken += 1
            yield chunk


def test_each_event_is_yielded_before_the_next_chunk_is_read() -> None:
    source = RecordingChunks(
        [b"data: a\n", b"\n", b"data: b\n\nda", b"ta: c\n", b"\n", b"data: [DONE]\n\n"]
    )
    seen = [(event.data, source.taken) for event in iter_sse(source)]
    # "a" is complete after chunk 2, "b" after chunk 3, "c" after chunk 5:
    # each reached the consumer while the following chunk was still unread.
    assert seen == [("a", 2), ("b", 3), ("c", 5), ("[DONE]", 6)]


async def test_async_decoding_yields_before_reading_on() -> None:
    chunks = [b"data: a\n\n", b"data: b\r\n", b"\r\n", b"data: tail"]
    taken = 0

    async def source() -> AsyncIterator[bytes]:
        nonlocal taken
        for chunk in chunks:
            taken += 1
            yield chunk

    seen = [(event.data, taken) async for event in aiter_sse(source())]
    assert seen == [("a", 1), ("b", 3), ("tail", 4)]


# Every rule at once, for the fast path (a chunk split at each "\n\n") and the
# general one: runs of blank lines, a field before data, multi-line data,
# comments between events, an event type, id and retry, and a data line that
# is not the usual "data: " form.
RICH_STREAM = (
    b"\n\n\n"
    b"data: one\n\n"
    b": keep-alive\n\n\n\n"
    b"event: note\nid: 7\nretry: 300\ndata: two\ndata:  three\n\n"
    b"data: four\n: between\ndata: five\n\n"
    b"data:six\n\n"
    b"data: seven\n\n\n"
    b"event: skipped\n\n"
    b"data: eight"
)
RICH_EVENTS = [
    ServerSentEvent("one"),
    ServerSentEvent("two\n three", "note", "7", 300),
    ServerSentEvent("four\nfive", "message", "7", 300),
    ServerSentEvent("six", "message", "7", 300),
    ServerSentEvent("seven", "message", "7", 300),
    ServerSentEvent("eight", "message", "7", 300),
]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 4096])
def test_every_rule_holds_for_any_chunk_size(newline: bytes, size: int) -> None:
    stream = RICH_STREAM.replace(b"\n", newline)
    chunks = [stream[i : i + size] for i in range(0, len(stream), size)]
    assert decode(chunks) == RICH_EVENTS
