"""The current tables of the conversation store, as SQLAlchemy Core `Table`s.

They describe what `webapp.db.migrations` builds, one column comment per
revision that added it. To change the schema: add an Alembic revision, then
update the `Table` objects here to match what the migrations produce.

Feature tables live in `schema_lifecycle`, `schema_groups` and
`schema_evidence` (one module per feature, sharing `schema_base`); they are
re-exported here, so `schema.<table>` names every table.
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.db.schema_base import SQLITE_FOLD_FUNCTION, UTCDateTime, fold, metadata
from webapp.db.schema_evidence import (
    answer_feedback,
    arena_battles,
    arena_votes,
    eval_cells,
    eval_ratings,
    eval_runs,
    eval_sets,
    eval_shares,
)
from webapp.db.schema_groups import group_bots, group_members, team_groups, team_settings
from webapp.db.schema_lifecycle import data_exports, imports, retention_policy, sweeps

__all__ = [
    "SQLITE_FOLD_FUNCTION",
    "UTCDateTime",
    "answer_feedback",
    "arena_battles",
    "arena_votes",
    "data_exports",
    "eval_cells",
    "eval_ratings",
    "eval_runs",
    "eval_sets",
    "eval_shares",
    "fold",
    "group_bots",
    "group_members",
    "imports",
    "metadata",
    "retention_policy",
    "sweeps",
    "team_groups",
    "team_settings",
]

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("owner_user_id", sa.Integer, nullable=False),
    sa.Column("bot_slug", sa.String(200), nullable=False),
    sa.Column("bot_name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),  # '' until the first prompt names it
    sa.Column("options", sa.Text, nullable=False),  # ConversationOptions as JSON
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("pinned", sa.Boolean, nullable=False),  # v2
    # v5: comparisons (history.KIND_*): a "comparison" row groups "column" rows.
    sa.Column("kind", sa.String(16), nullable=False, server_default="chat"),
    sa.Column(
        "parent_id",
        sa.String(36),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("voted_id", sa.String(36), nullable=True),
    # v11: when it was imported from an export file (NULL: made here).
    sa.Column("imported_at", UTCDateTime, nullable=True),
    # v13: when its member last opened it (NULL: not since v13); retention
    # reads the later of this and updated_at.
    sa.Column("opened_at", UTCDateTime, nullable=True),
    # v14: the import that wrote it (`imports.id`), its source app and model.
    sa.Column("import_id", sa.String(36), nullable=True),
    sa.Column("import_source", sa.String(16), nullable=True),
    sa.Column("original_model", sa.String(100), nullable=True),
    # v19: organising (webapp.conversations.store.organise).
    sa.Column(
        "folder_id",
        sa.String(36),
        sa.ForeignKey("folders.id", ondelete="SET NULL"),
        nullable=True,
    ),  # NULL: in no folder
    sa.Column("archived_at", UTCDateTime, nullable=True),  # NULL: in History
    sa.Column("temporary", sa.Boolean, nullable=False, server_default=sa.false()),
)

# v19: a member's folders; `parent_id` nests one under another.
folders = sa.Table(
    "folders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column(
        "parent_id",
        sa.String(36),
        sa.ForeignKey("folders.id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# v19: a conversation's tags (the owner kept for the member's tag list).
conversation_tags = sa.Table(
    "conversation_tags",
    metadata,
    sa.Column(
        "conversation_id",
        sa.String(36),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("tag", sa.String(40), primary_key=True),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "conversation_id",
        sa.String(36),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=True),  # v2; NULL only on rows from v1
    sa.Column("reply_to", sa.String(36), nullable=True),  # v6: the prompt an answer answers
    sa.Column("heartbeat_at", UTCDateTime, nullable=True),  # v6: a generating answer's last sign
    sa.Column("waiting", sa.Text, nullable=True),  # v6: what it waits for (JSON), for followers
)

queued_prompts = sa.Table(
    "queued_prompts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "conversation_id",
        sa.String(36),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("position", sa.Integer, nullable=False),  # answered in this order
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Versions off the shown path (v10): the answers a Regenerate replaced and
# the branches an earlier prompt's edit left. The shown path stays in
# `messages` (what is rendered, exported and sent as context), so a linear
# conversation has no rows here. `parent_id` is the message before this one
# (in `messages` or here; NULL: the conversation's first); `selected` marks
# the child shown when its parent (itself here) comes back on the path.
message_versions = sa.Table(
    "message_versions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column(
        "conversation_id",
        sa.String(36),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("parent_id", sa.String(36), nullable=True),
    sa.Column("selected", sa.Boolean, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=True),
    sa.Column("reply_to", sa.String(36), nullable=True),
)

# The team's prompt library (v3): a name, a system instruction and/or a
# starter prompt, default options, for one bot or any; private or shared.
prompts = sa.Table(
    "prompts",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("system_instruction", sa.Text, nullable=False),  # '' when none
    sa.Column("starter_prompt", sa.Text, nullable=False),  # '' when none
    sa.Column("options", sa.Text, nullable=False),  # ConversationOptions as JSON
    sa.Column("bot_slug", sa.String(200), nullable=True),  # NULL: any bot
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("pinned", sa.Boolean, nullable=False),  # admins pin shared entries
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Read-only share links (v3): a snapshot of a conversation at the moment of
# sharing, in the JSON export format, opened by its unguessable token.
shares = sa.Table(
    "shares",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column(
        "conversation_id",
        sa.String(36),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("message_count", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)


login_events = sa.Table(
    "login_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),  # v4
    sa.Column("at", UTCDateTime, nullable=False),
    # attempt (being checked) | failure | success | refused (throttled) | unlock
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("username", sa.String(128), nullable=True),  # as typed, lower-cased
    sa.Column("address", sa.String(64), nullable=True),  # the client's network address
    sa.Column("actor", sa.String(128), nullable=True),  # who lifted a lock-out
)

login_tickets = sa.Table(
    "login_tickets",
    metadata,
    sa.Column("ticket_hash", sa.String(64), primary_key=True),  # v4; SHA-256 hex
    sa.Column("kind", sa.String(8), nullable=False),  # set | clear (the login cookie)
    sa.Column("username", sa.String(128), nullable=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime, nullable=True),
)


# The team (v7): members, shared by every app process. `sessions_valid_after`:
# a login (cookie or open session) from before it no longer counts (log out,
# password change, disabling). `extra`: the other keys of an imported
# streamlit-authenticator entry (JSON), given back by the YAML export.
members = sa.Table(
    "members",
    metadata,
    sa.Column("username", sa.String(128), primary_key=True),  # lower-cased
    sa.Column("user_id", sa.Integer, nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # admin | member
    sa.Column("password_hash", sa.String(128), nullable=True),  # bcrypt; NULL: cannot log in
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("must_change_password", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_login_at", UTCDateTime, nullable=True),
    sa.Column("sessions_valid_after", UTCDateTime, nullable=True),
    sa.Column("extra", sa.Text, nullable=False),
    sa.Column("language", sa.String(16), nullable=True),  # v20: chosen locale; NULL: browser's
)

# One row (id 1) once the team has a source: the imported file, the demo
# seed, or a first member added to the database directly.
team_state = sa.Table(
    "team_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
)

# Single sign-on (v18): an identity (issuer + subject) linked to a member once.
sso_identities = sa.Table(
    "sso_identities",
    metadata,
    sa.Column("issuer", sa.String(512), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("username", sa.String(128), nullable=False, index=True),
    sa.Column("email", sa.String(320), nullable=False),  # as the provider said at linking
    sa.Column("linked_at", UTCDateTime, nullable=False),
    # The ID token's `iat` of the last login written to the audit log.
    sa.Column("last_login_iat", sa.BigInteger, nullable=True),
)

# Single sign-on settings (v18), one row (id 1): the password form on or off,
# and the email domains (comma-separated, lower-case) that may join by themselves.
sso_settings = sa.Table(
    "sso_settings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("password_login", sa.Boolean, nullable=False),
    sa.Column("self_join_domains", sa.Text, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=True),
)

# Monthly budgets (v8): one row per member with a limit of their own, keyed by
# username; the subject '' (never a username) is the team default.
budgets = sa.Table(
    "budgets",
    metadata,
    sa.Column("subject", sa.String(128), primary_key=True),
    sa.Column("monthly_limit", sa.BigInteger, nullable=True),  # NULL: no limit
    sa.Column("unit", sa.String(8), nullable=False),  # words | tokens
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=True),
)

# The audit log's own rows (v8): changes on the Team page and budget refusals.
# Logins, failed logins and logouts stay in `login_events` (read from there).
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # team | budget
    sa.Column("actor", sa.String(128), nullable=True),  # who did it (username)
    sa.Column("action", sa.String(64), nullable=False),  # what, e.g. "set budget"
    sa.Column("target", sa.String(128), nullable=True),  # whom it concerned (username)
    sa.Column("detail", sa.Text, nullable=False),  # plain words, '' when none
)


# The team's limit on simultaneous answers (v9), across every app process.
# One row per answer that wants or holds a slot: `slot` is NULL while it
# waits its turn (line order: `ticket`), else the slot number it holds
# (1..limit, UNIQUE: two answers never hold one slot). `holder` names the app
# process; its heartbeat keeps the row; a stale row is reclaimed.
answer_slots = sa.Table(
    "answer_slots",
    metadata,
    sa.Column("ticket", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("answer_id", sa.String(36), nullable=False, unique=True),
    sa.Column("holder", sa.String(64), nullable=False),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("slot", sa.Integer, nullable=True, unique=True),
    sa.Column("queued_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
)

# One row (id 1): the admin's limit (NULL: the ABLT_MAX_CONCURRENT_ANSWERS
# setting) and the back-off after a 429 (lowered limit, until when, from what).
slot_settings = sa.Table(
    "slot_settings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("max_answers", sa.Integer, nullable=True),
    sa.Column("set_by", sa.String(128), nullable=True),
    sa.Column("set_at", UTCDateTime, nullable=True),
    sa.Column("backoff_limit", sa.Integer, nullable=True),
    sa.Column("backoff_from", sa.Integer, nullable=True),
    sa.Column("backoff_until", UTCDateTime, nullable=True),
)

# What the admin sees happened to the limit: rate_limited | limit_set | reclaimed.
slot_events = sa.Table(
    "slot_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(128), nullable=True),
    sa.Column("limit_before", sa.Integer, nullable=True),
    sa.Column("limit_after", sa.Integer, nullable=True),
    sa.Column("detail", sa.String(200), nullable=False),
)

# Budget holds (v12): an admitted answer's estimate of its member's monthly
# budget, counted until the answer ends (then its own words count). One row
# per admission ticket until an answer is started with it (`answer_id` NULL,
# counted until `expires_at`), then one per answer started with the ticket.
budget_holds = sa.Table(
    "budget_holds",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ticket", sa.String(36), nullable=False),
    sa.Column("owner", sa.String(128), nullable=False),  # username
    sa.Column("answer_id", sa.String(36), nullable=True, unique=True),
    sa.Column("words", sa.Integer, nullable=False),  # the estimate, in words
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)
