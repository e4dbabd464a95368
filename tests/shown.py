"""What a person reads in a message, from the HTML the page hands to `st.markdown`.

AppTest sees the strings given to `st.markdown`; the renderer (`webapp.render`)
gives sanitised HTML. This turns it back into the text as read: block elements
on their own lines (blocks apart by a blank line), `<br>` a line break,
entities decoded, markup dropped. Only for tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from html.parser import HTMLParser

import regex

_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "tr", "blockquote", "table"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pre: list[str] = []  # open elements that keep white space (pre, pre-wrap)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "pre" or "pre-wrap" in (dict(attrs).get("style") or ""):
            self.pre.append(tag)
        if tag == "br":
            self.parts.append("\n")
        elif tag in {"td", "th"} and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if self.pre and self.pre[-1] == tag:
            self.pre.pop()
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        # As a browser lays it out: outside pre, white space runs are one space.
        self.parts.append(data if self.pre else regex.sub(r"[ \t\n]+", " ", data))


def shown_text(html: str) -> str:
    """The text one rendered block (or a prompt) shows."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    if "pre-wrap" not in html and "<pre" not in html:
        text = regex.sub(r" *\n *", "\n", text)
    return text.strip("\n")


def shown(blocks: Iterable[str]) -> str:
    """The text of a message drawn as several blocks, blocks apart by a blank line."""
    return "\n\n".join(shown_text(block) for block in blocks)
