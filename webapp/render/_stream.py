"""Feeding `st.write_stream` at a cost linear in the answer's length.

`st.write_stream` (Streamlit 1.67, elements/write.py) re-renders the whole
text so far for every `str` chunk; a *callable* chunk instead is simply
called. `stream_blocks` yields callables (`BlockWrite`), each drawing ONE
top-level Markdown block into its own `st.empty()` slot: a finished block is
drawn once (or not again at all when its last update already showed it), only
the open block is redrawn, and redraws are coalesced.

Redraws also keep to a budget, so the bytes sent stay bounded whatever the
answer's shape: each character received earns `REDRAW_BUDGET` characters of
HTML to draw, and the open block is redrawn only once the credit covers it.
A paragraph-sized block is still redrawn about every `MIN_UPDATE_INTERVAL`;
one long block (a 3,000-word paragraph, a long code fence, table or list) is
redrawn less often as it grows (about once per 1/REDRAW_BUDGET of its size
received), so what is sent stays below about REDRAW_BUDGET + 2 times the
answer. A block longer than the WebSocket's deflate window is charged by what
it costs on the compressed wire (`redraw_cost`), so a block that compresses
badly is redrawn less often still. The first piece is drawn at once, and the
end draws every block whole.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from webapp.render._markdown import normalise_newlines, parse, render_tokens, top_level_spans

__all__ = [
    "MIN_UPDATE_INTERVAL",
    "REDRAW_BUDGET",
    "BlockSplitter",
    "BlockWrite",
    "redraw_cost",
    "stream_blocks",
]

# At most ~7 redraws a second; the first piece is drawn at once. (Paragraphs on
# the compressed wire: 3.8x the answer at 0.05 s, 2.6-3.0x at 0.1 s, 2.7x at
# 0.15 s: each message costs ~70 bytes deflated beside its text;
# bench/stream_wire.py.)
MIN_UPDATE_INTERVAL = 0.15  # seconds
# Characters of HTML that may be drawn per character of answer received.
REDRAW_BUDGET = 12
# The WebSocket's per-message deflate (Streamlit 1.67 on uvicorn's websockets:
# 12 window bits, memLevel 5, context kept between messages) sends a redraw as
# little more than its difference from the last one only while that one is
# within its 4 KB window. A block drawn larger goes compressed on its own:
# it is charged WIRE_WEIGHT times that compressed size when this is more than
# its size (what the page receives), so that the redraws of long blocks stay
# within about REDRAW_BUDGET / WIRE_WEIGHT (0.5) times the answer on the wire.
DEFLATE_WINDOW_BITS = 12
DEFLATE_WINDOW = 1 << DEFLATE_WINDOW_BITS  # bytes
DEFLATE_MEMLEVEL = 5
WIRE_WEIGHT = 25


def redraw_cost(html: str, wire_weight: float | None = WIRE_WEIGHT) -> float:
    """What drawing `html` is charged against the redraw budget, in characters:
    its length, or for a block beyond the deflate window (`DEFLATE_WINDOW`)
    `wire_weight` times its deflated size if that is more (zlib with the
    WebSocket's settings; well under a millisecond for 40 KB). `wire_weight`
    None: its length only."""
    data = html.encode()
    if wire_weight is None or len(data) <= DEFLATE_WINDOW:
        return len(html)
    deflate = zlib.compressobj(6, zlib.DEFLATED, -DEFLATE_WINDOW_BITS, DEFLATE_MEMLEVEL)
    deflated = len(deflate.compress(data)) + len(deflate.flush(zlib.Z_SYNC_FLUSH))
    return max(len(html), wire_weight * deflated)


class _Slots:
    """The `st.empty()` placeholders of one streamed answer, one per block."""

    def __init__(self, container: Any = None) -> None:
        self._container = container
        self._slots: list[Any] = []

    def draw(self, index: int, html: str) -> None:
        import streamlit as st  # only when drawn: the splitting is testable without it

        parent = self._container if self._container is not None else st
        while len(self._slots) <= index:
            self._slots.append(parent.empty())
        self._slots[index].markdown(html, unsafe_allow_html=True)


@dataclass(frozen=True)
class BlockWrite:
    """One redraw: block number `index` (0-based, in the answer) now shows `html`.

    `final`: the block is complete and will not be drawn again. `shown`: how
    many characters of the raw pieces are on screen once this is drawn (the
    held-back rest arrives with a later write). Calling it draws it.
    """

    index: int
    html: str
    final: bool
    shown: int
    _draw: Callable[[int, str], None] | None = field(default=None, repr=False, compare=False)

    def __call__(self) -> None:
        if self._draw is not None:
            self._draw(self.index, self.html)


class BlockSplitter:
    """Raw pieces in; (index, html, final) block updates out. No Streamlit, no clock.

    Only the text from the first unfinished top-level block on is kept and
    re-parsed: a block is finished once the next top-level block has begun
    (from then on CommonMark cannot change it). Known difference with a whole
    re-parse: a link reference definition applies only within its own block.
    """

    def __init__(self) -> None:
        self._open = ""  # normalised text from the first unfinished block on
        self._cr = False  # a piece ended with CR: CRLF may be split across pieces
        self._done = 0  # blocks finished (and their indexes taken)
        self._sent: dict[int, str] = {}  # what each unfinished block last showed
        self.received = 0  # characters of raw pieces taken in

    @property
    def pending_size(self) -> int:
        """About what the next `updates` will draw: the text from the first
        unfinished block on (HTML is about as long; a table's is longer)."""
        return len(self._open)

    def add(self, piece: str) -> None:
        """Take one raw piece as the bot sent it."""
        self.received += len(piece)
        if self._cr:
            piece, self._cr = "\r" + piece, False
        if piece.endswith("\r"):
            piece, self._cr = piece[:-1], True
        self._open += normalise_newlines(piece)

    def updates(self, *, end: bool = False) -> list[tuple[int, str, bool]]:
        """What changed since the last call. With `end`, every block is final."""
        if end and self._cr:
            self._cr = False
            self._open += "\n"
        env: dict[str, Any] = {}
        tokens = parse(self._open, env)
        spans = top_level_spans(tokens)
        out: list[tuple[int, str, bool]] = []
        cut_line = None
        for number, (start, stop) in enumerate(spans):
            final = end or number < len(spans) - 1
            index = self._done + number
            html = render_tokens(tokens[start:stop], env)
            if final:
                if self._sent.pop(index, None) != html:
                    out.append((index, html, True))
            elif self._sent.get(index) != html:
                self._sent[index] = html
                out.append((index, html, False))
            if not final:
                block_map = tokens[start].map
                cut_line = block_map[0] if block_map else 0
        finished = len(spans) if cut_line is None else len(spans) - 1
        self._done += finished
        if end:
            self._open = ""
        elif cut_line is not None and finished:
            self._open = _from_line(self._open, cut_line)
        return out


def _from_line(text: str, line: int) -> str:
    """`text` from the start of its `line`-th line (0-based)."""
    offset = 0
    for _ in range(line):
        found = text.find("\n", offset)
        if found < 0:
            return ""
        offset = found + 1
    return text[offset:]


def stream_blocks(
    pieces: Iterable[str],
    *,
    container: Any = None,
    interval: float = MIN_UPDATE_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    budget: float | None = REDRAW_BUDGET,
    wire_weight: float | None = WIRE_WEIGHT,
) -> Iterator[BlockWrite]:
    """`BlockWrite`s for `st.write_stream`, from an answer's raw text pieces.

    `pieces`: the text as the bot sent it (any split; CRLF may straddle two
    pieces). An empty piece is a tick: it adds nothing but lets held-back text
    out once `interval` has passed, so a source that may pause should yield ""
    every `interval` or so. The first non-empty piece is drawn at once, later
    ones at most once per `interval` seconds, and everything is drawn when
    `pieces` ends. `container`: where the block slots go (default: wherever
    `st.write_stream` is called, e.g. inside `with st.chat_message(...)`).
    `budget`: characters of HTML drawn per character received (see the module
    docstring; None: no budget, only `interval`). `wire_weight`: how a block
    beyond the deflate window is charged (`redraw_cost`; None: by its size
    alone). The final drawing equals
    `answer_blocks(text)` of the whole text.
    """
    splitter = BlockSplitter()
    draw = _Slots(container).draw
    last: float | None = None
    pending = False
    credit = 0.0  # characters of HTML that may still be drawn (may run below 0)
    rate = 1.0  # the open block's last redraw cost per character of its HTML

    def writes(end: bool) -> Iterator[BlockWrite]:
        nonlocal credit, rate
        rate = 1.0
        for index, html, final in splitter.updates(end=end):
            cost = redraw_cost(html, wire_weight)
            credit -= cost
            if not final:
                rate = cost / max(len(html), 1)
            yield BlockWrite(index, html, final, splitter.received, draw)

    for piece in pieces:
        if piece:
            splitter.add(piece)
            pending = True
            if budget is not None:
                credit += budget * len(piece)
        if pending and (
            last is None
            or (
                clock() - last >= interval
                and (budget is None or credit >= rate * splitter.pending_size)
            )
        ):
            yield from writes(False)
            last, pending = clock(), False
    yield from writes(True)
