"""The bot catalogue: cached bot list, text search and model filter.

The filtering functions are pure (a list of `Bot` in, a list out) so tests can
call them without Streamlit. `load_bots` is the one place the page fetches the
list: cached per API base URL so two backends never mix and a rerun costs no
API call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import streamlit as st

from ablt_core import AbltClient, Bot

# The published bot list changes rarely; five minutes keeps reruns free of API
# calls while a new bot still shows up soon without a manual refresh.
BOTS_TTL_SECONDS = 300

# Fields the search box looks in, in the order a reader would expect.
SEARCH_FIELDS = ("name", "slug", "description", "welcome_message", "model")


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
    noun = "bot" if total == 1 else "bots"
    return f"{shown} of {total} {noun}"


def welcome_text(bot: Bot) -> str:
    """The welcome message with the API's `\\r\\n` line ends made plain."""
    return (bot.welcome_message or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def client_base_url(client: AbltClient) -> str:
    """The API base URL the client talks to: the cache key that keeps backends apart."""
    return str(client.base_url).rstrip("/")


@st.cache_data(ttl=BOTS_TTL_SECONDS, show_spinner="Loading bots…")
def _cached_bots(_client: AbltClient, base_url: str) -> list[Bot]:
    # `_client` is excluded from the cache key (leading underscore); `base_url`
    # is the key, so the same URL always means the same client.
    return _client.get_bots()


def load_bots(client: AbltClient) -> list[Bot]:
    """The published bots, from the cache when fresh. Raises `AbltError` on failure.

    Streamlit does not cache a raised exception, so after an error the next
    rerun (the page's Retry) asks the API again.
    """
    return _cached_bots(client, client_base_url(client))


def refresh_bots(client: AbltClient) -> None:
    """Forget the cached list for this client's backend so the next load asks the API."""
    _cached_bots.clear(client, client_base_url(client))
