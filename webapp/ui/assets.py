"""The adapter's JavaScript and CSS files (`webapp/ui/assets/`), as HTML for `st.html`.

A stylesheet becomes a `<style>` element (style-only HTML, which Streamlit
sends to its event container: it takes no place among the page's elements).
A script becomes two elements: its parameters as JSON in a
`<script type="application/json">`, then the code, which reads them with
`JSON.parse(document.currentScript.previousElementSibling.textContent)`. No
value is ever spliced into the code itself.

Both are sent as `sent` gives them: without comments, indentation and blank
lines. Streamlit sends a run's elements again in every run, so what the files
say for their readers would travel in each (issue 24: the chat page's script
and styles were a fifth of a long answer's compressed bytes on the wire).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any, Final

ASSETS_PACKAGE: Final = "webapp.ui"
ASSETS_FOLDER: Final = "assets"


class AssetError(ValueError):
    """An asset that cannot be embedded as it is (e.g. a script that closes its element)."""


@functools.cache
def text(name: str) -> str:
    """The asset file `name` (e.g. "scroll.js") as text; FileNotFoundError when absent,
    AssetError when it would end its own element early."""
    body = resources.files(ASSETS_PACKAGE).joinpath(ASSETS_FOLDER, name).read_text("utf-8")
    closing = "</script" if name.endswith(".js") else "</style"
    if closing in body.lower():
        raise AssetError(f"{name} contains {closing!r}, which would end its element")
    return body


_CSS_COMMENT: Final = re.compile(r"/\*.*?\*/", re.DOTALL)


@functools.cache
def sent(name: str) -> str:
    """The asset `name` as the page receives it: each line without its
    indentation, without blank lines, and without comments (a JavaScript line
    that is only a `//` comment; any CSS `/* ... */`). Line breaks stay, so
    JavaScript's automatic semicolons fall where they did. The assets hold no
    multi-line string for this to change (tests/webapp/ui/test_assets.py)."""
    body = text(name)
    if name.endswith(".css"):
        body = _CSS_COMMENT.sub("", body)
    lines = (line.strip() for line in body.splitlines())
    kept = (line for line in lines if line and not (name.endswith(".js") and line.startswith("//")))
    return "\n".join(kept)


def style_html(*names: str) -> str:
    """The stylesheets `names` (files ending .css) in one `<style>` element."""
    return "<style>" + "\n".join(sent(name) for name in names) + "</style>"


def json_for_script(params: Mapping[str, Any]) -> str:
    """`params` as JSON that is safe inside a `<script>` element: `<`, `>`, `&`
    and the two line separators JavaScript once refused are escaped (still the
    same JSON). Keys keep their order; values must be JSON types (TypeError else)."""
    encoded = json.dumps(dict(params), ensure_ascii=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        encoded = encoded.replace(raw, escaped)
    return encoded


def script_html(names: Sequence[str], params: Mapping[str, Any]) -> str:
    """The scripts `names` (files ending .js, run in that order in one element),
    preceded by their `params` as a JSON element (see the module docstring).
    Draw it with `st.html(..., unsafe_allow_javascript=True)`."""
    code = "\n".join(sent(name) for name in names)
    return (
        f'<script type="application/json">{json_for_script(params)}</script><script>{code}</script>'
    )
