"""One seam for every change made to the team: `record_change`.

The Team page's changes (`webapp.team.actions`) and the CLI's go through
here, into the audit log (`webapp.audit`, table `audit_events`, kind
"team"), and into a log line. Never a password or a hash: callers pass none.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from webapp.audit.log import AuditLog

log = logging.getLogger(__name__)


def record_change(
    actor: str, action: str, target: str | None, detail: str = "", *, engine: Engine
) -> None:
    """Record that `actor` (a username, or "cli:USER") did `action` ("add
    member", "set role", "reset password", "disable member", "enable member",
    "remove member", "change password") to the member `target`, `detail` a
    short plain note (e.g. "member -> admin"), in the audit log on `engine`.

    The change itself is already made: a database error here is logged, not
    raised, so the admin is not told a done change failed.
    """
    log.info("team change: %s %s %s %s", actor, action, target or "-", detail)
    try:
        AuditLog(engine).record_change(actor, action, target, detail)
    except SQLAlchemyError:
        log.warning("A team change could not be written to the audit log", exc_info=True)
