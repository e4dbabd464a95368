"""Team page (admins only): members, groups, budgets, simultaneous answers, data retention, audit.

app.py lists it for admins only; the page refuses anyone else who reaches it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import streamlit as st

from webapp.answers.slots_view import render_slots_admin
from webapp.audit import view as audit_view
from webapp.auth.sso_admin import render_sso_admin
from webapp.budgets import view as budgets_view
from webapp.groups.admin_view import render_groups_admin
from webapp.lifecycle.view import render_retention_admin
from webapp.team import Member
from webapp.team.view import refuse_non_admin, render_lockouts, render_members
from webapp.ui.i18n import _
from webapp.ui.member import require_member

log = logging.getLogger(__name__)


def words_this_month(team: Sequence[Member]) -> Mapping[str, int]:
    """The members list's "words this month", as budgets count them; empty when unknown."""
    try:
        return {m.username: budgets_view.used_this_month(m, "words") for m in team}
    except Exception:  # the API or the database: the column stays empty, the page works
        log.warning("Could not count the words used this month", exc_info=True)
        return {}


def render() -> None:
    member = require_member()
    refuse_non_admin(member)
    st.title(_("Team"))
    members_tab, groups_tab, budgets_tab, slots_tab, data_tab, audit_tab = st.tabs(
        [
            _("Members"),
            _("Groups"),
            _("Budgets"),
            _("Simultaneous answers"),
            _("Data"),
            _("Audit log"),
        ]
    )
    with members_tab:
        render_members(member, words_this_month)
        render_lockouts(member)
        render_sso_admin(member)
    with groups_tab:
        render_groups_admin(member)
    with budgets_tab:
        budgets_view.render_budgets_admin(member)
    with slots_tab:
        render_slots_admin(member)
    with data_tab:
        render_retention_admin()
    with audit_tab:
        audit_view.render_audit_log(member)


render()
