"""Schema revision 0011: imported at (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """An imported conversation says so: `conversations.imported_at`, the
    moment of the import (NULL for conversations made in the app), while its
    `created_at`/`updated_at` and its messages keep the file's dates."""
    conn.exec_driver_sql(f"ALTER TABLE conversations ADD COLUMN imported_at {timestamp_type(conn)}")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
