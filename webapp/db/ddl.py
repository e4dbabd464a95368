"""Small helpers the schema revisions share (kept tiny and stable: old revisions use them)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def timestamp_type(conn: Connection) -> str:
    """The timezone-aware timestamp column type as this database spells it
    (`TIMESTAMP WITH TIME ZONE` on PostgreSQL, `DATETIME` on SQLite)."""
    return str(sa.DateTime(timezone=True).compile(dialect=conn.dialect))
