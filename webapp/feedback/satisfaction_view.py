"""The Statistics page's Satisfaction section (`webapp.feedback.stats` drawn)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st

from webapp.backend import get_store
from webapp.chat import open_chat as chat
from webapp.feedback import stats
from webapp.feedback.store import Feedback
from webapp.feedback.view import get_feedback
from webapp.groups.store import members_by_group
from webapp.team import Member
from webapp.text import csv_safe
from webapp.ui.i18n import _, format_number, ngettext

log = logging.getLogger(__name__)


def column_config(frame: pd.DataFrame) -> dict[str, Any]:
    """`frame`'s column headers in the session's language (the frame and its
    CSV keep the English names); "Share up" as a bar."""
    config: dict[str, Any] = {}
    for name in frame.columns:
        label = _(str(name))
        if name == "Share up":
            config[name] = st.column_config.ProgressColumn(label, format="percent")
        else:
            config[name] = st.column_config.Column(label)
    return config


def group_table(rows: Sequence[Feedback]) -> pd.DataFrame | None:
    """Satisfaction per group (its members' feedback), None when the team
    has no group or the groups cannot be read (said on the page)."""
    try:
        by_group = members_by_group(get_store().engine)
    except chat.DATABASE_ERRORS:
        log.warning("Could not read the groups", exc_info=True)
        st.error(_("The groups cannot be read: the database did not answer."))
        return None
    if not by_group:
        return None
    members = {name: {username for username, _name in found} for name, found in by_group.items()}
    return stats.per_group(rows, members)


def render_satisfaction(member: Member, start: dt.date, end: dt.date) -> None:
    """Statistics' Satisfaction section for the UTC days `start`..`end`: per
    bot the share of thumbs up, the count, a weekly trend and the reasons;
    per member and per group (its members' feedback) for admins; CSV of them all."""
    st.header(_("Satisfaction"))
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
    by_member = stats.per_member(rows) if member.is_admin else None
    by_group = group_table(rows) if member.is_admin else None
    rated = len(rows)
    st.caption(
        ngettext(
            "{rows} answer rated by the team (thumbs under each answer).",
            "{rows} answers rated by the team (thumbs under each answer).",
            rated,
        ).format(rows=format_number(rated))
    )
    st.dataframe(
        csv_safe.safe_frame(by_bot),
        hide_index=True,
        width="stretch",
        column_config=column_config(by_bot),
        key="feedback_by_bot",
    )
    st.download_button(
        _("Download satisfaction CSV"),
        data=stats.csv_bytes(stats.csv_table(by_bot, by_member, by_group)),
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
        st.dataframe(
            csv_safe.safe_frame(reasons),
            hide_index=True,
            column_config=column_config(reasons),
            key="feedback_reasons",
        )
    if by_member is not None:
        st.caption(_("Per member (admins only)"))
        st.dataframe(
            csv_safe.safe_frame(by_member),
            hide_index=True,
            width="stretch",
            column_config=column_config(by_member),
            key="feedback_by_member",
        )
    if by_group is not None:
        st.caption(
            _(
                "Per group (admins only): the feedback of its members now; "
                "a member in two groups counts in both."
            )
        )
        st.dataframe(
            csv_safe.safe_frame(by_group),
            hide_index=True,
            width="stretch",
            column_config=column_config(by_group),
            key="feedback_by_group",
        )
