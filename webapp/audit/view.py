"""The admin's audit log on the Team page: filter by member, kind and dates; CSV.

`render_audit_log(actor)` draws it (admins only). Dates are whole UTC days and
times are shown in UTC, as the CSV has them, so two admins in different zones
see and export the same lines.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import streamlit as st

from webapp.audit.log import CSV_COLUMNS, KINDS, AuditEntry, AuditLog, csv_rows
from webapp.auth.gate import list_members
from webapp.backend import get_store
from webapp.text import csv_safe
from webapp.ui.i18n import N_, _, column_labels, format_number
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

DEFAULT_DAYS: Final = 30  # the range shown first: the last 30 days (UTC)
SHOWN_LIMIT: Final = 1000  # lines read for the table and the CSV
EVERYONE: Final = ""
# The table's headers (the CSV keeps `CSV_COLUMNS`' English).
HEADERS: Final = {
    "when (UTC)": N_("When (UTC)"),
    "kind": N_("Kind"),
    "who": N_("Who"),
    "what": N_("What"),
    "target": N_("Target"),
    "detail": N_("Detail"),
    "address": N_("Address"),
}


def audit_csv(entries: list[AuditEntry]) -> bytes:
    """The entries as UTF-8 CSV (`CSV_COLUMNS`), formula-safe (`webapp.text.csv_safe`)."""
    import pandas as pd  # the Team page alone needs it

    return csv_safe.csv_bytes(pd.DataFrame(csv_rows(entries), columns=list(CSV_COLUMNS)))


def csv_file_name(start: date | None, end: date | None) -> str:
    """e.g. "ablt-audit-2026-11-01-to-2026-11-30.csv"."""
    first = f"{start:%Y-%m-%d}" if start else "start"
    last = f"{end:%Y-%m-%d}" if end else "now"
    return f"ablt-audit-{first}-to-{last}.csv"


def _range(value: Any) -> tuple[date | None, date | None]:
    """A date_input's value as (start, end): a tuple while half-picked, or one date."""
    if isinstance(value, (tuple, list)):
        start = value[0] if len(value) > 0 else None
        end = value[1] if len(value) > 1 else start
        return start, end
    if isinstance(value, date):
        return value, value
    return None, None


def render_audit_log(actor: Any) -> None:
    """The audit log section (admins only: anyone else gets a refusal)."""
    if not getattr(actor, "is_admin", False):
        st.error(_("Only an admin can read the audit log."))
        return
    st.header(_("Audit log"))
    st.caption(
        _(
            "Logins, failed logins, logouts, changes on this page and budget "
            "refusals: who, what and when (UTC)."
        )
    )
    members = list_members()
    names = {m.username: f"{m.name} ({m.username})" for m in members}
    today = datetime.now(UTC).date()
    state = st.session_state
    state.setdefault(Keys.AUDIT_DAYS, (today - timedelta(days=DEFAULT_DAYS - 1), today))
    who_col, kind_col, date_col = st.columns(3)
    who = who_col.selectbox(
        _("Member"),
        [EVERYONE, *names],
        format_func=lambda u: names.get(u, u) if u else _("Everyone"),
        key=Keys.AUDIT_MEMBER,
    )
    kinds = kind_col.multiselect(_("Kind"), KINDS, key=Keys.AUDIT_KINDS, placeholder=_("All kinds"))
    start, end = _range(date_col.date_input(_("Days (UTC)"), key=Keys.AUDIT_DAYS))
    try:
        entries = AuditLog(get_store().engine).entries(
            member=who or None, kinds=kinds, start=start, end=end, limit=SHOWN_LIMIT
        )
    except Exception:
        log.warning("Could not read the audit log", exc_info=True)
        st.error(_("The audit log cannot be read: the database did not answer."))
        return
    if not entries:
        st.info(_("Nothing in the audit log matches these filters."))
        return
    if len(entries) >= SHOWN_LIMIT:
        st.caption(
            _("The latest {shown_limit} lines; narrow the dates to see older ones.").format(
                shown_limit=format_number(SHOWN_LIMIT)
            )
        )
    st.dataframe(
        csv_safe.safe_rows(csv_rows(entries)),
        hide_index=True,
        column_order=list(CSV_COLUMNS),
        column_config=column_labels(HEADERS),
    )
    st.download_button(
        _("Download CSV"),
        data=audit_csv(entries),
        file_name=csv_file_name(start, end),
        mime="text/csv",
        icon=":material/download:",
        key="audit_csv",
    )
