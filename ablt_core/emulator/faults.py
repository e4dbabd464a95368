"""Fault injection and request recording, shared by the server and its handle.

A ``Fault`` is queued on the server; each request takes the first queued fault
that matches it (same path, or ``path="*"``; the stream faults match only
streamed chats), and that fault's ``times`` counts down by one. Faults never
apply to the control endpoints under ``/_emulator/``.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

FAULT_KINDS = (
    "rate_limit",
    "server_error",
    "unauthorized",
    "drop_stream",
    "malformed_event",
    "slow_first_byte",
    "split_surrogate",
    "keepalive_after_done",
    "empty_answer",
    "scripted_answer",
)
STREAM_KINDS = frozenset(
    {
        "drop_stream",
        "malformed_event",
        "split_surrogate",
        "keepalive_after_done",
        "empty_answer",
        "scripted_answer",
    }
)
# split_surrogate: the whole answer, sent as two events that split the emoji's
# UTF-16 halves (JSON escapes), as some servers do.
SPLIT_SURROGATE_EVENTS = (
    b'data: {"content": "Smile \\ud83d"}\n\n',
    b'data: {"content": "\\ude00 done"}\n\n',
)
SPLIT_SURROGATE_TEXT = "Smile \U0001f600 done"
DROP_MODES = ("close", "abort")


@dataclass
class Fault:
    """One failure to inject; only the parameters of its ``kind`` are used.

    ``times``: how many matching requests it hits (``None``: until cleared).
    """

    kind: str
    path: str = "/v1/chat"
    times: int | None = 1
    retry_after: float | None = 1.0  # rate_limit: the Retry-After header (None: no header)
    status: int = 500  # server_error: 500, 502, 503, ...
    after_pieces: int = 3  # drop_stream / malformed_event: non-empty pieces sent first
    mode: str = "close"  # drop_stream: "close" (clean end, no [DONE]) or "abort"
    seconds: float = 1.0  # slow_first_byte: sleep before the response starts;
    # keepalive_after_done: the gap between keep-alive comments sent after [DONE]
    # (the connection then stays open until the client closes it). empty_answer:
    # the stream is only `data: [DONE]`.
    text: str = ""  # scripted_answer: the answer streamed instead, word by word
    bot: str = ""  # only chats with this bot slug (a comparison's one failing column); "": any

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.mode not in DROP_MODES:
            raise ValueError(f"mode must be one of {DROP_MODES}")
        if not 500 <= self.status <= 599:
            raise ValueError("status must be a 5xx code")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1, or None for unlimited")
        if self.after_pieces < 0 or self.seconds < 0:
            raise ValueError("after_pieces and seconds must be >= 0")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        """Build from the JSON of ``POST /_emulator/faults``; ValueError if invalid."""
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        try:
            return cls(**data)
        except TypeError as err:  # missing `kind`
            raise ValueError(str(err)) from err

    def to_json(self) -> dict[str, Any]:
        """Plain dict for the control endpoints."""
        return asdict(self)

    def matches(self, path: str, streamed_chat: bool, bot_slug: str = "") -> bool:
        """Whether this fault applies to a request for ``path`` (a chat with ``bot_slug``)."""
        if self.path not in ("*", path) or self.bot not in ("", bot_slug):
            return False
        return streamed_chat or self.kind not in STREAM_KINDS


class FaultBook:
    """The queue of injected faults (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue ``fault`` behind those already injected."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Forget every fault."""
        with self._lock:
            self._faults.clear()

    def list(self) -> list[Fault]:
        """A snapshot of the queued faults."""
        with self._lock:
            return list(self._faults)

    def take(self, path: str, streamed_chat: bool, bot_slug: str = "") -> Fault | None:
        """The first fault matching this request, counting its ``times`` down."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(path, streamed_chat, bot_slug):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it (the Authorization header removed)."""

    method: str
    path: str
    json: Any  # the parsed JSON body, or None
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str = ""
    # The client closed the connection before the response ended (a Stop, a
    # cancelled request): seen while waiting to answer or mid-stream.
    closed_early: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain dict for ``GET /_emulator/requests``."""
        return asdict(self)


class RequestLog:
    """Every request the emulator received, in order (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def add(self, item: RecordedRequest) -> None:
        """Append one request."""
        with self._lock:
            self._items.append(item)

    def mark_closed_early(self, request_id: str) -> None:
        """Note that the client of request `request_id` went away before the end."""
        with self._lock:
            self._items = [
                replace(item, closed_early=True) if item.request_id == request_id else item
                for item in self._items
            ]

    def clear(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self._items.clear()

    def list(self) -> list[RecordedRequest]:
        """A snapshot, oldest first."""
        with self._lock:
            return list(self._items)
