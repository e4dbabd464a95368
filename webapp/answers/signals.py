"""Answers' saves pushed across app processes (PostgreSQL's LISTEN/NOTIFY).

`AnswerSignals` is one per `AnswerService` (so one per app process) on
PostgreSQL, around ONE `webapp.db.listen.Listener` connection:

- Every save of a generating answer NOTIFYs `ANSWER_SAVED` with its id (the
  store does it in the save's transaction). A page here that follows that
  answer (`follow_stored`, generated on another process) holds a `Watch`;
  the notification wakes it and it re-reads the row, instead of reading it
  every half second. No query per follower while nothing changes.
- A follower also NOTIFYs `ANSWER_FOLLOWED` when it starts and every
  `ANNOUNCE_EVERY` s: the process generating that answer then saves it about
  every `webapp.answers.saving.FOLLOWED_SAVE_EVERY` s instead of every
  second, for `FOLLOWED_FOR` s after the last announcement, so the follower
  is that far behind rather than a second. Answers nobody follows elsewhere
  keep the slow saves.

After the listener (re)connects every watch is woken (notifications sent
while it was away are lost), and followers still re-read at a slow fallback
interval, so a lost notification delays text, never loses it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Final

from sqlalchemy.engine import Engine

from webapp.db.listen import ANSWER_FOLLOWED, ANSWER_SAVED, Listener, notify

log = logging.getLogger(__name__)

ANNOUNCE_EVERY: Final = 2.0  # seconds between a follower's "still following" notifications
FOLLOWED_FOR: Final = 5.0  # seconds an announcement keeps the answer's saves frequent


class Watch:
    """A follower's wake-up for one answer: `version` grows at each notified save."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.version = 0
        self.users = 0

    def bump(self) -> None:
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Block until `version` is past `seen` (True) or `timeout` s passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.version != seen, timeout)


class AnswerSignals:
    """This process's end of the answers' notifications (see the module docstring).

    `on_followed(answer_id)`: called on the listener's thread when a page on
    any process announces it follows that answer. Thread-safe.
    """

    def __init__(self, engine: Engine, on_followed: Callable[[str], None]) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._watches: dict[str, Watch] = {}
        self.listener = Listener(
            engine,
            {ANSWER_SAVED: self._saved, ANSWER_FOLLOWED: on_followed},
            on_connect=self._wake_all,
            name="ablt-answer-signals",
        )

    def close(self) -> None:
        self.listener.close()

    @contextlib.contextmanager
    def watch(self, answer_id: str) -> Iterator[Watch]:
        """A `Watch` woken at each save of `answer_id`, for as long as the block runs."""
        with self._lock:
            watch = self._watches.setdefault(answer_id, Watch())
            watch.users += 1
        try:
            yield watch
        finally:
            with self._lock:
                watch.users -= 1
                if not watch.users:
                    self._watches.pop(answer_id, None)

    def announce(self, answer_id: str) -> None:
        """Tell the process generating `answer_id` that a page follows it (best effort)."""
        try:
            with self._engine.begin() as conn:
                notify(conn, ANSWER_FOLLOWED, answer_id)
        except Exception as err:  # the follower still reads; only its delay grows
            log.warning("Could not announce a follower: %s", err)

    def _saved(self, answer_id: str) -> None:
        with self._lock:
            watch = self._watches.get(answer_id)
        if watch is not None:
            watch.bump()

    def _wake_all(self) -> None:
        with self._lock:
            watches = list(self._watches.values())
        for watch in watches:
            watch.bump()
