"""Schema revision 0020: member language (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Languages (issue 27): `members.language`, the interface language a
    member chose on the Account page (a locale such as "de" or "pt_BR"; NULL:
    follow the browser's). Kept with the member, so the choice holds in every
    process and on every device."""
    conn.exec_driver_sql("ALTER TABLE members ADD COLUMN language VARCHAR(16)")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
