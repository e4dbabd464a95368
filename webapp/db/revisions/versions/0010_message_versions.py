"""Schema revision 0010: message versions (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Answer versions and branches (`message_versions`, see the table above):
    a new table only, so existing conversations stay exactly as they were,
    their messages the shown path."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE message_versions (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            parent_id VARCHAR(36),
            selected BOOLEAN NOT NULL,
            role VARCHAR(16) NOT NULL,
            text TEXT NOT NULL,
            status VARCHAR(16) NOT NULL,
            error TEXT,
            created_at {ts} NOT NULL,
            updated_at {ts},
            reply_to VARCHAR(36)
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_message_versions_conversation_parent "
        "ON message_versions (conversation_id, parent_id)"
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
