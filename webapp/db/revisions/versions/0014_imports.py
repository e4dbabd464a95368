"""Schema revision 0014: imports (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Imports from other apps (issue 26, `webapp.imports`): one `imports` row
    per import (who, what, its progress, for the background run and its undo),
    and on each conversation it wrote its `import_id`, `import_source`
    ("chatgpt", ...) and `original_model` (the source's model, for the header)."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE imports (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            file_name VARCHAR(200) NOT NULL,
            sources VARCHAR(100) NOT NULL,
            bot_slug VARCHAR(200) NOT NULL,
            status VARCHAR(16) NOT NULL,
            total INTEGER NOT NULL,
            written INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            messages INTEGER NOT NULL,
            problem TEXT,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            removed_at {ts}
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_imports_owner ON imports (owner, created_at)")
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN import_id VARCHAR(36)")
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN import_source VARCHAR(16)")
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN original_model VARCHAR(100)")
    conn.exec_driver_sql("CREATE INDEX ix_conversations_import ON conversations (import_id)")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
