"""The Statistics page's Satisfaction section (`webapp.feedback.stats` drawn)."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from webapp.chat import open_chat as chat
from webapp.feedback import stats
from webapp.feedback.view import get_feedback
from webapp.team import Member
from webapp.text import csv_safe
from webapp.ui.i18n import _, format_number


def render_satisfaction(member: Member, start: dt.date, end: dt.date) -> None:
    """Statistics' Satisfaction section for the UTC days `start`..`end`: per
    bot the share of thumbs up, the count, a weekly trend and the reasons;
    per member for admins; CSV. (Per group once groups exist.)"""
    st.subheader(_("Satisfaction"))
    since = dt.datetime.combine(start, dt.time(), dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    try:
        rows = get_feedback().all(since, until)
    except chat.DATABASE_ERRORS:
        st.error(_("The feedback could not be read; try again."), icon=":material/database:")
        return
    if not rows:
        st.info(_("No feedback on answers in this range yet."), icon=":material/thumb_up:")
        return
    by_bot = stats.per_bot(rows)
    st.caption(
        _("{rows} answers rated by the team (thumbs under each answer).").format(
            rows=format_number(len(rows))
        )
    )
    st.dataframe(
        csv_safe.safe_frame(by_bot),
        hide_index=True,
        width="stretch",
        column_config={"Share up": st.column_config.ProgressColumn(format="percent")},
        key="feedback_by_bot",
    )
    st.download_button(
        _("Download satisfaction CSV"),
        data=stats.csv_bytes(by_bot),
        file_name=f"ablt-satisfaction-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="feedback_csv",
    )
    st.altair_chart(stats.trend_chart(stats.weekly(rows)), width="stretch")
    reasons = stats.reasons(rows)
    if not reasons.empty:
        st.caption(_("Reasons given with a thumbs down"))
        st.dataframe(csv_safe.safe_frame(reasons), hide_index=True, key="feedback_reasons")
    if member.is_admin:
        st.caption(_("Per member (admins only)"))
        st.dataframe(
            csv_safe.safe_frame(stats.per_member(rows)),
            hide_index=True,
            width="stretch",
            column_config={"Share up": st.column_config.ProgressColumn(format="percent")},
            key="feedback_by_member",
        )
