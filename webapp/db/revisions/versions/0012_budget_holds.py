"""Schema revision 0012: budget holds (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Budget holds: what an answer admitted but not yet finished reserves of
    its member's monthly budget (see `webapp.budgets.holds`), so parallel
    sends cannot all pass one check. `ticket` groups the holds of one
    admission; `answer_id` is NULL until an answer is started with it."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE budget_holds (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            ticket VARCHAR(36) NOT NULL,
            owner VARCHAR(128) NOT NULL,
            answer_id VARCHAR(36) UNIQUE,
            words INTEGER NOT NULL,
            created_at {ts} NOT NULL,
            expires_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_budget_holds_owner ON budget_holds (owner)")
    conn.exec_driver_sql("CREATE INDEX ix_budget_holds_ticket ON budget_holds (ticket)")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
