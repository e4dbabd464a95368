"""One seam for every change made on the Team page: `record_change`.

Today it writes a log line (never a password or a hash: callers pass none).
The audit log (issue 9's "budgets" part) replaces its body to write a row;
every caller already goes through here, so nothing else changes then.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def record_change(actor: str, action: str, target: str, detail: str = "") -> None:
    """Record that `actor` (a username, or "cli:USER") did `action` ("add",
    "role", "reset-password", "disable", "enable", "remove", "password") to the
    member `target`; `detail` is a short plain note (e.g. the new role)."""
    log.info("team change: %s %s %s %s", actor, action, target, detail)
