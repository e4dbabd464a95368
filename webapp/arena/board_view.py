"""The Arena page's Leaderboard tab: Bradley-Terry ratings from the team's
votes (`webapp.arena.ranking`), filtered by date and, for admins, by member
and by group (the votes of a group's members now, `webapp.groups`); an
interval chart, the table, a CSV, and how many votes it rests on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Final

import altair as alt
import pandas as pd
import streamlit as st

from webapp.arena import ranking
from webapp.arena.ranking import Vote
from webapp.arena.store import Arena, VoteRow
from webapp.auth.gate import list_members
from webapp.backend import get_store
from webapp.chat import open_chat as chat
from webapp.groups.store import members_by_group
from webapp.team import Member
from webapp.text import csv_safe
from webapp.ui.i18n import N_, _, column_labels, format_date, format_number, ngettext
from webapp.ui.state import Keys

DEFAULT_DAYS: Final = 90  # the range first shown: the last 90 UTC days
# Below this many votes a bootstrap redraws nearly the same few votes: its
# intervals look narrow but say little, and the page says so.
FEW_VOTES: Final = 30
# The table's headers (`ranking.leaderboard`'s columns, which the CSV keeps).
BOARD_LABELS: Final = {
    "Rank": N_("Rank"),
    "Bot": N_("Bot"),
    "Rating": N_("Rating"),
    "95% CI low": N_("95% interval, low"),
    "95% CI high": N_("95% interval, high"),
    "Battles": N_("Battles"),
    "Wins": N_("Wins"),
    "Losses": N_("Losses"),
    "Ties": N_("Ties"),
    "Both bad": N_("Both bad"),
    "Win rate": N_("Win rate"),
}


@st.cache_data(ttl=60, show_spinner=False, max_entries=32)
def _cached_board(votes: tuple[Vote, ...], names: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """The leaderboard of exactly these votes (the bootstrap is the slow
    part; the same votes give the same board, so it is kept a minute)."""
    return ranking.leaderboard(list(votes), dict(names))


def cached_board(votes: tuple[Vote, ...], names: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """The leaderboard of these votes, kept a minute; a spinner in the
    session's language while it is fitted (Streamlit's own would be set once,
    at import, in English)."""
    with st.spinner(_("Fitting the ratings…")):
        return _cached_board(votes, names)


def interval_chart(board: pd.DataFrame) -> alt.LayerChart:
    """Each bot's rating (a point) and its 95 % interval (a bar), best on top;
    titles and tooltips in the session's language."""
    order = list(board["Bot"])
    base = alt.Chart(board).encode(
        y=alt.Y("Bot:N", sort=order, title=None, axis=alt.Axis(labelLimit=240))
    )
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("95% CI low:Q", title=_("Rating (95% interval)"), scale=alt.Scale(zero=False)),
        x2="95% CI high:Q",
    )
    points = base.mark_point(filled=True, size=80).encode(
        x=alt.X("Rating:Q", title=_("Rating (95% interval)")),
        tooltip=[
            alt.Tooltip(f"{name}:{kind}", title=_(BOARD_LABELS[name]))
            for name, kind in (
                ("Bot", "N"),
                ("Rating", "Q"),
                ("95% CI low", "Q"),
                ("95% CI high", "Q"),
                ("Battles", "Q"),
            )
        ],
    )
    chart: alt.LayerChart = bars + points
    return chart


def _names(rows: Sequence[VoteRow]) -> tuple[tuple[str, str], ...]:
    latest: dict[str, str] = {}
    for row in rows:  # oldest first: a renamed bot reads as it is called now
        latest[row.bot_a.slug] = row.bot_a.name
        latest[row.bot_b.slug] = row.bot_b.name
    return tuple(sorted(latest.items()))


def voters_of(
    members: Collection[str],
    picked_groups: Collection[str],
    by_group: Mapping[str, Collection[str]],
) -> list[str] | None:
    """Whose votes count: the picked `members` and every member (now) of the
    `picked_groups` (`by_group`: group name -> usernames), sorted; None when
    nothing is picked (the whole team's votes, removed members' too). A
    picked group without members adds nobody (its filter alone: no votes)."""
    if not members and not picked_groups:
        return None
    found = set(members)
    for name in picked_groups:
        found.update(by_group.get(name, ()))
    return sorted(found)


def pick_voters(member: Member) -> list[str] | None:
    """An admin may count only some members' votes, picked by member and by
    group (None: everyone's, removed members' too); a member sees the whole
    team's."""
    if not member.is_admin:
        return None
    labels = {m.username: f"{m.name} ({m.username})" for m in list_members()}
    try:
        by_group = {
            name: [username for username, _name in found]
            for name, found in members_by_group(get_store().engine).items()
        }
    except chat.DATABASE_ERRORS:
        by_group = {}
        st.warning(_("The groups could not be read: filter by member for now."))
    by_member, by_groups = st.columns(2) if by_group else (st.container(), None)
    picked = by_member.multiselect(
        _("Votes by (admins: empty means the whole team)"),
        list(labels),
        format_func=labels.__getitem__,
        key=Keys.ARENA_VOTERS,
        placeholder=_("The whole team"),
    )
    groups: list[str] = []
    if by_groups is not None:
        groups = by_groups.multiselect(
            _("Votes by the members of"),
            list(by_group),
            key=Keys.ARENA_GROUPS,
            placeholder=_("Any group"),
            help=_("A group's members now; with members picked too, both count."),
        )
    return voters_of(picked, groups, by_group)


def render_leaderboard(member: Member, today: dt.date | None = None) -> None:
    today = today or dt.datetime.now(dt.UTC).date()
    first, last = st.columns(2)
    start = first.date_input(
        _("From (UTC day)"),
        value=today - dt.timedelta(days=DEFAULT_DAYS - 1),
        key=Keys.ARENA_FROM,
        format="YYYY-MM-DD",
    )
    end = last.date_input(_("To (UTC day)"), value=today, key=Keys.ARENA_TO, format="YYYY-MM-DD")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        st.warning(_("Pick both a start and an end date."))
        return
    if end < start:
        st.warning(_("The end date is before the start date: swap them."))
        return
    voters = pick_voters(member)
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    try:
        rows = Arena(get_store()).votes(since, until, voters)
    except chat.DATABASE_ERRORS:
        st.error(_("The votes could not be read; try again."), icon=":material/database:")
        return
    if not rows:
        st.info(_("No votes in this range yet: battles in the Battle tab make the leaderboard."))
        return
    board = cached_board(tuple(r.vote for r in rows), _names(rows))
    battles = len(rows)
    st.caption(
        ngettext(
            "The ranking rests on {battles} vote ({start} to {end}, UTC). Bradley-Terry "
            "ratings: 400 points apart is 10 to 1 odds; ties and “both bad” count half a win "
            "each; the bars are 95% bootstrap intervals.",
            "The ranking rests on {battles} votes ({start} to {end}, UTC). Bradley-Terry "
            "ratings: 400 points apart is 10 to 1 odds; ties and “both bad” count half a win "
            "each; the bars are 95% bootstrap intervals.",
            battles,
        ).format(battles=format_number(battles), start=format_date(start), end=format_date(end))
    )
    if battles < FEW_VOTES:
        st.info(
            ngettext(
                "Only {battles} vote so far: the order and the intervals "
                "will settle once there are a few dozen.",
                "Only {battles} votes so far: the order and the intervals "
                "will settle once there are a few dozen.",
                battles,
            ).format(battles=format_number(battles)),
            icon=":material/info:",
        )
    st.altair_chart(interval_chart(board), width="stretch")
    st.dataframe(
        csv_safe.safe_frame(board),
        hide_index=True,
        width="stretch",
        column_config=column_labels(
            BOARD_LABELS, {"Win rate": st.column_config.NumberColumn(format="percent")}
        ),
        key="arena_board_table",
    )
    st.download_button(
        _("Download leaderboard CSV"),
        data=csv_safe.csv_bytes(board),
        file_name=f"ablt-arena-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="arena_board_csv",
    )
