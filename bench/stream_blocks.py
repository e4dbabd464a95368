"""What `stream_blocks` hands the browser while an answer streams, against
`st.write_stream`'s own path for text (the whole answer so far, per piece).

Answers of 200, 1,000 and 3,000 words arrive one word per piece (a paragraph
every 60 words, a code block and a list now and then). For each, it prints the
characters of HTML/Markdown sent during the stream divided by the answer's
size, for `stream_blocks` (one redraw per piece: no coalescing, the worst
case), with the default coalescing for a bot sending 50 words a second (a
simulated clock), and for the str path (the sum of every prefix); plus the
redraws and the CPU time per answer of `stream_blocks` without coalescing.

Then, at 3,000 words, the answer's other shapes (the emulator's `SHAPES`: one
paragraph, one code fence, a 300-row table, a 1,000-item list): characters of
HTML sent per character of answer with the redraw budget (`REDRAW_BUDGET`) and
without it (coalescing only), for a bot sending 50 and 200 words a second.

Run:  python -m bench.stream_blocks
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

from ablt_core.emulator.answers import SHAPES, shaped
from webapp.render import answer_html, stream_blocks

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


def paced_ratio(text: str, words_per_s: float, budget: bool) -> tuple[float, int]:
    """HTML characters sent / the answer's characters, and the redraws, at a pace."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    clock = [0.0]

    def paced() -> Iterator[str]:
        for piece in pieces:
            clock[0] += 1 / words_per_s
            yield piece

    options = {} if budget else {"budget": None}
    writes = list(stream_blocks(paced(), clock=lambda: clock[0], **options))  # type: ignore[arg-type]
    return sum(len(w.html) for w in writes) / len(text), len(writes)


def shapes() -> None:
    print(f"\n3,000 words by shape: HTML sent / answer size (redraws), budget {'on':>3} vs off")
    text = answer(3_000)
    for shape in SHAPES:
        laid_out = shaped(text, shape)
        cells = []
        for pace in (50, 200):
            on, on_n = paced_ratio(laid_out, pace, True)
            off, off_n = paced_ratio(laid_out, pace, False)
            cells.append(f"{pace:>3} w/s {on:6.1f}x ({on_n:>4}) vs {off:6.1f}x ({off_n:>4})")
        print(f"  {shape:<11} " + "   ".join(cells))


if __name__ == "__main__":
    main()
    shapes()
