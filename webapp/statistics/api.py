"""Usage statistics from the API, cached: the part of `webapp.statistics.usage` the chat page needs.

No pandas, no altair: the chat page imports this module (to forget the cached
figures after each answer) and must stay light. Importing pandas and altair
makes the process heap about 3.4 times larger, and Streamlit runs a full
`gc.collect(2)` after every script run (`runner.postScriptGC`), which then
takes 80-90 ms instead of about 15 ms and blocks every session meanwhile
(issue 8). Frames and charts live in `webapp.statistics.usage`, which the Statistics page
alone imports and which re-exports everything here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from ablt_core import AbltClient, AbltError, UsageStatistics, UsageTotals
from webapp.bots.catalogue import client_base_url
from webapp.operations import metrics

# Short enough that a chat shows up in the totals within a minute, long enough
# that flipping between words and tokens or presets costs no API call.
STATS_TTL_SECONDS = 60


@dataclass(frozen=True)
class MemberUsage:
    """One member's totals for the breakdown: a label and the API's totals."""

    label: str
    totals: UsageTotals


@st.cache_data(ttl=STATS_TTL_SECONDS, show_spinner=False)
def _cached_statistics(
    _client: AbltClient, base_url: str, user_id: int, start: str, end: str
) -> UsageStatistics:
    # Keyed by base URL + user_id + range (`_client` is not part of the key), so
    # one member's figures are never served to another, nor one backend's to another.
    return _client.get_usage_statistics(start_date=start, end_date=end, user_id=user_id)


def load_statistics(
    client: AbltClient, user_id: int, start: dt.date, end: dt.date
) -> UsageStatistics:
    """The API's statistics for one user id (or -1, the team) and range, cached ~60 s.

    Raises `AbltError` on failure (not cached, so a retry asks again).
    """
    try:
        return _cached_statistics(
            client, client_base_url(client), user_id, start.isoformat(), end.isoformat()
        )
    except AbltError as err:
        metrics.api_error(err, call="statistics")
        raise


def forget_statistics() -> None:
    """Drop every cached figure, so the next load asks the API (after a chat, a Refresh)."""
    _cached_statistics.clear()


def load_breakdown(
    client: AbltClient,
    members: Sequence[tuple[str, int]],
    start: dt.date,
    end: dt.date,
) -> list[MemberUsage]:
    """Totals per (label, user_id), one request per member (each cached)."""
    return [
        MemberUsage(label, load_statistics(client, user_id, start, end).total)
        for label, user_id in members
    ]
