"""Following an answer while it is generated: its text as it comes, for a page.

Two ways, chosen by `AnswerService.follow`: `follow_live` when this process
generates the answer (it reads the in-memory `LiveAnswer`, no delay), and
`follow_stored` when another process does (it reads the database row every
`every` seconds, so it is about that far behind; on PostgreSQL it is woken by
each save's notification instead, see `webapp.answers.signals`).

Both yield `str` pieces made for `st.write_stream`; closing the iterator
detaches the reader, the answer goes on.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Final

from webapp.answers.live import LiveAnswer, Wait
from webapp.answers.signals import ANNOUNCE_EVERY, AnswerSignals, Watch
from webapp.chat import open_chat as chat
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore, Owner

FOLLOW_EVERY: Final = 0.5  # seconds between reads of an answer another process generates
# With PostgreSQL's notifications a follower re-reads at each save; this is its
# fallback, should a notification be lost.
FOLLOW_FALLBACK: Final = 2.0
TICK: Final = 0.5  # seconds a page waits for new text before it updates its status line
FLUSH_AFTER: Final = 0.06  # a pause this long in the text: the reader may draw what it held

OnTick = Callable[[Wait | None], None]


def follow_live(live: LiveAnswer, on_tick: OnTick | None, tick: float = TICK) -> Iterator[str]:
    """New text as it comes; "" when it pauses (a coalescing reader draws what it
    held back), and `on_tick(wait)` after each `tick` seconds without text.
    Ends once the answer has ended and its last text was yielded."""
    offset = 0
    quiet = 0.0
    while True:
        timeout = FLUSH_AFTER if quiet < FLUSH_AFTER else tick
        piece, ended = live.read(offset, timeout)
        if piece:
            offset += len(piece)
            quiet = 0.0
            yield piece
        elif not ended:
            quiet += timeout
            yield ""
            if quiet >= tick and on_tick is not None:
                on_tick(live.wait)
        if ended:
            rest, _ = live.read(offset, 0)
            if rest:
                yield rest
            return


def follow_stored(
    store: ConversationStore,
    owner: Owner,
    message_id: str,
    on_tick: OnTick | None,
    *,
    every: float,
    idle_after: timedelta,
    alive: Callable[[], set[str]],
    signals: AnswerSignals | None = None,
    tick: float = TICK,
) -> Iterator[str]:
    """The stored answer's text, re-read until it is no longer `streaming`.

    Without `signals` (SQLite) the row is read every `every` seconds. With
    them (PostgreSQL) it is read again as soon as a save of it is notified,
    and anyway every `every` seconds (a fallback: a lost notification delays
    text, never loses it); the process generating it is told someone follows
    (it then saves more often). Between reads it yields "" after `FLUSH_AFTER`
    and each `tick` s, with `on_tick(wait)` while no text comes. An answer
    whose heartbeat is older than `idle_after` lost its worker: it is settled
    `interrupted` (answers in `alive()`, generated here, are never touched)
    and the following ends. Database errors while settling are swallowed
    (the next reader settles it); others propagate."""
    watching = signals.watch(message_id) if signals is not None else contextlib.nullcontext()
    with watching as watch:
        shown = 0
        announced = -math.inf
        while True:
            if signals is not None and time.monotonic() - announced >= ANNOUNCE_EVERY:
                signals.announce(message_id)
                announced = time.monotonic()
            seen = watch.version if watch is not None else 0  # before the read: no wake missed
            row = store.answer_row(owner, message_id)
            if row is None:
                return
            piece = ""
            if len(row.text) > shown:
                piece, shown = row.text[shown:], len(row.text)
                yield piece
            if row.status != AnswerStatus.STREAMING:
                return
            beat = row.heartbeat_at
            if beat is not None and time.time() - beat.timestamp() > idle_after.total_seconds():
                # Its worker died: settle it (if the database lets us) and stop following.
                with contextlib.suppress(*chat.DATABASE_ERRORS):
                    store.settle_stale(owner, row.conversation_id, idle_after, alive=alive())
                return
            wait = Wait.from_json(row.waiting)
            if watch is None:
                if on_tick is not None:
                    on_tick(wait)
                time.sleep(every)
                continue
            yield from _until_saved(watch, seen, wait, on_tick, bool(piece), every, tick)


def _until_saved(
    watch: Watch,
    seen: int,
    wait: Wait | None,
    on_tick: OnTick | None,
    got_text: bool,
    every: float,
    tick: float,
) -> Iterator[str]:
    """Wait for the next notified save (or `every` s): "" after `FLUSH_AFTER`
    (a coalescing reader draws what it held) and each `tick` s meanwhile."""
    deadline = time.monotonic() + every
    pause = FLUSH_AFTER if got_text else tick
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or watch.wait(seen, min(pause, left)):
            return
        yield ""
        if on_tick is not None and not (got_text and pause == FLUSH_AFTER):
            on_tick(wait)
        pause = tick
