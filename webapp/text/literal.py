"""Text that must show as typed where Streamlit renders Markdown.

Button labels, captions, alerts and `st.markdown` all render Markdown, so a
conversation title like "What is **bold** in $x^2$?" would show in bold with a
formula, and ":material/home:" or ":red[...]" would turn into an icon or
coloured text. `escape` makes such text literal.
"""

from __future__ import annotations

import re

# Every character Markdown (CommonMark, GitHub's extensions, Streamlit's own
# `:icon:` / `:color[...]` directives and `$math$`) gives a meaning. CommonMark
# lets a backslash escape any ASCII punctuation, so escaping more than needed
# is harmless.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=^&\"'])")
_WHITESPACE = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")


def escape(text: str) -> str:
    """`text` as literal Markdown on one line (labels, titles, names)."""
    return _SPECIAL.sub(r"\\\1", _WHITESPACE.sub(" ", text).strip())


def escape_block(text: str) -> str:
    """Multi-line `text` as literal Markdown that keeps its lines.

    Each line is escaped as by `escape` (so no line starts a heading, list,
    quote, table or code block), lines become hard breaks, and blank lines
    separate paragraphs. For bot descriptions and welcome messages shown on
    cards: text from the API, never markup.
    """
    paragraphs = []
    for block in _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n").strip()):
        lines = [escape(line) for line in block.split("\n")]
        paragraphs.append("  \n".join(line for line in lines if line))
    return "\n\n".join(p for p in paragraphs if p)


def code_span(text: str) -> str:
    """`text` on one line as a Markdown code span, shown literally whatever it holds.

    CommonMark: a span opened by N backticks ends at the next run of exactly N,
    so the fence is one longer than the text's longest run; a space pads a
    text that starts or ends with a backtick (one space each side is stripped).
    """
    line = _WHITESPACE.sub(" ", text).strip()
    if not line:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"
