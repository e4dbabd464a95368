"""Schema revision 0013: retention and data requests (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Retention (issue 25): when a conversation was last opened (with its
    `updated_at`, the age the retention rule reads), the team's policy (one
    row), the daily sweep's lease (one process sweeps at a time; a killed
    sweep's lease runs out), and members' data downloads built in the
    background (progress, the file, a one-time download token's hash)."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(f"ALTER TABLE conversations ADD COLUMN opened_at {ts}")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE retention_policy (
            id INTEGER NOT NULL PRIMARY KEY,
            conversation_days INTEGER,
            keep_pinned BOOLEAN NOT NULL,
            audit_days INTEGER,
            share_days INTEGER,
            updated_at {ts} NOT NULL,
            updated_by VARCHAR(128)
        )
        """
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE sweeps (
            name VARCHAR(32) NOT NULL PRIMARY KEY,
            lease_until {ts},
            last_finished_at {ts}
        )
        """
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE data_exports (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            requested_by VARCHAR(128) NOT NULL,
            status VARCHAR(16) NOT NULL,
            done INTEGER NOT NULL,
            total INTEGER NOT NULL,
            path TEXT,
            size_bytes BIGINT,
            token_hash VARCHAR(64),
            token_expires_at {ts},
            error TEXT,
            created_at {ts} NOT NULL,
            finished_at {ts}
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_data_exports_owner ON data_exports (owner, created_at)")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
