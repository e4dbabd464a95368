"""An answer while it is generated: its text so far, what it waits for, its end.

`LiveAnswer` is shared by the worker (on the answers' event-loop thread) and
the pages that show it (Streamlit script threads), so everything in it is
guarded by one `threading.Condition`; readers wait on it for new text.

`Wait` says what a generating answer is waiting for, in a form that can be
written to the database (`to_json`) so a page on another app process can say
it too; `describe_wait` puts it in plain words.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass
from typing import Final, Literal

from webapp.conversations.model import AnswerStatus
from webapp.ui.i18n import _, format_number, ngettext

WaitKind = Literal["slot", "line", "first_byte", "retry"]
# Under this many seconds a first byte is just the bot thinking; after it the
# page says the API is slow, and counts.
SLOW_AFTER: Final = 5.0


@dataclass(frozen=True, slots=True)
class Wait:
    """What an answer waits for. Times are wall-clock seconds (time.time()),
    comparable across processes.

    kind: "slot" (a free worker slot of this process: `ahead` answers first),
    "line" (a free slot of the team's limit on simultaneous answers, `limit`;
    `ahead` answers are before it in line, on any app process), "first_byte"
    (the API has the request and has not answered yet), "retry"
    (the API failed with `reason`; the next attempt is at `until`).
    """

    kind: WaitKind
    since: float
    until: float | None = None
    reason: str = ""
    ahead: int = 0
    limit: int = 0  # "line": the team's limit in force (0: unknown)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> Wait | None:
        """The wait a worker wrote, or None (none, or unreadable: shown as no wait)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                kind=data["kind"],
                since=float(data["since"]),
                until=None if data.get("until") is None else float(data["until"]),
                reason=str(data.get("reason", "")),
                ahead=int(data.get("ahead", 0)),
                limit=int(data.get("limit", 0)),
            )
        except (ValueError, KeyError, TypeError):
            return None


def describe_wait(wait: Wait | None, bot_name: str, now: float | None = None) -> str:
    """What the page says while an answer has no new text (Markdown-safe words).

    E.g. "Rate limited by the aBLT API, retrying in 42 s." or "The aBLT API is
    slow to answer, still waiting (35 s)." Never blames the API for a wait of
    our own (a free slot).
    """
    now = time.time() if now is None else now
    if wait is None:
        return _("{bot_name} is writing…").format(bot_name=bot_name)
    if wait.kind == "slot":
        others = _(" ({ahead} ahead)").format(ahead=wait.ahead) if wait.ahead else ""
        return _(
            "Waiting for a free answer slot: this server is answering as many "
            "prompts as it is set to at once{others}. Your prompt is saved."
        ).format(others=others)
    if wait.kind == "line":
        allowed = (
            ngettext(
                ": the team's plan allows {limit} answer at once",
                ": the team's plan allows {limit} answers at once",
                wait.limit,
            ).format(limit=wait.limit)
            if wait.limit
            else ""
        )
        # "number 2", not "2nd": an English ordinal suffix reads wrong in every translation.
        return _(
            "Waiting for a free slot (number {place} in line){allowed}. Your prompt "
            "is saved; the answer starts by itself."
        ).format(place=format_number(wait.ahead + 1), allowed=allowed)
    if wait.kind == "retry":
        left = max(0, math.ceil((wait.until or now) - now))
        return _("{value}, retrying in {left} s.").format(
            value=wait.reason or _("The aBLT API failed"), left=left
        )
    waited = max(0.0, now - wait.since)
    if waited < SLOW_AFTER:
        return _("{bot_name} is thinking…").format(bot_name=bot_name)
    return _("The aBLT API is slow to answer, still waiting ({waited} s).").format(
        waited=int(waited)
    )


class LiveAnswer:
    """One answer being generated in this process.

    The worker calls `append`, `set_wait` and `finish`; readers call `read`,
    which blocks until there is text past their offset, the answer ended, or
    the timeout passed.
    """

    def __init__(self, message_id: str, conversation_id: str, owner: str) -> None:
        self.message_id = message_id
        self.conversation_id = conversation_id
        self.owner = owner
        self._cond = threading.Condition()
        self._parts: list[str] = []
        self._length = 0
        # Until its first words the bot is "thinking", also before the worker has
        # sent the request (a page may attach first: "writing" would be untrue).
        self._wait: Wait | None = Wait("first_byte", time.time())
        self._status: AnswerStatus = AnswerStatus.STREAMING
        self._error: str | None = None
        self._done = threading.Event()
        # Earlier messages left out of this answer's context (the page says so).
        self.context_omitted = 0
        # Wall-clock times (time.time()): started here, first text, end.
        self.started_at = time.time()
        self.first_text_at: float | None = None
        self.ended_at: float | None = None
        # When the request went to the API (past the team's line and the
        # worker's wait): the evaluation runs time answers from here.
        self.requested_at: float | None = None

    # -------------------------------------------------------------- writer

    def append(self, piece: str) -> None:
        if not piece:
            return
        with self._cond:
            if self.first_text_at is None:
                self.first_text_at = time.time()
            self._parts.append(piece)
            self._length += len(piece)
            self._wait = None
            self._cond.notify_all()

    def set_wait(self, wait: Wait | None) -> None:
        with self._cond:
            if wait is not None and wait.kind == "first_byte" and self.requested_at is None:
                self.requested_at = wait.since
            self._wait = wait
            self._cond.notify_all()

    def finish(self, status: AnswerStatus, error: str | None, text: str | None = None) -> None:
        """The end: its status, and the text that was saved (when cut to what was seen)."""
        with self._cond:
            if text is not None and text != self._text():
                self._parts = [text]
                self._length = len(text)
            self._status, self._error, self._wait = status, error, None
            self.ended_at = time.time()
            self._done.set()
            self._cond.notify_all()

    # -------------------------------------------------------------- readers

    def _text(self) -> str:
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def text(self) -> str:
        with self._cond:
            return self._text()

    @property
    def wait(self) -> Wait | None:
        with self._cond:
            return self._wait

    @property
    def status(self) -> AnswerStatus:
        with self._cond:
            return self._status

    @property
    def error(self) -> str | None:
        with self._cond:
            return self._error

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait_done(self, timeout: float | None = None) -> bool:
        """Block until the answer ended (saved with its final status)."""
        return self._done.wait(timeout)

    def read(self, offset: int, timeout: float) -> tuple[str, bool]:
        """(text after `offset`, ended): waits up to `timeout` s for either."""
        with self._cond:
            if self._length <= offset and not self._done.is_set():
                self._cond.wait(timeout)
            text = self._text()
            return text[offset:], self._done.is_set()
