"""An incremental Server-Sent Events decoder: bytes in, events out.

Follows the event-stream rules of the HTML spec: lines end with CRLF, LF or CR;
an event is dispatched at a blank line; several `data:` lines join with "\\n";
lines starting with ":" are comments; `event:`, `id:` and `retry:` set their
fields; one space after the colon is dropped; a leading BOM is skipped. Bytes
are decoded with an incremental UTF-8 decoder, so a character split across
chunks comes out whole.

Events come out of `feed` as soon as the blank line that ends them has been fed:
nothing waits for a buffer to fill. Lines are found with str methods on each
chunk, never a Python loop per byte.

One deliberate leniency: at the end of the stream, `flush` dispatches an event
whose final blank line never came (the spec drops it). Nothing can complete it
any more, and the caller still decides whether the stream was whole (for aBLT,
by the `[DONE]` marker).
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import NamedTuple

__all__ = ["SSEDecoder", "ServerSentEvent", "aiter_sse", "iter_sse"]


class ServerSentEvent(NamedTuple):
    """One dispatched event (a NamedTuple: immutable and cheap to build per event)."""

    data: str = ""
    event: str = "message"
    id: str = ""
    retry: int | None = None


# tuple.__new__ skips the NamedTuple's Python-level __new__ (one call per event).
_tuple_new = tuple.__new__


class SSEDecoder:
    """Feed byte chunks with `feed`, then call `flush` once at the end of the stream."""

    __slots__ = (
        "_data",
        "_decoder",
        "_event",
        "_last_id",
        "_retry",
        "_skip_lf",
        "_started",
        "_tail",
    )

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = ""  # the current unterminated line
        self._skip_lf = False  # the previous chunk ended with CR: a leading LF belongs to it
        self._started = False  # a BOM is only skipped at the very start
        self._data: list[str] = []
        self._event = ""
        self._last_id = ""
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by `chunk` (often none, sometimes several)."""
        text = self._decoder.decode(chunk)
        return self._feed_text(text) if text else []

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: the last line and event, even without their terminators."""
        text = self._decoder.decode(b"", final=True)
        events = self._feed_text(text) if text else []
        if self._tail:
            line, self._tail = self._tail, ""
            self._process_line(line)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        return events

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._skip_lf:
            self._skip_lf = False
            if text.startswith("\n"):
                text = text[1:]
        if "\r" in text:
            # A CR at the very end already ends its line; remember to drop the LF
            # that may follow it in the next chunk (a CRLF split across chunks).
            self._skip_lf = text.endswith("\r")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            self._tail += text
            return []
        if self._tail:
            text = self._tail + text
        # A blank line ends an event, so (CRs already made LFs) every "\n\n" ends
        # one: split there and handle each event's lines as a block. The usual
        # block is one `data: ` line (no "\n" in it): it becomes an event at once.
        blocks = text.split("\n\n")
        rest = blocks.pop()  # after the last blank line: the next event, unfinished
        events: list[ServerSentEvent] = []
        for block in blocks:
            if not self._data and block.startswith("data: ") and "\n" not in block:
                event = (block[6:], self._event or "message", self._last_id, self._retry)
                events.append(_tuple_new(ServerSentEvent, event))
                self._event = ""
                continue
            for line in block.split("\n"):
                self._line(line, events)
            self._line("", events)  # the blank line that ended the block
        if "\n" in rest:
            # Its complete lines are read now (a stream of comments must not pile up).
            lines, rest = rest.rsplit("\n", 1)
            for line in lines.split("\n"):
                self._line(line, events)
        self._tail = rest
        return events

    def _line(self, line: str, events: list[ServerSentEvent]) -> None:
        """One complete line: a field, a comment, or (blank) the end of an event."""
        if line.startswith("data: "):
            self._data.append(line[6:])  # the usual line: skip the general parser
        elif line:
            self._process_line(line)
        else:
            event = self._dispatch()
            if event is not None:
                events.append(event)

    def _process_line(self, line: str) -> None:
        if line[0] == ":":
            return  # comment
        field, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        # any other field is ignored, as the spec says

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        fields = ("\n".join(self._data), self._event or "message", self._last_id, self._retry)
        event: ServerSentEvent = _tuple_new(ServerSentEvent, fields)
        self._data = []
        self._event = ""
        return event


def iter_sse(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Events from an iterable of byte chunks, each yielded before the next chunk is read."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """The async twin of `iter_sse`."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
