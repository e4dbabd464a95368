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


def escape(text: str) -> str:
    """`text` as literal Markdown on one line (labels, titles, names)."""
    return _SPECIAL.sub(r"\\\1", _WHITESPACE.sub(" ", text).strip())
