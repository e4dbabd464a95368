"""Streamed answers: `ChatStream` and `AsyncChatStream`.

Both iterate the text pieces of an answer as they arrive (empty pieces are
skipped), so they can be handed straight to `st.write_stream`. They are context
managers, expose `.text` (everything received so far) and `.done` (the `[DONE]`
marker was seen), and always close the HTTP response: at `[DONE]` at once,
without waiting for the server to end the body (some keep the connection open
with keep-alive comments). Pieces are always valid Unicode: a UTF-16 surrogate
pair split across two events is rejoined, a half that never pairs becomes
U+FFFD (see `_text.SurrogateJoiner`). A stream that ends
without `[DONE]`, or whose connection fails mid-answer, raises
`StreamInterruptedError` carrying the partial text; such a stream is never
retried, since part of the answer has already reached the caller.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from types import TracebackType
from typing import Any, Self

import httpx

from ._constants import STREAM_DONE_MARKER
from ._exceptions import StreamInterruptedError, redact, truncate
from ._sse import ServerSentEvent, SSEDecoder
from ._text import SurrogateJoiner

__all__ = ["AsyncChatStream", "ChatStream", "piece_of"]

# json.loads re-checks its argument's type and matches whitespace around the
# value on every call; the decoder's C scanner skips both (the data is already
# stripped), which shows at hundreds of thousands of events a second. It raises
# StopIteration (or a ValueError) on bad JSON and returns where the value ended.
_scan_json: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def piece_of(payload: Any) -> str | None:
    """The text of one decoded event: its `content`, else its `message`; None if neither."""
    if not isinstance(payload, dict):
        return None
    piece = payload.get("content")
    if piece is None:
        piece = payload.get("message")
    return piece if isinstance(piece, str) else None


class _PieceDecoder:
    """Bytes of an aBLT answer stream in, non-empty text pieces out (shared by both streams)."""

    __slots__ = ("_joiner", "_logger", "_parts", "_request_id", "_secret", "_sse", "done")

    def __init__(self, logger: logging.Logger, request_id: str | None, secret: str | None) -> None:
        self._sse = SSEDecoder()
        self._logger = logger
        self._request_id = request_id
        self._secret = secret  # redacted from anything quoted in a log line or message
        self._parts: list[str] = []
        # Some servers split an emoji's UTF-16 halves across two events.
        self._joiner = SurrogateJoiner()
        self.done = False

    @property
    def text(self) -> str:
        # Join lazily and keep the result, so reading `.text` after every piece
        # stays linear in the answer's length.
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def feed(self, chunk: bytes) -> list[str]:
        return self._pieces(self._sse.feed(chunk))

    def flush(self) -> list[str]:
        return self._pieces(self._sse.flush())

    def _pieces(self, events: list[ServerSentEvent]) -> list[str]:
        pieces: list[str] = []
        joiner = self._joiner
        for event in events:
            if self.done:
                break
            data = event.data.strip()
            if not data:
                continue
            if data == STREAM_DONE_MARKER:
                self.done = True
                self._add(joiner.finish(), pieces)
                break
            try:
                payload, end = _scan_json(data, 0)
            except (StopIteration, ValueError):
                end = -1
            if end != len(data):  # not JSON, or more after the value
                self._skip(data, "not valid JSON")
                continue
            piece = piece_of(payload)
            if piece is None:
                self._skip(data, "no 'content' or 'message' text")
                continue
            if piece.isascii() and not joiner.holding:
                # No surrogate half in it, none held back: nothing to join or fix.
                if piece:
                    self._parts.append(piece)
                    pieces.append(piece)
                continue
            self._add(joiner.feed(piece), pieces)
        return pieces

    def _add(self, piece: str, pieces: list[str]) -> None:
        if piece:
            self._parts.append(piece)
            pieces.append(piece)

    def _skip(self, data: str, why: str) -> None:
        self._logger.warning(
            "Skipping a malformed stream event (%s; request id %s; %d characters)",
            why,
            self._request_id,
            len(data),
        )

    def interrupted(self, cause: BaseException | None) -> StreamInterruptedError:
        tail = self._joiner.finish()  # a half that can no longer pair
        if tail:
            self._parts.append(tail)
        text = self.text
        message = f"The answer stream was cut off before {STREAM_DONE_MARKER} "
        message += f"after {len(text)} characters"
        reason = redact(str(cause), self._secret) if cause is not None else ""
        message += f": {truncate(reason)}" if reason else "."
        if self._request_id:
            message += f" (request id: {self._request_id})"
        return StreamInterruptedError(message, partial_text=text, request_id=self._request_id)


class _StreamBase:
    """What both streams share: the response, its request id, and the text so far."""

    def __init__(
        self, response: httpx.Response, *, logger: logging.Logger, secret: str | None = None
    ) -> None:
        self.response = response
        self.request_id: str | None = response.headers.get("x-request-id")
        self._decoder = _PieceDecoder(logger, self.request_id, secret)

    @property
    def text(self) -> str:
        """All the text received so far."""
        return self._decoder.text

    @property
    def done(self) -> bool:
        """True once the `[DONE]` marker was seen: the answer is complete."""
        return self._decoder.done

    def __repr__(self) -> str:
        return f"<{type(self).__name__} done={self.done} chars={len(self.text)}>"


class ChatStream(_StreamBase):
    """The pieces of a streamed answer, as they arrive. Iterate it, or `with` it."""

    def __init__(
        self, response: httpx.Response, *, logger: logging.Logger, secret: str | None = None
    ) -> None:
        super().__init__(response, logger=logger, secret=secret)
        self._iterator = self._iterate()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._iterator)

    def _iterate(self) -> Generator[str, None, None]:
        decoder = self._decoder
        chunks = self.response.iter_bytes()
        try:
            try:
                for chunk in chunks:
                    yield from decoder.feed(chunk)
                    if decoder.done:
                        break
                else:
                    yield from decoder.flush()
            except httpx.HTTPError as err:
                raise decoder.interrupted(err) from err
            if not decoder.done:
                raise decoder.interrupted(None)
            # Nothing after [DONE] is read: the answer is complete, and a server
            # that keeps the connection open (keep-alive comments) must not hold
            # it. Closing the response now ends the stream at once.
        finally:
            self.response.close()

    def close(self) -> None:
        """Stop reading and release the connection. Safe to call twice."""
        self._iterator.close()
        self.response.close()

    def until_done(self) -> str:
        """Read the rest of the stream and return the whole answer."""
        for _ in self:
            pass
        return self.text

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncChatStream(_StreamBase):
    """The async twin of `ChatStream`: `async for piece in stream`, `async with`."""

    def __init__(
        self, response: httpx.Response, *, logger: logging.Logger, secret: str | None = None
    ) -> None:
        super().__init__(response, logger=logger, secret=secret)
        self._iterator = self._iterate()

    def __aiter__(self) -> AsyncIterator[str]:
        return self

    async def __anext__(self) -> str:
        return await self._iterator.__anext__()

    async def _iterate(self) -> AsyncGenerator[str, None]:
        decoder = self._decoder
        chunks = self.response.aiter_bytes()
        try:
            try:
                async for chunk in chunks:
                    for piece in decoder.feed(chunk):
                        yield piece
                    if decoder.done:
                        break
                else:
                    for piece in decoder.flush():
                        yield piece
            except httpx.HTTPError as err:
                raise decoder.interrupted(err) from err
            if not decoder.done:
                raise decoder.interrupted(None)
            # As in ChatStream: nothing after [DONE] is read.
        finally:
            await self.response.aclose()

    async def aclose(self) -> None:
        """Stop reading and release the connection. Safe to call twice."""
        await self._iterator.aclose()
        await self.response.aclose()

    async def until_done(self) -> str:
        """Read the rest of the stream and return the whole answer."""
        async for _ in self:
            pass
        return self.text

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
