"""Read-only share links to a run's report, as conversation shares are
(`webapp.sharing.links`): the report as it was when shared (a snapshot, so
ratings added later are not shown through the link), behind an unguessable
token (`secrets.token_urlsafe`, 128 bits), readable by any logged-in member
(the login gate keeps everyone else out), revocable by its owner. An unknown
or revoked token raises the same `ReportNotAvailable`.

The snapshot holds the report's figures only: no prompt, no answer text, no
system instruction.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict
from typing import Final

import sqlalchemy as sa

from webapp.conversations.store import ConversationStore, Owner
from webapp.db.schema import eval_shares as S
from webapp.evaluations.agreement import Agreement
from webapp.evaluations.report import BotRow, Report
from webapp.ui.i18n import N_

TOKEN_BYTES: Final = 16
REPORT_PARAM: Final = "report"  # the query parameter of the Evaluations page
NOT_AVAILABLE: Final = N_(
    "This shared report is not available. The link may be mistyped, or "
    "its owner stopped sharing it."
)


class ReportNotAvailable(LookupError):
    """Unknown or revoked: the reader is told the same plain thing."""

    def __init__(self) -> None:
        super().__init__(NOT_AVAILABLE)


def _dump(report: Report) -> str:
    return json.dumps(asdict(report), ensure_ascii=False)


def _load(raw: str) -> Report:
    data = json.loads(raw)
    data["rows"] = tuple(BotRow(**row) for row in data["rows"])
    data["agreement"] = Agreement(**data["agreement"])
    data["raters"] = tuple(data["raters"])
    return Report(**data)


class ReportShares:
    """Share links to reports in the store's database."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def share(self, owner: Owner, run_id: str, report: Report) -> str:
        """A new link's token for `report` (a snapshot) of the owner's run."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.insert(S).values(
                    token=token,
                    run_id=run_id,
                    owner=owner.username,
                    snapshot=_dump(report),
                    created_at=self.store.now(),
                    revoked_at=None,
                )
            )
        return token

    def open(self, token: str) -> Report:
        """The shared report; `ReportNotAvailable` for an unknown or revoked token."""
        stmt = sa.select(S.c.snapshot).where(S.c.token == token, S.c.revoked_at.is_(None))
        with self.store.transaction() as conn:
            raw = conn.execute(stmt).scalar()
        if raw is None:
            raise ReportNotAvailable()
        return _load(raw)

    def revoke(self, owner: Owner, token: str) -> bool:
        """Stop sharing; False when it was not the owner's active link."""
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(S)
                .where(S.c.token == token, S.c.owner == owner.username, S.c.revoked_at.is_(None))
                .values(revoked_at=self.store.now())
            )
        return bool(done.rowcount)

    def tokens(self, owner: Owner, run_id: str) -> list[str]:
        """The owner's active links to the run, newest first."""
        stmt = (
            sa.select(S.c.token)
            .where(S.c.run_id == run_id, S.c.owner == owner.username, S.c.revoked_at.is_(None))
            .order_by(S.c.created_at.desc())
        )
        with self.store.transaction() as conn:
            return list(conn.execute(stmt).scalars())


def report_path(token: str) -> str:
    """The link's path and query on this app: the Evaluations page with the token."""
    return f"evaluations?{REPORT_PARAM}={token}"
