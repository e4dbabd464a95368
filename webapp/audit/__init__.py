"""The audit log: logins, failed logins, logouts, Team page changes, budget refusals.

    AuditLog(store.engine).record_change(actor, "set role", "ann", "member -> admin")

The logic is `webapp.audit.log.AuditLog` (no Streamlit, on the engine it is
given); the admin's view (`render_audit_log`) is in `webapp.audit.view`.
"""

from __future__ import annotations

from webapp.audit.log import (
    BUDGET_REFUSAL,
    FAILED_LOGIN,
    KINDS,
    LOGIN,
    LOGOUT,
    TEAM_CHANGE,
    UNLOCK,
    AuditEntry,
    AuditLog,
)

__all__ = [
    "BUDGET_REFUSAL",
    "FAILED_LOGIN",
    "KINDS",
    "LOGIN",
    "LOGOUT",
    "TEAM_CHANGE",
    "UNLOCK",
    "AuditEntry",
    "AuditLog",
]
