"""Schema revision ${up_revision}: ${message} (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """What this revision changes and why. Spell out the DDL here (never read
    `webapp.db.schema`): a revision stays what it was when released."""
    raise NotImplementedError


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
