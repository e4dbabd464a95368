"""The Statistics page's "Per group" chart and table (admins, whole team):
each group's usage is the sum of its members' (`webapp.groups.usage`)."""

from __future__ import annotations

import datetime as dt
import logging

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from ablt_core import AbltClient
from webapp.backend import get_store
from webapp.groups.store import members_by_group
from webapp.groups.usage import group_totals
from webapp.statistics import usage
from webapp.text import csv_safe
from webapp.ui.i18n import _

log = logging.getLogger(__name__)


def render_group_breakdown(client: AbltClient, start: dt.date, end: dt.date, unit: str) -> None:
    """Per group, most usage first; nothing when the team has no group. Raises
    the client's `AbltError` (the page shows it with Retry)."""
    try:
        by_group = members_by_group(get_store().engine)
    except SQLAlchemyError:
        log.warning("Could not read the groups", exc_info=True)
        st.error(_("The groups cannot be read: the database did not answer."))
        return
    if not by_group:
        return
    st.header(_("Per group"))
    st.caption(
        _("A group's usage is the sum of its members'; a member in two groups counts in both.")
    )
    rows = [
        usage.MemberUsage(name, totals)
        for name, totals in group_totals(
            by_group, lambda user_id: usage.load_statistics(client, user_id, start, end).total
        )
    ]
    frame = usage.breakdown_frame(rows, unit)
    st.altair_chart(usage.breakdown_chart(frame, unit, usage.GROUP_LABEL), width="stretch")
    st.dataframe(
        csv_safe.safe_frame(frame),  # group names are the admins' text: no formulas in a CSV
        hide_index=True,
        width="stretch",
        column_config={**usage.table_columns(), "member": _(usage.GROUP_LABEL)},
        key="stats_group_table",
    )
