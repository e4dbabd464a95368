"""The bot catalogue: cached bot list, text search and model filter.

The filtering functions are pure (a list of `Bot` in, a list out) so tests can
call them without Streamlit. `load_bots` is the one place the page fetches the
list: cached per API base URL so two backends never mix and a rerun costs no
API call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from ablt_core import AbltClient, AbltError, Bot
from webapp import limits
from webapp.operations import metrics
from webapp.text.graphemes import truncate_text
from webapp.ui.i18n import _, format_number, ngettext
from webapp.ui.session import page_state
from webapp.ui.state import Keys

T = TypeVar("T")

# The published bot list changes rarely; five minutes keeps reruns free of API
# calls while a new bot still shows up soon without a manual refresh.
BOTS_TTL_SECONDS = 300

# Fields the search box looks in, in the order a reader would expect.
SEARCH_FIELDS = ("name", "slug", "description", "welcome_message", "model")
# Display text only: the slug and uid name the bot to the API and stay whole.
TEXT_FIELDS = ("name", "description", "welcome_message", "model")


def trim_bot(bot: Bot) -> Bot:
    """`bot` with each text field cut to `BOT_FIELD_KEEP_CHARS` characters (whole clusters).

    Applied once as the list arrives, so a hostile API's descriptions of
    hundreds of kilobytes cost neither memory in the cache nor time in each
    search; every page shows far less than is kept.
    """
    changes = {}
    for name in TEXT_FIELDS:
        value = getattr(bot, name, None)
        if isinstance(value, str) and len(value) > limits.BOT_FIELD_KEEP_CHARS:
            changes[name] = truncate_text(value, limits.BOT_FIELD_KEEP_CHARS)
    return bot.model_copy(update=changes) if changes else bot


def matches_query(bot: Bot, query: str) -> bool:
    """True when every word of `query` appears in one of the bot's text fields.

    Case-insensitive; an empty or blank query matches every bot. Words are
    matched independently so "gpt helpful" finds a helpful bot on a GPT model.
    """
    words = query.casefold().split()
    if not words:
        return True
    haystack = "\n".join(str(getattr(bot, field, "") or "") for field in SEARCH_FIELDS).casefold()
    return all(word in haystack for word in words)


def filter_bots(bots: Iterable[Bot], query: str = "", models: Sequence[str] = ()) -> list[Bot]:
    """The bots that match the search text and, when any are chosen, one of `models`."""
    wanted = set(models)
    return [
        bot for bot in bots if (not wanted or bot.model in wanted) and matches_query(bot, query)
    ]


def available_models(bots: Iterable[Bot]) -> list[str]:
    """Distinct models of `bots`, sorted case-insensitively, for the model filter."""
    return sorted({bot.model for bot in bots if bot.model}, key=str.casefold)


def count_label(shown: int, total: int) -> str:
    """The caption above the cards, e.g. "6 of 6 bots"."""
    return ngettext("{shown} of {total} bot", "{shown} of {total} bots", total).format(
        shown=format_number(shown), total=format_number(total)
    )


def page_count(total: int, per_page: int = limits.BOT_CARDS_PER_PAGE) -> int:
    """How many pages `total` items fill, `per_page` a page (at least one)."""
    return max(1, math.ceil(total / per_page))


@dataclass
class BotsSession:
    """What the Bots page keeps between runs besides its widgets."""

    page: int = 1  # the page of cards shown (1-based; `page_of` keeps it in range)


def session() -> BotsSession:
    """This session's Bots page state."""
    return page_state(Keys.BOTS, BotsSession)


def page_of(
    items: Sequence[T], page: int, per_page: int = limits.BOT_CARDS_PER_PAGE
) -> tuple[list[T], int]:
    """The items of page `page` (1-based) and that page's number.

    A page past the end (the search narrowed the list) is the last page, one
    before the start the first, so a stale page number never shows nothing.
    """
    page = min(max(page, 1), page_count(len(items), per_page))
    start = (page - 1) * per_page
    return list(items[start : start + per_page]), page


def picker_slugs(
    bots: Sequence[Bot],
    query: str,
    current: str | None,
    limit: int = limits.BOT_PICKER_MAX_CHOICES,
) -> tuple[list[str], int]:
    """The slugs the chat's bot picker offers, and how many bots match `query`.

    At most `limit` matching bots in catalogue order (searching as the Bots
    page does), plus the `current` one first when it is not among them, so
    the picker always shows the open conversation's bot. With thousands of
    bots the picker never lists them all: the member types to find others.
    """
    matches = [bot.slug for bot in bots if matches_query(bot, query)]
    shown = matches[:limit]
    if current is not None and current not in shown:
        shown.insert(0, current)
    return shown, len(matches)


def welcome_text(bot: Bot) -> str:
    """The welcome message with the API's `\\r\\n` line ends made plain."""
    return (bot.welcome_message or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def client_base_url(client: AbltClient) -> str:
    """The API base URL the client talks to: the cache key that keeps backends apart."""
    return str(client.base_url).rstrip("/")


# No spinner text here: Streamlit's would be fixed at import, in English
# (`load_bots` shows one in the session's language).
@st.cache_data(ttl=BOTS_TTL_SECONDS, show_spinner=False)
def _cached_bots(_client: AbltClient, base_url: str) -> list[Bot]:
    # `_client` is excluded from the cache key (leading underscore); `base_url`
    # is the key, so the same URL always means the same client.
    return [trim_bot(bot) for bot in _client.get_bots()]


def load_bots(client: AbltClient) -> list[Bot]:
    """The published bots, from the cache when fresh. Raises `AbltError` on failure.

    Streamlit does not cache a raised exception, so after an error the next
    rerun (the page's Retry) asks the API again.
    """
    try:
        # Shown only if the API takes more than half a second (Streamlit's delay).
        with st.spinner(_("Loading bots…")):
            return _cached_bots(client, client_base_url(client))
    except AbltError as err:
        metrics.api_error(err, call="bots")
        raise


def refresh_bots(client: AbltClient) -> None:
    """Forget the cached list for this client's backend so the next load asks the API."""
    _cached_bots.clear(client, client_base_url(client))
