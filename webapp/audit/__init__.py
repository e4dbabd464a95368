"""The audit log: logins, failed logins, logouts, Team page changes, budget refusals.

    from webapp import audit
    audit.record_change(actor, "set role", "ann", "member -> admin")   # a Team page change

The logic is `webapp.audit.log.AuditLog` (no Streamlit); the admin's view
(`render_audit_log`) is in `webapp.audit.view`. The functions here act on the
app's own database (`webapp.backend.get_store`) and are the seams other
features call.
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
    "app_log",
    "record_change",
]


def app_log() -> AuditLog:
    """The audit log on the app's database (the process-wide store's engine)."""
    from webapp.backend import get_store  # Streamlit-side; imported when used

    return AuditLog(get_store().engine)


def record_change(actor: object, action: str, target: object, detail: str = "") -> None:
    """Write one Team page change to the audit log: `actor` (a Member or a
    username) did `action` ("add member", "set role", "set budget"...) to
    `target` (a Member, a username, or None for the whole team), `detail` in
    plain words. Database errors propagate (the caller's change is then
    reported as not recorded)."""
    app_log().record_change(actor, action, target, detail)
