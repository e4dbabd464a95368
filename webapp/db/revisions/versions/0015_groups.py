"""Schema revision 0015: groups (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Groups (issue 22): who may use which bot, and a monthly budget per group.

    `team_groups`: a name unique in the team (`name_key`, its case-folded form, is
    what is unique and what an identity provider's claim matches), whether
    the identity provider's groups claim decides its members, whether it may
    use every bot (else the bots in `group_bots`), and its monthly limit
    (NULL: none). `group_members` keys members by username, as `budgets` and
    `members` do. `team_settings`: small key/value settings of the team (the
    bots for members in no group)."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE team_groups (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            name VARCHAR(200) NOT NULL,
            name_key VARCHAR(200) NOT NULL UNIQUE,
            description TEXT NOT NULL,
            managed_by_idp BOOLEAN NOT NULL,
            all_bots BOOLEAN NOT NULL,
            monthly_limit BIGINT,
            unit VARCHAR(8),
            created_at {ts} NOT NULL,
            created_by VARCHAR(128)
        )
        """
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE group_members (
            group_id VARCHAR(36) NOT NULL REFERENCES team_groups (id) ON DELETE CASCADE,
            username VARCHAR(128) NOT NULL,
            added_at {ts} NOT NULL,
            PRIMARY KEY (group_id, username)
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_group_members_username ON group_members (username)")
    conn.exec_driver_sql(
        """
        CREATE TABLE group_bots (
            group_id VARCHAR(36) NOT NULL REFERENCES team_groups (id) ON DELETE CASCADE,
            bot_slug VARCHAR(200) NOT NULL,
            PRIMARY KEY (group_id, bot_slug)
        )
        """
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE team_settings (
            key VARCHAR(64) NOT NULL PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at {ts} NOT NULL,
            updated_by VARCHAR(128)
        )
        """
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
