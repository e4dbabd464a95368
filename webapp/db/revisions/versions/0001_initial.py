"""Schema revision 0001: initial (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Conversations and their messages; (conversation_id, seq) is unique and
    indexed, so loading the latest page of a long conversation is a range scan."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE conversations (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            owner_user_id INTEGER NOT NULL,
            bot_slug VARCHAR(200) NOT NULL,
            bot_name VARCHAR(200) NOT NULL,
            title VARCHAR(200) NOT NULL,
            options TEXT NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversations_owner_updated ON conversations (owner, updated_at)"
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE messages (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role VARCHAR(16) NOT NULL,
            text TEXT NOT NULL,
            status VARCHAR(16) NOT NULL,
            error TEXT,
            created_at {ts} NOT NULL,
            CONSTRAINT uq_messages_conversation_seq UNIQUE (conversation_id, seq)
        )
        """
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
