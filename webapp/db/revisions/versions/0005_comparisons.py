"""Schema revision 0005: comparisons (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Comparisons: a conversation of kind "comparison" groups one "column"
    conversation per compared bot (`parent_id`, `position`), and keeps the
    vote for the best one (`voted_id`). Plain chats are kind "chat"."""
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN kind VARCHAR(16) NOT NULL DEFAULT 'chat'"
    )
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN parent_id VARCHAR(36) "
        "REFERENCES conversations (id) ON DELETE CASCADE"
    )
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN position INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN voted_id VARCHAR(36)")
    conn.exec_driver_sql("CREATE INDEX ix_conversations_parent ON conversations (parent_id)")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
