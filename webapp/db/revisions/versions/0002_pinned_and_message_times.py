"""Schema revision 0002: pinned and message times (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Pinning, a message `updated_at` (tells a live stream from a dead one),
    and a listing index that serves "pinned first, newest first" per owner."""
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE"
    )
    conn.exec_driver_sql(f"ALTER TABLE messages ADD COLUMN updated_at {timestamp_type(conn)}")
    conn.exec_driver_sql("UPDATE messages SET updated_at = created_at")
    conn.exec_driver_sql("DROP INDEX ix_conversations_owner_updated")
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversations_owner_pinned_updated "
        "ON conversations (owner, pinned, updated_at)"
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
