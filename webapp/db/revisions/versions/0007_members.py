"""Schema revision 0007: members (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """The team moves into the database: `members` (credentials, role, stable
    user_id, disabled, must-change-password, last login, the time before
    which logins are revoked) and `team_state` (where the team came from)."""
    ts = timestamp_type(conn)
    false = "0" if conn.dialect.name == "sqlite" else "false"
    conn.exec_driver_sql(
        f"""
        CREATE TABLE members (
            username VARCHAR(128) NOT NULL PRIMARY KEY,
            user_id INTEGER NOT NULL UNIQUE,
            name VARCHAR(200) NOT NULL,
            email VARCHAR(320) NOT NULL DEFAULT '',
            role VARCHAR(16) NOT NULL,
            password_hash VARCHAR(128),
            disabled BOOLEAN NOT NULL DEFAULT {false},
            must_change_password BOOLEAN NOT NULL DEFAULT {false},
            created_at {ts} NOT NULL,
            last_login_at {ts},
            sessions_valid_after {ts},
            extra TEXT NOT NULL DEFAULT '{{}}'
        )
        """
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE team_state (
            id INTEGER NOT NULL PRIMARY KEY,
            source TEXT NOT NULL,
            started_at {ts} NOT NULL
        )
        """
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
