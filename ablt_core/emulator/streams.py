"""When each streamed answer's events left the emulator: the timings a benchmark needs.

Every streamed ``POST /v1/chat`` gets one ``StreamRecord``: its ``x-request-id``,
the prompt it answered (the last user message), the whole answer text, and the
wall-clock times (``time.time()``, seconds since the epoch, so a browser on the
same machine can compare them with ``performance.timeOrigin + performance.now()``)
at which the response started, the first non-empty piece was handed to the
server, and the stream ended (``[DONE]`` or a fault). Read them with
``handle.streams`` or ``GET /_emulator/streams``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class StreamRecord:
    """One streamed answer and when its events were sent (epoch seconds)."""

    request_id: str
    prompt: str  # the last user message: what the answer quotes
    text: str  # the whole answer as generated (a cut stream sends less of it)
    started_at: float
    first_piece_at: float | None = None  # the first non-empty piece
    ended_at: float | None = None  # [DONE] sent, or the stream ended by a fault
    pieces_sent: int = 0  # non-empty pieces sent
    completed: bool = False  # True once [DONE] was sent

    def to_json(self) -> dict[str, Any]:
        """Plain dict for ``GET /_emulator/streams``."""
        return asdict(self)


class InFlight:
    """How many chat requests the emulator is handling right now, and the most at once.

    A chat is in flight from the moment its request arrives (a slow first byte
    included) until its response has ended or its client went away: what a
    plan's limit on simultaneous use counts. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = 0
        self._max = 0

    def enter(self) -> None:
        """A chat request arrived."""
        with self._lock:
            self._now += 1
            self._max = max(self._max, self._now)

    def leave(self) -> None:
        """A chat request ended (answered, failed, or its client went away)."""
        with self._lock:
            self._now -= 1

    def snapshot(self) -> tuple[int, int]:
        """(in flight now, the most in flight at once since the last reset)."""
        with self._lock:
            return self._now, self._max

    def reset(self) -> None:
        """Start counting the most at once afresh (from those in flight now)."""
        with self._lock:
            self._max = self._now


class StreamLog:
    """The streamed answers so far, oldest first (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[StreamRecord] = []

    def start(self, request_id: str, prompt: str, text: str) -> StreamRecord:
        """Record a stream that is about to send its first event."""
        record = StreamRecord(request_id, prompt, text, started_at=time.time())
        with self._lock:
            self._items.append(record)
        return record

    def piece_sent(self, record: StreamRecord) -> None:
        """Note one non-empty piece handed to the server."""
        with self._lock:
            if record.first_piece_at is None:
                record.first_piece_at = time.time()
            record.pieces_sent += 1

    def ended(self, record: StreamRecord, *, completed: bool) -> None:
        """Note the stream's end (``completed``: with ``[DONE]``); the first call counts
        (a keep-alive after ``[DONE]`` does not move the end)."""
        with self._lock:
            if record.ended_at is None:
                record.ended_at = time.time()
                record.completed = completed

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._items.clear()

    def list(self) -> list[StreamRecord]:
        """Snapshots of the records, oldest first."""
        with self._lock:
            return [StreamRecord(**asdict(item)) for item in self._items]
