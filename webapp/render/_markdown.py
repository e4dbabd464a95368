"""Stored message text -> what a member sees (HTML for `st.markdown`) and exports.

Everything here is pure (no Streamlit): markdown-it-py parses, nh3 sanitises.
See the package docstring (`webapp.render`) for how the page uses it.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import nh3
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.texmath import texmath_plugin

__all__ = [
    "answer_blocks",
    "answer_html",
    "normalise_newlines",
    "prompt_html",
    "render_tokens",
    "standalone_markdown",
    "top_level_spans",
]

# Only these URLs become links (a `data:` or `javascript:` URL stays text).
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

# Block elements that take their direction from their own text (dir="auto").
_DIRECTED_BLOCKS = frozenset(
    {
        "paragraph_open",
        "heading_open",
        "list_item_open",
        "bullet_list_open",
        "ordered_list_open",
        "blockquote_open",
        "table_open",
        "th_open",
        "td_open",
    }
)

_MATHML_TAGS = frozenset(
    {
        "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot",
        "msub", "msup", "msubsup", "munder", "mover", "munderover", "mtable", "mtr", "mtd",
        "mstyle", "mpadded", "mphantom", "menclose", "semantics", "annotation", "merror",
    }
)  # fmt: skip
_MATHML_ATTRIBUTES = frozenset(
    {
        "display", "mathvariant", "stretchy", "fence", "separator", "width", "height", "depth",
        "columnalign", "columnspacing", "rowspacing", "displaystyle", "scriptlevel", "lspace",
        "rspace", "minsize", "maxsize", "accent", "accentunder", "movablelimits", "notation",
        "linethickness", "encoding", "form", "symmetric", "largeop",
    }
)  # fmt: skip
_HTML_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u",
        "s", "del", "ins", "mark", "sub", "sup", "small", "kbd", "samp", "var", "code", "pre",
        "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot",
        "tr", "th", "td", "caption", "a", "span", "div", "details", "summary", "abbr", "cite",
        "q",
    }
)  # fmt: skip

# What survives of any HTML in a message (the bot's own or ours): no script or
# style, no event handler, no image/media/frame (nothing loads without a click),
# links only to http(s)/mailto, opened without referrer.
_CLEANER = nh3.Cleaner(
    tags=set(_HTML_TAGS | _MATHML_TAGS),
    clean_content_tags={"script", "style"},
    attributes={
        "*": {"dir"},
        "a": {"href", "title", "class"},
        "code": {"class"},
        "ol": {"start"},
        "th": {"style"},
        "td": {"style"},
        "div": {"class"},
        **{tag: set(_MATHML_ATTRIBUTES) for tag in _MATHML_TAGS},
    },
    url_schemes=set(LINK_SCHEMES),
    link_rel="noopener noreferrer nofollow",
    filter_style_properties={"text-align"},
    strip_comments=True,
)

# Streamlit's st.markdown rewrites ":material/" everywhere in its source (icons),
# and Markdown would end our HTML block at a blank line: both are kept out.
_STREAMLIT_FIXES = str.maketrans({"\n": "&#10;"})


def normalise_newlines(text: str) -> str:
    """CRLF and lone CR as LF (the display and exports; stored text is untouched)."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _link_ok(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in LINK_SCHEMES


def _math(content: str, display: str) -> str:
    try:
        return latex_to_mathml(content, display=display)
    except Exception:  # a formula latex2mathml cannot read: show its source
        return f"<code>{html.escape(content)}</code>"


def _render_math_inline(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    return _math(tokens[idx].content, "inline")


def _render_math_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f'<div class="ablt-math">{_math(tokens[idx].content.strip(), "block")}</div>\n'


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """An image is never loaded by the page: it becomes a link that says where it goes."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    host = urlsplit(src).hostname or src
    label = f"Image{': ' + alt if alt else ''} (not loaded; opens {host})"
    return f'<a class="ablt-image-link" href="{html.escape(src)}">{html.escape(label)}</a>'


def _ltr_code(default: Any) -> Any:
    def render(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return str(default(tokens, idx, options, env)).replace("<pre>", '<pre dir="ltr">', 1)

    return render


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """The one Markdown parser of the display, the stream and the exports.

    CommonMark plus GitHub's tables, strikethrough and bare-URL links
    (linkify-it-py); `\\( \\)` and `\\[ \\]` are maths (never `$`, so prices
    stay prices); single newlines are line breaks (bots write plain text with
    single newlines); raw HTML is parsed, then sanitised by nh3.
    """
    md = MarkdownIt("commonmark", {"html": True, "breaks": True, "linkify": True})
    md.enable(["table", "strikethrough", "linkify"])  # linkify: bare URLs, as on GitHub
    texmath_plugin(md, delimiters="brackets")
    md.validateLink = _link_ok  # type: ignore[method-assign]
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_block", _render_math_block)
    md.add_render_rule("math_block_eqno", _render_math_block)
    md.add_render_rule("image", _render_image)
    for rule in ("fence", "code_block"):
        md.add_render_rule(rule, _ltr_code(md.renderer.rules[rule]))  # type: ignore[attr-defined]
    return md


def parse(text: str, env: dict[str, Any] | None = None) -> list[Token]:
    """markdown-it tokens of `text` (newlines normalised), block elements marked dir="auto"."""
    tokens = parser().parse(normalise_newlines(text), {} if env is None else env)
    for token in tokens:
        if token.type in _DIRECTED_BLOCKS:
            token.attrSet("dir", "auto")
    return tokens


def top_level_spans(tokens: Sequence[Token]) -> list[tuple[int, int]]:
    """[start, end) token index ranges of the top-level blocks (paragraph, list,
    table, fence, ...), in order."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for index, token in enumerate(tokens):
        if depth == 0:
            start = index
        depth += token.nesting
        if depth == 0:
            spans.append((start, index + 1))
    return spans


def _for_streamlit(fragment: str, *, clean: bool = True) -> str:
    """HTML (sanitised unless `clean=False`: our own, fully escaped) as one
    raw-HTML block for `st.markdown(..., unsafe_allow_html=True)`."""
    cleaned = _CLEANER.clean(fragment).strip() if clean else fragment
    cleaned = cleaned.replace(":material/", "&#58;material/").translate(_STREAMLIT_FIXES)
    # text-align:start: each block aligns to its own direction (right for Arabic).
    return f'<div class="ablt-block" style="text-align:start">{cleaned}</div>'


def render_tokens(tokens: Sequence[Token], env: dict[str, Any]) -> str:
    """One top-level block's tokens as the string `st.markdown` shows (sanitised HTML)."""
    md = parser()
    return _for_streamlit(md.renderer.render(list(tokens), md.options, env))


def answer_blocks(text: str) -> list[str]:
    """An answer (or the welcome) as shown: one string per top-level Markdown block,
    each for `st.markdown(block, unsafe_allow_html=True)`. [] for blank text."""
    env: dict[str, Any] = {}
    tokens = parse(text, env)
    return [render_tokens(tokens[a:b], env) for a, b in top_level_spans(tokens)]


def answer_html(text: str) -> str:
    """The blocks of `answer_blocks` as one string (one `st.markdown` call)."""
    return "".join(answer_blocks(text))


def prompt_html(text: str) -> str:
    """A member's prompt exactly as typed: no Markdown, every space and line
    break kept; each line takes its direction from its own text."""
    body = html.escape(normalise_newlines(text), quote=False)
    return _for_streamlit(
        '<div class="ablt-prompt" dir="auto" '
        'style="white-space:pre-wrap;unicode-bidi:plaintext;text-align:start">'
        f"{body}</div>",
        clean=False,
    )


# -------------------------------------------------------------- exports

_HTML_BLOCK_ENDS = (
    ("<!--", "-->"),
    ("<?", "?>"),
    ("<![CDATA[", "]]>"),
    ("<!", ">"),
)


def _closer(token: Token) -> str | None:
    """The line that ends an open top-level fence or raw-HTML block, if it is one."""
    if token.type == "fence":
        return token.markup
    if token.type == "html_block":
        start = token.content.lstrip().lower()
        for opener, end in _HTML_BLOCK_ENDS:
            if start.startswith(opener):
                return end
        for tag in ("pre", "script", "style", "textarea"):
            if start.startswith(f"<{tag}"):
                return f"</{tag}>"
    return None


def standalone_markdown(text: str) -> str:
    """`text` (newlines normalised) as Markdown that cannot swallow what follows
    it in a file: a fence or raw-HTML block left open (a stopped answer) is
    closed, as markdown-it-py parses it (CommonMark's rules: the same fence
    character, at least as long, any indentation). Text after it is untouched.
    """
    source = normalise_newlines(text).rstrip("\n")
    probe = f"ablt-probe-{uuid.uuid4().hex}"
    for _ in range(8):  # each round closes one open block (nesting is shallow)
        tokens = parser().parse(f"{source}\n\n{probe}\n")
        last = next(t for t in reversed(tokens) if t.nesting >= 0)
        if last.type == "inline" and last.content == probe and last.level == 1:
            return source
        holder = next(
            (t for t in reversed(tokens) if t.level == 0 and t.nesting == 0 and t.map), None
        )
        closer = _closer(holder) if holder is not None else None
        if closer is None:
            break
        source = f"{source}\n{closer}"
    return source
