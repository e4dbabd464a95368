"""Schema revision 0003: prompt library and shares (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """The prompt library and read-only share links (see the tables above)."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE prompts (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            name VARCHAR(200) NOT NULL,
            system_instruction TEXT NOT NULL,
            starter_prompt TEXT NOT NULL,
            options TEXT NOT NULL,
            bot_slug VARCHAR(200),
            shared BOOLEAN NOT NULL,
            pinned BOOLEAN NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_prompts_owner ON prompts (owner)")
    conn.exec_driver_sql("CREATE INDEX ix_prompts_shared ON prompts (shared)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE shares (
            token VARCHAR(64) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            title VARCHAR(200) NOT NULL,
            snapshot TEXT NOT NULL,
            message_count INTEGER NOT NULL,
            created_at {ts} NOT NULL,
            revoked_at {ts}
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_shares_owner ON shares (owner, created_at)")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
