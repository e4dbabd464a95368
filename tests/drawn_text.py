"""Whether a page draws stored values as text: a walk over the AppTest element tree.

Streamlit renders Markdown in far more places than `st.markdown`: captions,
titles and headers, alerts, toasts, and the label and tooltip (`help`) of
every widget, tab, expander and popover, and a radio's options. A stored value
(a username, a title, a bot's name) put into any of them must be escaped
(`webapp.text.literal`), or an image loads from anywhere and a link is drawn.

`markdown_problems(at)` looks at every such string on the page and names the
ones that would draw active Markdown: an unescaped `![` or `](http` (the
attack of issue 28), a link, image or emphasis that markdown-it-py (CommonMark
with GitHub's autolinks) makes of the test's payload, or one of Streamlit's
own directives (`:red[`, `:material/home:`). A code span shows what it holds
literally (`webapp.text.literal.code_span`), so it is not searched for the
raw markers. What the message renderer draws
as HTML (`unsafe_allow_html`: chat bubbles) has its own tests
(tests/webapp/render) and is left out. Only for tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

# The host every test payload points at, and the words it wraps in emphasis.
ATTACKER = "attacker.io"
PAYLOAD = (
    f"![](http://{ATTACKER}/x.png)[Session_expired:_log_in_again](http://{ATTACKER}/phish) "
    f"<img src=http://{ATTACKER}/h> www.{ATTACKER} **pwnb** _pwnital_ `pwnt` :red[r] "
    ":material/home:"
)  # at most 200 characters: a title's, an entry name's limit
# For fields with a short limit (a language: 100 characters).
SHORT_PAYLOAD = f"![](http://{ATTACKER}/s.png)[x](http://{ATTACKER}/p) _pwnital_"
# The issue's username, exactly (no spaces: a username cannot have them).
ISSUE_USERNAME = (
    f"![](http://{ATTACKER}/x.png)[Session_expired:_log_in_again](http://{ATTACKER}/phish)"
)

# Fields whose text Streamlit renders as Markdown, on any element or block.
_MARKDOWN_FIELDS = frozenset({"body", "label", "help", "caption", "captions"})
# Elements whose `body` is not Markdown (shown as typed, or raw HTML of ours).
_NOT_MARKDOWN = frozenset({"text", "code", "json", "html", "exception", "dataframe"})
# Widgets whose options are Markdown too (a selectbox's are plain text).
_MARKDOWN_OPTIONS = frozenset({"radio", "button_group"})

_RENDER = MarkdownIt("commonmark", {"linkify": True, "html": True}).enable(
    ["linkify", "strikethrough", "table"]
)
# CommonMark: a run of N backticks (not escaped) opens a span that the next
# run of exactly N closes (`webapp.text.literal.code_span` writes them so).
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_DIRECTIVE = re.compile(r"(?<!\\):(red\[|material/home:)")
_ACTIVE_HTML = re.compile(rf"(href|src)=\"[^\"]*{re.escape(ATTACKER)}|<(em|strong|code)>pwn|<img")


def _strings(message: Message, options: bool) -> Iterator[tuple[str, str]]:
    """(field name, text) of every Markdown field in `message`, nested ones too."""
    for field, value in message.ListFields():
        is_text = field.type == FieldDescriptor.TYPE_STRING
        values: list[Any] = list(value) if _is_repeated(field) else [value]
        if is_text and (field.name in _MARKDOWN_FIELDS or (options and field.name == "options")):
            yield from ((field.name, v) for v in values if v)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            for nested in values:
                if isinstance(nested, Message):
                    yield from _strings(nested, options)


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 5+ names it `is_repeated`; older ones only have `label`.
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return bool(field.label == FieldDescriptor.LABEL_REPEATED)


def drawn_markdown(at: AppTest) -> list[tuple[str, str]]:
    """(where, text) for every string the page renders as Markdown: `where`
    is the element's type and the field ("caption.body", "button.label")."""
    found = []
    for node in at._tree:
        kind = str(getattr(node, "type", ""))
        proto = getattr(node, "proto", None)
        if kind in _NOT_MARKDOWN or not isinstance(proto, Message):
            continue
        if getattr(proto, "allow_html", False):
            continue  # the message renderer's sanitised HTML (see the module's note)
        for name, text in _strings(proto, kind in _MARKDOWN_OPTIONS):
            found.append((f"{kind}.{name}", text))
    return found


def _outside_code_spans(text: str) -> str:
    """`text` without its code spans (shown literally, whatever they hold)."""
    return _CODE_SPAN.sub(" ", text)


def active_markdown(text: str) -> list[str]:
    """What in `text` (drawn as Markdown) would not show as typed; [] when nothing."""
    outside = _outside_code_spans(text)
    problems = [raw for raw in ("![", "](http") if raw in outside]
    problems += [m.group(0) for m in _DIRECTIVE.finditer(outside)]
    problems += [m.group(0) for m in _ACTIVE_HTML.finditer(_RENDER.render(text))]
    return problems


def markdown_problems(at: AppTest) -> list[tuple[str, str, list[str]]]:
    """(where, text, problems) for every drawn string with active Markdown."""
    return [
        (where, text, problems)
        for where, text in drawn_markdown(at)
        if (problems := active_markdown(text))
    ]
