"""Usage statistics page: tiles, daily chart and table, CSV; a team view for admins."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from ablt_core import AbltClient, AbltError, UsageStatistics
from webapp.auth.gate import Member, list_members
from webapp.auth.guard import view_action
from webapp.backend import get_client
from webapp.errors import describe
from webapp.feedback import satisfaction_view
from webapp.groups.usage_view import render_group_breakdown
from webapp.statistics import usage
from webapp.text import csv_safe
from webapp.text import literal as md
from webapp.ui import page as ui
from webapp.ui.i18n import N_, _, format_number
from webapp.ui.member import require_member
from webapp.ui.state import Keys

WHOLE_TEAM = N_("Whole team")


def pick_range(today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    preset = st.radio(_("Range"), usage.PRESETS, key=Keys.STATS_PRESET, horizontal=True)
    if preset != usage.CUSTOM:
        return usage.preset_range(preset, today)
    # Two inputs rather than one range picker, so a half-picked range never
    # reaches the API and an end before the start gets a clear message.
    first, last = st.columns(2)
    start = first.date_input(
        _("From (UTC day)"),
        value=today - dt.timedelta(days=29),
        key=Keys.STATS_START,
        format="YYYY-MM-DD",
    )
    end = last.date_input(_("To (UTC day)"), value=today, key=Keys.STATS_END, format="YYYY-MM-DD")
    return start, end


def pick_scope(member: Member) -> tuple[int, str]:
    """(user_id, label): a member gets their own; an admin picks a member or the team."""
    if member.role != "admin":
        st.caption(_("Your own usage, {name}.").format(name=md.escape(member.name)))
        return member.user_id, member.username
    names = {usage.TEAM_USER_ID: _(WHOLE_TEAM)}
    names.update({m.user_id: f"{m.name} ({m.username})" for m in list_members()})
    user_id = st.selectbox(
        _("Whose usage"), list(names), format_func=names.__getitem__, key=Keys.STATS_SCOPE
    )
    return user_id, "team" if user_id == usage.TEAM_USER_ID else names[user_id]


def render_tiles(totals: dict[str, int], unit: str) -> None:
    labels = {"total": usage.TABLE_LABELS["total"], **usage.PART_LABELS}
    for column, key in zip(st.columns(4), labels, strict=True):
        column.metric(
            _("{part} {unit}").format(part=_(labels[key]), unit=_(usage.UNIT_LABELS[unit])),
            format_number(totals[key]),
            border=True,
            help=_(usage.PART_HELP[key]),
        )


def render_team_breakdown(
    client: AbltClient, stats: UsageStatistics, start: dt.date, end: dt.date, unit: str
) -> None:
    st.header(_("Per member"))
    members = [(f"{m.name} ({m.username})", m.user_id) for m in list_members()]
    rows = usage.load_breakdown(client, members, start, end)
    frame = usage.breakdown_frame(rows, unit, team_total=stats.total)
    # The "Others" row in the session's language (the CSV keeps the English).
    shown = frame.replace({"member": {usage.OTHERS_LABEL: _(usage.OTHERS_LABEL)}})
    st.altair_chart(usage.breakdown_chart(shown, unit), width="stretch")
    # The table's own toolbar downloads it as CSV: its member names are
    # neutralised like every CSV the app writes (a name can be a formula).
    st.dataframe(
        csv_safe.safe_frame(shown),
        hide_index=True,
        width="stretch",
        column_config=usage.table_columns(),
        key="stats_breakdown_table",
    )
    st.download_button(
        _("Download per-member CSV"),
        data=usage.csv_bytes(frame),
        file_name=usage.csv_file_name(start, end, unit, "per-member"),
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="stats_breakdown_csv",
    )


@view_action
def refresh_statistics() -> None:
    """Refresh: forget the cached figures, so this run asks the API again."""
    usage.forget_statistics()


def render() -> None:
    # No figures before login, even if this file runs without app.py.
    member = require_member()
    st.title(_("Usage statistics"))

    # One calendar, the API's (UTC) days: a chat made now is on the day called today.
    calendar = usage.stats_calendar(ui.member_timezone())
    st.caption(calendar.note)
    today = calendar.today
    start, end = pick_range(today)
    controls = st.columns([1, 2])
    unit = controls[0].radio(
        _("Unit"), usage.UNITS, key=Keys.STATS_UNIT, horizontal=True, format_func=str.capitalize
    )
    with controls[1]:
        user_id, scope = pick_scope(member)

    choice = usage.resolve_range(start, end, today)
    if choice.problem or choice.start is None or choice.end is None:
        st.warning(choice.problem or _("Pick both a start and an end date."))
        return
    if choice.note:
        st.info(choice.note, icon=":material/event:")
    start, end = choice.start, choice.end
    caption, refresh = st.columns([5, 1], vertical_alignment="center")
    caption.caption(
        _("{start:%Y-%m-%d} to {end:%Y-%m-%d} · {value} days (UTC)").format(
            start=start, end=end, value=(end - start).days + 1
        )
    )
    # Figures are cached for a minute; Refresh shows a chat that just ended right away.
    # Right-aligned in its column, so it ends where the content ends.
    refresh.container(horizontal_alignment="right").button(
        _("Refresh"),
        key="stats_refresh",
        icon=":material/refresh:",
        on_click=refresh_statistics,
    )

    client = get_client()
    try:
        stats = usage.load_statistics(client, user_id, start, end)
        frame = usage.daily_frame(stats, start, end, unit)
        render_tiles(usage.totals_row(stats.total, unit), unit)
        if stats.total.total_words == 0 and stats.total.total_tokens == 0:
            st.info(_("No usage in this range yet."))
        st.altair_chart(usage.daily_chart(frame, unit), width="stretch")
        st.dataframe(
            csv_safe.safe_frame(frame),  # its toolbar writes a CSV, as every table's does
            hide_index=True,
            width="stretch",
            column_config=usage.table_columns(),
            key="stats_daily_table",
        )
        st.download_button(
            _("Download CSV"),
            data=usage.csv_bytes(frame),
            file_name=usage.csv_file_name(start, end, unit, scope),
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
        )
        if user_id == usage.TEAM_USER_ID:
            render_team_breakdown(client, stats, start, end, unit)
            render_group_breakdown(client, start, end, unit)  # each group: its members' sum
    except AbltError as err:
        # Errors are not cached: the rerun the Retry click causes asks the API again.
        ui.error_box(describe(err), retry_key="stats_retry")
    # Thumbs given under answers, from the database (not the API): per bot, per week.
    satisfaction_view.render_satisfaction(member, start, end)


render()
