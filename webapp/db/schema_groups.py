"""Tables of the groups and the team's small settings (`webapp.groups`)."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.db.schema_base import UTCDateTime, metadata

# Groups (v15): who may use which bot, and a monthly limit per group.
# `name_key` is the case-folded name (unique; a groups claim matches it).
team_groups = sa.Table(
    "team_groups",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("name_key", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False),  # '' when none
    sa.Column("managed_by_idp", sa.Boolean, nullable=False),  # the groups claim decides
    sa.Column("all_bots", sa.Boolean, nullable=False),  # else the bots in group_bots
    sa.Column("monthly_limit", sa.BigInteger, nullable=True),  # NULL: no group limit
    sa.Column("unit", sa.String(8), nullable=True),  # words | tokens
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=True),
)
group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column(
        "group_id",
        sa.String(36),
        sa.ForeignKey("team_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("username", sa.String(128), primary_key=True),  # as members keys it
    sa.Column("added_at", UTCDateTime, nullable=False),
)
group_bots = sa.Table(
    "group_bots",
    metadata,
    sa.Column(
        "group_id",
        sa.String(36),
        sa.ForeignKey("team_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("bot_slug", sa.String(200), primary_key=True),
)

# Small settings of the team (v15), one row per key, the value as JSON.
team_settings = sa.Table(
    "team_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=True),
)
