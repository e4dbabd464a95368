"""Schema revision 0018: sso identities (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Single sign-on (OpenID Connect): `sso_identities` links an identity
    (issuer + subject) to a member once; `last_login_iat` is the ID token
    issue time of the last login written to the audit log (one entry per
    login at the provider, not per page load). `sso_settings` (one row,
    id 1): whether the password form is offered, and the email domains whose
    verified addresses may join the team by themselves."""
    ts = timestamp_type(conn)
    true = "1" if conn.dialect.name == "sqlite" else "true"
    conn.exec_driver_sql(
        f"""
        CREATE TABLE sso_identities (
            issuer VARCHAR(512) NOT NULL,
            subject VARCHAR(255) NOT NULL,
            username VARCHAR(128) NOT NULL,
            email VARCHAR(320) NOT NULL DEFAULT '',
            linked_at {ts} NOT NULL,
            last_login_iat BIGINT,
            PRIMARY KEY (issuer, subject)
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_sso_identities_username ON sso_identities (username)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE sso_settings (
            id INTEGER NOT NULL PRIMARY KEY,
            password_login BOOLEAN NOT NULL DEFAULT {true},
            self_join_domains TEXT NOT NULL DEFAULT '',
            updated_at {ts} NOT NULL,
            updated_by VARCHAR(128)
        )
        """
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
