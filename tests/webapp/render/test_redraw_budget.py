"""The redraw budget charges a long block what it costs on the compressed wire
(issue 24: at most 3x the answer's size on the wire, in every shape).

A block beyond the WebSocket's 4 KB deflate window cannot go as a difference
from its last drawing: it is charged `WIRE_WEIGHT` times its deflated size
(`redraw_cost`), so a block that compresses badly (a code fence, a list) is
redrawn less often. What is drawn meanwhile is always the rendering of the text
received so far, and the end is exactly the saved rendering.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

import pytest

from ablt_core.emulator.answers import shaped
from webapp.render import answer_blocks, stream_blocks
from webapp.render._stream import (
    DEFLATE_MEMLEVEL,
    DEFLATE_WINDOW,
    DEFLATE_WINDOW_BITS,
    REDRAW_BUDGET,
    WIRE_WEIGHT,
    redraw_cost,
)

# Varied words (a number in each) compress about as badly as a real code file.
WORDS = " ".join(f"w{(n * 7919) % 10007}" for n in range(3_000))


def word_pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def paced(text: str, clock: list[float], words_per_s: float = 50) -> Iterator[str]:
    for piece in word_pieces(text):
        clock[0] += 1 / words_per_s
        yield piece


def deflated(writes: list[str]) -> int:
    """Bytes of the writes on a WebSocket with per-message deflate (4 KB window)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -DEFLATE_WINDOW_BITS, DEFLATE_MEMLEVEL)
    return sum(
        len(deflate.compress(html.encode())) + len(deflate.flush(zlib.Z_SYNC_FLUSH))
        for html in writes
    )


def test_a_block_within_the_deflate_window_costs_its_size() -> None:
    html = answer_blocks(" ".join(WORDS.split()[:100]))[0]
    assert len(html.encode()) <= DEFLATE_WINDOW
    assert redraw_cost(html) == len(html)


def test_a_long_block_that_compresses_badly_costs_more_than_its_size() -> None:
    html = answer_blocks(shaped(WORDS, "code"))[0]
    assert len(html.encode()) > DEFLATE_WINDOW
    assert redraw_cost(html) > len(html)
    # ... and one that compresses well (a repeated sentence) costs its size.
    repeated = answer_blocks("The same sentence again. " * 800)[0]
    assert redraw_cost(repeated) == len(repeated)


@pytest.mark.parametrize("shape", ["code", "list", "table"])
def test_every_redraw_of_a_long_block_is_the_rendering_of_the_text_so_far(shape: str) -> None:
    text = shaped(WORDS, shape)
    clock = [0.0]
    writes = list(stream_blocks(paced(text, clock), clock=lambda: clock[0]))
    assert writes[0].shown == len(word_pieces(text)[0])  # the first piece at once
    for write in writes[:-1]:
        assert not write.final
        assert write.html == answer_blocks(text[: write.shown])[write.index]
    # The end is exactly the saved rendering.
    assert writes[-1].final
    assert [writes[-1].html] == answer_blocks(text)


@pytest.mark.parametrize("shape", ["code", "list"])
def test_a_long_block_costs_a_bounded_multiple_of_the_answer_on_the_wire(shape: str) -> None:
    text = shaped(WORDS, shape)
    clock = [0.0]
    charged = [w.html for w in stream_blocks(paced(text, clock), clock=lambda: clock[0])]
    clock = [0.0]
    by_size = [
        w.html for w in stream_blocks(paced(text, clock), clock=lambda: clock[0], wire_weight=None)
    ]
    # Charged by their deflated size, the redraws before the final drawing stay
    # within about REDRAW_BUDGET / WIRE_WEIGHT times the answer on the wire ...
    assert deflated(charged[:-1]) <= (REDRAW_BUDGET / WIRE_WEIGHT + 0.2) * len(text)
    # ... where charging their size alone sends more.
    assert deflated(charged) < deflated(by_size)
    assert charged[-1] == by_size[-1] == answer_blocks(text)[0]
