"""A bot's fields as the pages show them: data from the API, never markup.

A bot's name, description, model, slug and welcome message come from the API,
which may be hostile or compromised, and a bot's description may be edited by
someone else. Shown as Markdown, `![](http://attacker/x.png)` would make every
viewer's browser fetch the attacker's URL, `:red[...]` and `:material/home:`
would apply Streamlit's directives, `[x](javascript:...)` would become a link.
So every field is cut to a display length at whole grapheme clusters (a
description of hundreds of kilobytes costs one card's worth) and, where the
page renders Markdown, escaped (`webapp.text.literal`).

`*_md` functions return Markdown that shows the text literally, for
`st.markdown`, captions, labels and help; `plain_*` return cut plain text for
places that take text as is (selectbox options, the chat input's placeholder,
image captions).
"""

from __future__ import annotations

from collections.abc import Mapping

from webapp import limits
from webapp.text import literal as md
from webapp.text.graphemes import truncate_text
from webapp.ui.i18n import N_, _

NO_DESCRIPTION_MD = N_("_No description._")


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def plain_name(name: str | None) -> str:
    """The name on one line, cut to `BOT_NAME_MAX_CHARS` (plain text)."""
    return truncate_text(_one_line(name), limits.BOT_NAME_MAX_CHARS) or "?"


def plain_slug(slug: str | None) -> str:
    """The slug on one line, cut to `BOT_SLUG_MAX_CHARS` (plain text)."""
    return truncate_text(_one_line(slug), limits.BOT_SLUG_MAX_CHARS)


def plain_model(model: str | None) -> str:
    return truncate_text(_one_line(model), limits.BOT_MODEL_MAX_CHARS)


def name_md(name: str | None) -> str:
    """The name as literal Markdown, cut (header, cards, labels, help)."""
    return md.escape(plain_name(name))


def slug_md(slug: str | None) -> str:
    """The slug as a literal code span (a chip), cut."""
    return md.code_span(plain_slug(slug))


def model_md(model: str | None) -> str:
    return md.escape(plain_model(model))


def description_md(description: str | None, limit: int = limits.BOT_DESCRIPTION_MAX_CHARS) -> str:
    """The description as literal Markdown keeping its lines, cut to `limit`
    characters (between whole clusters)."""
    text = truncate_text((description or "").strip(), limit)
    return md.escape_block(text) or _(NO_DESCRIPTION_MD)


def description_line_md(description: str | None) -> str:
    """The description on one line, cut short, as literal Markdown (the chat header)."""
    return md.escape(truncate_text(_one_line(description), limits.BOT_HEADER_DESCRIPTION_MAX_CHARS))


def welcome_quote_md(welcome: str) -> str:
    """The welcome message as a literal Markdown block quote, cut (a card's preview)."""
    text = truncate_text(welcome, limits.BOT_WELCOME_MAX_CHARS)
    escaped = md.escape_block(text)
    return "\n".join(f"> {line}" if line else ">" for line in escaped.split("\n"))


def unique_labels(names: Mapping[str, str | None]) -> dict[str, str]:
    """slug -> plain-text label from slug -> bot name: the name, followed by its
    slug where another bot shares it ("Omni (omni-fast)"); a missing name is the
    slug. Cut for display (`webapp.bots.display`)."""
    plain = {slug: plain_name(name or slug) for slug, name in names.items()}
    counts: dict[str, int] = {}
    for name in plain.values():
        counts[name] = counts.get(name, 0) + 1
    # The picker tells options apart by their label, so a shared name gets its slug.
    return {
        slug: name if counts[name] == 1 else f"{name} ({plain_slug(slug)})"
        for slug, name in plain.items()
    }
