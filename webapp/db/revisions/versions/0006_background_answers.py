"""Schema revision 0006: background answers (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Answers generated in the background: which prompt an answer answers, a
    heartbeat that tells a live worker from a dead one, what it is waiting for,
    and the prompts queued behind the answer in progress (type-ahead, two tabs)."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql("ALTER TABLE messages ADD COLUMN reply_to VARCHAR(36)")
    conn.exec_driver_sql(f"ALTER TABLE messages ADD COLUMN heartbeat_at {ts}")
    conn.exec_driver_sql("ALTER TABLE messages ADD COLUMN waiting TEXT")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE queued_prompts (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            text TEXT NOT NULL,
            created_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_queued_prompts_conversation ON queued_prompts (conversation_id, position)"
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
