"""What `stream_blocks` hands the browser while an answer streams, against
`st.write_stream`'s own path for text (the whole answer so far, per piece).

Answers of 200, 1,000 and 3,000 words arrive one word per piece (a paragraph
every 60 words, a code block and a list now and then). For each, it prints the
characters of HTML/Markdown sent during the stream divided by the answer's
size, for `stream_blocks` (one redraw per piece: no coalescing, the worst
case), with the default coalescing for a bot sending 50 words a second (a
simulated clock), and for the str path (the sum of every prefix); plus the
redraws and the CPU time per answer of `stream_blocks` without coalescing.

Then, at 3,000 words, the emulator's own answer (its first bot's sentences, as
`bench.stream_wire` streams it) in its other shapes (`SHAPES`: one paragraph,
one code fence, a 300-row table, a 1,000-item list), for a bot sending 50 and
200 words a second: with the redraw budget, characters of HTML sent per
character of answer (redraws), an estimate of the compressed wire (`wire_bytes`:
every write deflated as the WebSocket does, 4 KB window, context kept) and the
longest wait between two redraws (the budget's trade-off); without the budget
(coalescing only), the HTML sent (redraws).

Run:  python -m bench.stream_blocks
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Iterator
from itertools import pairwise

from ablt_core.emulator.answers import SHAPES, ChatInput, Message, build_answer
from ablt_core.emulator.bots import BOTS
from webapp.render import BlockWrite, answer_html, stream_blocks
from webapp.render._stream import DEFLATE_MEMLEVEL, DEFLATE_WINDOW_BITS

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "bots",
    "write",
    "long",
    "answers",
]


def answer(words: int) -> str:
    out: list[str] = []
    for index in range(words):
        out.append(WORDS[index % len(WORDS)])
        if index % 60 == 59:
            out.append("\n\n")
            if index % 300 == 299:
                out.append("```python\nprint('code')\nx = 1\n```\n\n- one\n- two\n\n")
        else:
            out.append(" ")
    return "".join(out)


def main() -> None:
    print(
        f"{'words':>6} {'blocks/size':>12} {'coalesced':>10} {'str path/size':>14} "
        f"{'redraws':>8} {'cpu s':>7}"
    )
    for words in (200, 1_000, 3_000):
        text = answer(words)
        pieces = re.findall(r"\S+\s*|\s+", text)
        size = len(answer_html(text))
        start = time.process_time()
        writes = list(stream_blocks(pieces, interval=0))
        cpu = time.process_time() - start
        sent = sum(len(w.html) for w in writes)
        clock = [0.0]

        def paced(pieces: list[str] = pieces, clock: list[float] = clock) -> Iterator[str]:
            for piece in pieces:
                clock[0] += 0.02  # 50 words a second
                yield piece

        coalesced = sum(len(w.html) for w in stream_blocks(paced(), clock=lambda c=clock: c[0]))
        prefix, str_path = "", 0
        for piece in pieces:
            prefix += piece
            str_path += len(prefix)
        print(
            f"{words:>6} {sent / size:>11.1f}x {coalesced / size:>9.1f}x "
            f"{str_path / len(text):>13.1f}x "
            f"{len(writes):>8} {cpu:>7.3f}"
        )


def emulator_answer(words: int, shape: str) -> str:
    """The emulator's answer of `words` words laid out as `shape` (its first bot)."""
    chat = ChatInput(messages=(Message("user", "Bench answer"),), words=words, shape=shape)
    return build_answer(BOTS[0], chat).text


def wire_bytes(writes: list[BlockWrite]) -> int:
    """About what the writes cost on the compressed WebSocket: each deflated as
    one message with the server's settings (12 window bits, context kept)."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -DEFLATE_WINDOW_BITS, DEFLATE_MEMLEVEL)
    total = 0
    for write in writes:
        total += len(deflate.compress(write.html.encode()))
        total += len(deflate.flush(zlib.Z_SYNC_FLUSH))
    return total


def paced_writes(text: str, words_per_s: float, budget: bool) -> tuple[list[BlockWrite], float]:
    """The writes of `text` streamed at a pace, and the longest wait between two (s)."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    clock = [0.0]
    times: list[float] = []

    def paced() -> Iterator[str]:
        for piece in pieces:
            clock[0] += 1 / words_per_s
            yield piece

    options = {} if budget else {"budget": None}
    writes = []
    for write in stream_blocks(paced(), clock=lambda: clock[0], **options):  # type: ignore[arg-type]
        writes.append(write)
        times.append(clock[0])
    return writes, max((b - a for a, b in pairwise(times)), default=0.0)


def shapes() -> None:
    print(
        "\n3,000 words by shape (the emulator's text), per character of answer: "
        "budget on: HTML sent (redraws), wire estimate, longest wait; budget off: HTML sent"
    )
    for shape in SHAPES:
        text = emulator_answer(3_000, shape)
        cells = []
        for pace in (50, 200):
            on, wait = paced_writes(text, pace, True)
            off, _ = paced_writes(text, pace, False)
            html_on = sum(len(w.html) for w in on) / len(text)
            html_off = sum(len(w.html) for w in off) / len(text)
            cells.append(
                f"{pace:>3} w/s {html_on:5.1f}x ({len(on):>3}) {wire_bytes(on) / len(text):4.2f}x "
                f"{wait:5.1f} s | {html_off:6.1f}x ({len(off):>4})"
            )
        print(f"  {shape:<11} " + "   ".join(cells))


if __name__ == "__main__":
    main()
    shapes()
