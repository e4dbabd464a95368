"""`AuditLog`: who did what and when, for the admin.

Two tables feed it, both in the conversation store's database (shared by
every app process):

- `login_events` (migration v4, written by `webapp.auth.throttle_store`): logins,
  failed and refused logins, lock-outs lifted, logouts. Read as it is, never
  copied.
- `audit_events` (migration v8): every change on the Team page
  (`record_change`), every budget refusal (`record_refusal`) and every
  single sign-on event (`record_sso`).

`entries()` merges both, newest first, filtered by member, kind and date
range (whole UTC days). No Streamlit and no pandas here: the chat page
records refusals through this module and must stay light; the CSV lives in
`webapp.audit.view`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webapp.auth import throttle_store as login_log
from webapp.db.schema import audit_events as A
from webapp.db.schema import login_events as E

# Kinds of entry, as the filter offers them.
LOGIN: Final = "login"
FAILED_LOGIN: Final = "failed login"
LOGOUT: Final = "logout"
UNLOCK: Final = "unlock"
TEAM_CHANGE: Final = "team change"
BUDGET_REFUSAL: Final = "budget refusal"
SINGLE_SIGN_ON: Final = "single sign-on"
KINDS: Final = (LOGIN, FAILED_LOGIN, LOGOUT, UNLOCK, TEAM_CHANGE, BUDGET_REFUSAL, SINGLE_SIGN_ON)

# audit_events.kind values
_TEAM: Final = "team"
_BUDGET: Final = "budget"
_SSO: Final = "sso"
_OWN_KINDS: Final = {TEAM_CHANGE: _TEAM, BUDGET_REFUSAL: _BUDGET, SINGLE_SIGN_ON: _SSO}
_KIND_OF: Final = {value: kind for kind, value in _OWN_KINDS.items()}

# login_events.event -> kind (an `attempt` left unresolved never succeeded).
_LOGIN_KINDS: Final = {
    login_log.SUCCESS: LOGIN,
    login_log.FAILURE: FAILED_LOGIN,
    login_log.REFUSED: FAILED_LOGIN,
    login_log.ATTEMPT: FAILED_LOGIN,
    login_log.UNLOCK: UNLOCK,
    login_log.LOGOUT: LOGOUT,
}
_LOGIN_ACTIONS: Final = {
    login_log.SUCCESS: "logged in",
    login_log.FAILURE: "login failed (wrong username or password)",
    login_log.REFUSED: "login refused (too many failed attempts)",
    login_log.ATTEMPT: "login not completed",
    login_log.UNLOCK: "lifted a login lock-out",
    login_log.LOGOUT: "logged out",
}
MAX_FIELD: Final = 128
DEFAULT_LIMIT: Final = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log.

    `at`: when (UTC). `kind`: one of `KINDS`. `actor`: who did it (the
    username; for a failed login, the username as typed). `action`: what, in
    plain words. `target`: whom it concerned (a username), if anyone else.
    `detail`: more words ('' when none). `address`: the client's network
    address for login events, else None.
    """

    at: datetime
    kind: str
    actor: str | None
    action: str
    target: str | None = None
    detail: str = ""
    address: str | None = None


def _name(value: object) -> str | None:
    """An actor or target as the log keys it (a Member or a username)."""
    if value is None:
        return None
    username = getattr(value, "username", value)
    return str(username).strip().lower()[:MAX_FIELD] or None


def day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """[start 00:00 UTC, the day after end 00:00 UTC): whole days, both included."""
    low = datetime.combine(start, time.min, tzinfo=UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC) if end else None
    return low, high


class AuditLog:
    """Writes `audit_events` and reads it together with `login_events`.

    `engine`: a `ConversationStore.engine` (migrated to v8). `clock`: UTC now.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def _insert(self, kind: str, actor: object, action: str, target: object, detail: str) -> None:
        with self.engine.connect() as conn:
            conn.execution_options(ablt_write=True)
            with conn.begin():
                conn.execute(
                    A.insert().values(
                        at=self._clock(),
                        kind=kind,
                        actor=_name(actor),
                        action=action.strip()[:64] or "change",
                        target=_name(target),
                        detail=detail.strip(),
                    )
                )

    def record_change(self, actor: object, action: str, target: object, detail: str = "") -> None:
        """A change made on the Team page: `actor` (a Member or username) did
        `action` (e.g. "set role") to `target` (a member, or None for the
        team as a whole), with `detail` in plain words (e.g. "member -> admin")."""
        self._insert(_TEAM, actor, action, target, detail)

    def record_refusal(self, member: object, detail: str) -> None:
        """Sending refused because the member's monthly budget is used up."""
        self._insert(_BUDGET, member, "sending refused (budget used up)", None, detail)

    def record_sso(self, actor: object, action: str, target: object, detail: str = "") -> None:
        """A single sign-on event (`webapp.auth.sso`): a login, a refused one
        with its reason, a link, a self-join, a role or group change from the
        provider's claims. `actor`: the member, or for a refused identity its
        email address (or issuer and subject); `detail` in plain words."""
        self._insert(_SSO, actor, action, target, detail)

    def entries(
        self,
        *,
        member: str | None = None,
        kinds: Collection[str] | None = None,
        start: date | None = None,
        end: date | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[AuditEntry]:
        """Entries newest first, at most `limit`.

        `member`: only entries where that username acted or was acted on.
        `kinds`: only these (`KINDS`; None or empty: all). `start` / `end`:
        whole UTC days, both included (None: open).
        """
        wanted = set(kinds or KINDS)
        low, high = day_bounds(start, end)
        who = _name(member)
        found: list[AuditEntry] = []
        with self.engine.connect() as conn, conn.begin():
            events = [e for e, k in _LOGIN_KINDS.items() if k in wanted]
            if events:
                stmt = _newest(
                    sa.select(E).where(E.c.event.in_(events)),
                    E,
                    (E.c.username, E.c.actor),
                    who,
                    low,
                    high,
                    limit,
                )
                for r in conn.execute(stmt).mappings():
                    found.append(_from_login(r))
            own = [v for k, v in _OWN_KINDS.items() if k in wanted]
            if own:
                stmt = _newest(
                    sa.select(A).where(A.c.kind.in_(own)),
                    A,
                    (A.c.actor, A.c.target),
                    who,
                    low,
                    high,
                    limit,
                )
                for r in conn.execute(stmt).mappings():
                    found.append(
                        AuditEntry(
                            at=r["at"],
                            kind=_KIND_OF.get(r["kind"], TEAM_CHANGE),
                            actor=r["actor"],
                            action=r["action"],
                            target=r["target"],
                            detail=r["detail"],
                        )
                    )
        found.sort(key=lambda entry: entry.at, reverse=True)
        return found[:limit]


def _from_login(row: sa.RowMapping) -> AuditEntry:
    event = str(row["event"])
    if event == login_log.UNLOCK:
        # An admin (actor) lifted the lock-out of a username and/or an address.
        return AuditEntry(
            at=row["at"],
            kind=UNLOCK,
            actor=row["actor"],
            action=_LOGIN_ACTIONS[event],
            target=row["username"],
            address=row["address"],
        )
    return AuditEntry(
        at=row["at"],
        kind=_LOGIN_KINDS[event],
        actor=row["username"],
        action=_LOGIN_ACTIONS[event],
        address=row["address"],
    )


CSV_COLUMNS: Final = ("when (UTC)", "kind", "who", "what", "target", "detail", "address")


def csv_rows(entries: list[AuditEntry]) -> list[dict[str, str]]:
    """The entries as CSV rows (`CSV_COLUMNS`), times as ISO 8601 UTC to the second."""
    return [
        {
            "when (UTC)": e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "kind": e.kind,
            "who": e.actor or "",
            "what": e.action,
            "target": e.target or "",
            "detail": e.detail,
            "address": e.address or "",
        }
        for e in entries
    ]


def _newest(
    stmt: sa.Select[Any],
    table: sa.Table,
    people: tuple[sa.Column[Any], ...],
    who: str | None,
    low: datetime | None,
    high: datetime | None,
    limit: int,
) -> sa.Select[Any]:
    """`stmt` over `table` (which has `at` and `id`) narrowed to rows naming
    `who` in any of `people` and to `low <= at < high`, newest first, `limit` rows."""
    if who:
        stmt = stmt.where(sa.or_(*(column == who for column in people)))
    if low:
        stmt = stmt.where(table.c.at >= low)
    if high:
        stmt = stmt.where(table.c.at < high)
    return stmt.order_by(table.c.at.desc(), table.c.id.desc()).limit(limit)
