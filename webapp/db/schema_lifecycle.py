"""Tables of the data lifecycle and imports (`webapp.lifecycle`, `webapp.imports`)."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.db.schema_base import UTCDateTime, metadata

# Retention (v13): the team's policy, one row (id 1); a NULL number of days: kept forever.
retention_policy = sa.Table(
    "retention_policy",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("conversation_days", sa.Integer, nullable=True),
    sa.Column("keep_pinned", sa.Boolean, nullable=False),
    sa.Column("audit_days", sa.Integer, nullable=True),
    sa.Column("share_days", sa.Integer, nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=True),
)

# Periodic jobs across processes (v13): who sweeps now (a lease that runs out
# when its process dies) and when the last sweep ended.
sweeps = sa.Table(
    "sweeps",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("last_finished_at", UTCDateTime, nullable=True),
)

# A member's "Download all my data" (v13), built in the background: progress
# (`done` of `total` conversations), the zip's path once built, and the
# SHA-256 of its one-time download token (the token itself is never stored).
data_exports = sa.Table(
    "data_exports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),  # whose data
    sa.Column("requested_by", sa.String(128), nullable=False),  # the member or an admin
    sa.Column("status", sa.String(16), nullable=False),  # building | ready | failed
    sa.Column("done", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("path", sa.Text, nullable=True),
    sa.Column("size_bytes", sa.BigInteger, nullable=True),
    sa.Column("token_hash", sa.String(64), nullable=True),
    sa.Column("token_expires_at", UTCDateTime, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
)

# v14: one import from another app (`webapp.imports`): its progress while it
# runs in the background (`status`: running, done, failed, removed; a running
# row whose `updated_at` stops moving was interrupted) and what it wrote.
imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("file_name", sa.String(200), nullable=False),
    sa.Column("sources", sa.String(100), nullable=False),  # "chatgpt,librechat"
    sa.Column("bot_slug", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("total", sa.Integer, nullable=False),  # conversations to write
    sa.Column("written", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),  # refused by the database
    sa.Column("skipped", sa.Integer, nullable=False),  # left out by the preview
    sa.Column("messages", sa.Integer, nullable=False),  # written so far
    sa.Column("problem", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("removed_at", UTCDateTime, nullable=True),
)
