"""Schema revision 0019: folders tags archive (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Organising (issue 26): a member's `folders` (one level of nesting under
    another folder: `parent_id`), `conversation_tags` (any number per
    conversation, kept with its owner for the member's tag list), and on
    `conversations` its `folder_id` (NULL: no folder), `archived_at` (NULL:
    in History) and `temporary` (a temporary chat: never listed, deleted
    when its session leaves it)."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE folders (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            parent_id VARCHAR(36) REFERENCES folders (id) ON DELETE CASCADE,
            name VARCHAR(80) NOT NULL,
            created_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_folders_owner ON folders (owner)")
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN folder_id VARCHAR(36) "
        "REFERENCES folders (id) ON DELETE SET NULL"
    )
    conn.exec_driver_sql(f"ALTER TABLE conversations ADD COLUMN archived_at {ts}")
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN temporary BOOLEAN NOT NULL DEFAULT FALSE"
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversations_owner_folder ON conversations (owner, folder_id)"
    )
    conn.exec_driver_sql(
        """
        CREATE TABLE conversation_tags (
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            owner VARCHAR(128) NOT NULL,
            tag VARCHAR(40) NOT NULL,
            PRIMARY KEY (conversation_id, tag)
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversation_tags_owner_tag ON conversation_tags (owner, tag)"
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
