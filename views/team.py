"""Team page (admins only): budgets and the audit log.

A minimal page until the Team page with members (another change) lands; that
page calls the same two sections. app.py lists it for admins only, and it
refuses anyone else who reaches it by its URL.
"""

from __future__ import annotations

import streamlit as st

from webapp.audit import view as audit_view
from webapp.auth import require_member
from webapp.budgets import view as budgets_view


def render() -> None:
    member = require_member()
    if not member.is_admin:
        st.error("Only an admin of the team can open the Team page.")
        st.stop()
    st.title("Team")
    budgets_view.render_budgets_admin(member)
    st.divider()
    audit_view.render_audit_log(member)


render()
