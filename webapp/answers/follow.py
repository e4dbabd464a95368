"""Following an answer while it is generated: its text as it comes, for a page.

Two ways, chosen by `AnswerService.follow`: `follow_live` when this process
generates the answer (it reads the in-memory `LiveAnswer`, no delay), and
`follow_stored` when another process does (it reads the database row every
`every` seconds, so it is about that far behind).

Both yield `str` pieces made for `st.write_stream`; closing the iterator
detaches the reader, the answer goes on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Final

from webapp.answers.live import LiveAnswer, Wait
from webapp.chat import open_chat as chat
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore, Owner

FOLLOW_EVERY: Final = 0.5  # seconds between reads of an answer another process generates
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
) -> Iterator[str]:
    """The stored answer's text, re-read every `every` seconds until it is no longer
    `streaming`. An answer whose heartbeat is older than `idle_after` lost its
    worker: it is settled `interrupted` (answers in `alive()`, generated here,
    are never touched) and the following ends. Database errors while settling
    are swallowed (the next reader settles it); others propagate."""
    shown = 0
    while True:
        row = store.answer_row(owner, message_id)
        if row is None:
            return
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
        if on_tick is not None:
            on_tick(Wait.from_json(row.waiting))
        time.sleep(every)
