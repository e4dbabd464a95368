"""`TeamSlots`: an answer service's side of the team's limit on simultaneous answers.

The rows and the rules live in the database (`webapp.answers.slots_store.SlotBook`),
so the limit holds across every app process. This is what one process does
with them, on its answers' event loop:

- `take(live, owner)`: join the line and wait for a slot, looking again every
  `poll` s (at once when an answer of this process gives one back), and say
  where the answer stands (`Wait("line", ahead=..., limit=...)`, which the
  page shows as "waiting for a free slot (number 2 in line)"). Cancelling the task
  (Stop) ends the wait; the caller's `give_back` then frees its place in line.
- `give_back(answer_id)`: called however the answer ended (complete, Stop,
  error); a release that fails is healed by the next heartbeat.
- A heartbeat task (`beat_every` s) keeps this process's rows and reclaims
  the rows of dead processes, so a killed process's slots come back within
  `stale_after` plus a beat.
- `rate_limited(retry_after)`: a 429 lowers the limit for a while (`SlotBook.note_rate_limited`).

The blocking database calls run in threads, never on the loop that streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Collection, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from webapp.answers.live import LiveAnswer, Wait
from webapp.answers.slots_store import SlotBook

if TYPE_CHECKING:
    from webapp.conversations.store import ConversationStore

log = logging.getLogger(__name__)
DATABASE_ERRORS: Final = (SQLAlchemyError, OSError)
_T = TypeVar("_T")


def holder_id() -> str:
    """This app process's name in the slot rows: host, pid and a random part
    (a restarted process with a reused pid is still someone else)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class TeamSlots:
    """One process's use of the team's slots; made by `AnswerService`.

    `book`: the slot rows (default: on `store`'s database, no configured
    limit, `STALE_AFTER`; the app builds it from its settings, `webapp.backend`).
    `alive()`: ids of the answers this process runs (its heartbeat keeps their
    rows and drops the others').
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        store: ConversationStore,
        book: SlotBook | None,
        *,
        poll: float,
        alive: Callable[[], Collection[str]],
    ) -> None:
        self.book = book or SlotBook(store.engine, holder_id())
        self.poll = poll
        self.beat_every = self.book.stale_after.total_seconds() / 4
        self._alive = alive
        self._loop = loop
        self._freed: asyncio.Event | None = None  # made on the loop
        self._beater: asyncio.Task[None] | None = None
        self._notes: set[asyncio.Task[None]] = set()  # kept until done (no early GC)
        loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        self._freed = asyncio.Event()
        self._beater = self._loop.create_task(self._beat())

    def close(self) -> None:
        """Stop the heartbeat (the service is closing); rows left go stale."""

        def cancel() -> None:
            if self._beater is not None:
                self._beater.cancel()

        with contextlib.suppress(RuntimeError):  # the loop is closed already
            self._loop.call_soon_threadsafe(cancel)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.beat_every)
            try:
                listed_at = self.book.now()  # rows joining after it are kept
                alive = set(self._alive())
                await asyncio.to_thread(partial(self.book.beat, alive, listed_at=listed_at))
            except Exception as err:  # a failing database must not end the heartbeat
                log.warning("Could not keep this process's answer slots: %s", err)

    def join(self, answer_id: str, owner: str) -> bool:
        """Join the line from the caller's thread, as the prompt is sent, so the
        line is in the order of sending (`take` then waits for the turn).
        True when a slot was free and is now held (`take` has nothing to do).
        A database error is logged (False): `take` joins instead."""
        try:
            return self.book.claim(answer_id, owner, joining=True).granted
        except DATABASE_ERRORS as err:
            log.warning("Could not join the line of answer slots: %s", err)
            return False

    async def take(self, live: LiveAnswer, owner: str) -> None:
        """Wait until the answer holds a team slot (see the module docstring).

        Raises CancelledError when cancelled (Stop). A database that refuses
        the slot rows (a full disk) does not hold the answer back: it goes
        ahead without a slot (logged), as its other saves fail without cutting it.
        """
        since = time.time()
        shown: Wait | None = None
        while True:
            freed = self._freed
            try:
                place = await _finishing(asyncio.to_thread(self.book.claim, live.message_id, owner))
            except DATABASE_ERRORS as err:
                log.warning("Could not take an answer slot; answering without one: %s", err)
                place = None
            if place is None or place.granted:
                if shown is not None:
                    live.set_wait(None)
                return
            wait = Wait("line", since, ahead=place.ahead, limit=place.limit or 0)
            if wait != shown:
                live.set_wait(wait)
                shown = wait
            if freed is None:
                await asyncio.sleep(self.poll)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(freed.wait(), self.poll)

    async def give_back(self, answer_id: str) -> None:
        """Free the answer's slot or place in line (never raises: the heartbeat heals)."""
        try:
            await asyncio.to_thread(self.book.release, answer_id)
        except Exception as err:
            log.warning("Could not free an answer slot (the heartbeat will): %s", err)
        freed, self._freed = self._freed, asyncio.Event()
        if freed is not None:
            freed.set()

    def rate_limited(self, retry_after: float | None) -> None:
        """A 429 from the API (called on the loop): lower the limit for a while."""

        async def note() -> None:
            try:
                await asyncio.to_thread(self.book.note_rate_limited, retry_after)
            except Exception as err:
                log.warning("Could not record the API's rate limit: %s", err)

        task = self._loop.create_task(note())
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)


async def _finishing(call: Coroutine[Any, Any, _T]) -> _T:
    """Await `call`; when cancelled meanwhile (Stop), let it finish first, then
    re-raise: a claim that lands after the release would keep a place in line."""
    task = asyncio.ensure_future(call)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await task
        raise
