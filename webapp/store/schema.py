"""Tables and the versioned migrations that build them.

`MIGRATIONS` is an ordered list; migration N takes a database at version N-1
to version N. Each one spells out its own DDL instead of reading the current
table definitions, so it stays exactly what it was when released and an old
database file upgrades the same way years later. `upgrade()` runs the missing
ones in one transaction under a lock (PostgreSQL advisory lock, SQLite write
lock), so two processes starting at once neither race nor double-apply.

To change the schema: append a migration, bump nothing else, and update the
current `Table` objects below to match what the migrations produce.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (naive text) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware times")
        value = value.astimezone(UTC)
        # SQLite keeps text; one fixed format makes text order equal time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class fold(FunctionElement[str]):
    """Case-folding for search: `lower()` on PostgreSQL, a Unicode-aware
    Python function on SQLite (whose own `lower()` only knows ASCII)."""

    type = sa.String()
    inherit_cache = True


SQLITE_FOLD_FUNCTION: Final = "ablt_fold"


@compiles(fold)
def _fold_default(element: fold, compiler: Any, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: Any, **kw: Any) -> str:
    return f"{SQLITE_FOLD_FUNCTION}({compiler.process(element.clauses, **kw)})"


# ------------------------------------------------------------- current schema

metadata = sa.MetaData()

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


# ----------------------------------------------------------------- migrations


def _ts(conn: Connection) -> str:
    """The timestamp column type as this database spells it."""
    return str(sa.DateTime(timezone=True).compile(dialect=conn.dialect))


def _v1_initial(conn: Connection) -> None:
    """Conversations and their messages; (conversation_id, seq) is unique and
    indexed, so loading the latest page of a long conversation is a range scan."""
    ts = _ts(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE conversations (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            owner_user_id INTEGER NOT NULL,
            bot_slug VARCHAR(200) NOT NULL,
            bot_name VARCHAR(200) NOT NULL,
            title VARCHAR(200) NOT NULL,
            options TEXT NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversations_owner_updated ON conversations (owner, updated_at)"
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE messages (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role VARCHAR(16) NOT NULL,
            text TEXT NOT NULL,
            status VARCHAR(16) NOT NULL,
            error TEXT,
            created_at {ts} NOT NULL,
            CONSTRAINT uq_messages_conversation_seq UNIQUE (conversation_id, seq)
        )
        """
    )


def _v2_pinned_and_message_times(conn: Connection) -> None:
    """Pinning, a message `updated_at` (tells a live stream from a dead one),
    and a listing index that serves "pinned first, newest first" per owner."""
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT FALSE"
    )
    conn.exec_driver_sql(f"ALTER TABLE messages ADD COLUMN updated_at {_ts(conn)}")
    conn.exec_driver_sql("UPDATE messages SET updated_at = created_at")
    conn.exec_driver_sql("DROP INDEX ix_conversations_owner_updated")
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversations_owner_pinned_updated "
        "ON conversations (owner, pinned, updated_at)"
    )


def _v6_background_answers(conn: Connection) -> None:
    """Answers generated in the background: which prompt an answer answers, a
    heartbeat that tells a live worker from a dead one, what it is waiting for,
    and the prompts queued behind the answer in progress (type-ahead, two tabs)."""
    ts = _ts(conn)
    conn.exec_driver_sql("ALTER TABLE messages ADD COLUMN reply_to VARCHAR(36)")
    conn.exec_driver_sql(f"ALTER TABLE messages ADD COLUMN heartbeat_at {ts}")
    conn.exec_driver_sql("ALTER TABLE messages ADD COLUMN waiting TEXT")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE queued_prompts (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            text TEXT NOT NULL,
            created_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_queued_prompts_conversation ON queued_prompts (conversation_id, position)"
    )


def _v3_prompt_library_and_shares(conn: Connection) -> None:
    """The prompt library and read-only share links (see the tables above)."""
    ts = _ts(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE prompts (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            name VARCHAR(200) NOT NULL,
            system_instruction TEXT NOT NULL,
            starter_prompt TEXT NOT NULL,
            options TEXT NOT NULL,
            bot_slug VARCHAR(200),
            shared BOOLEAN NOT NULL,
            pinned BOOLEAN NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_prompts_owner ON prompts (owner)")
    conn.exec_driver_sql("CREATE INDEX ix_prompts_shared ON prompts (shared)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE shares (
            token VARCHAR(64) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            title VARCHAR(200) NOT NULL,
            snapshot TEXT NOT NULL,
            message_count INTEGER NOT NULL,
            created_at {ts} NOT NULL,
            revoked_at {ts}
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_shares_owner ON shares (owner, created_at)")


def _v4_logins(conn: Connection) -> None:
    """Login attempts, for throttling across processes and for the audit log:
    who (username as typed), what (event), when, from which address. And
    one-time tickets the browser trades for the HttpOnly login cookie."""
    ident = (
        "INTEGER NOT NULL PRIMARY KEY"
        if conn.dialect.name == "sqlite"
        else "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE login_events (
            id {ident},
            at {_ts(conn)} NOT NULL,
            event VARCHAR(16) NOT NULL,
            username VARCHAR(128),
            address VARCHAR(64),
            actor VARCHAR(128)
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_login_events_username_at ON login_events (username, at)")
    conn.exec_driver_sql("CREATE INDEX ix_login_events_address_at ON login_events (address, at)")
    ts = _ts(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE login_tickets (
            ticket_hash VARCHAR(64) NOT NULL PRIMARY KEY,
            kind VARCHAR(8) NOT NULL,
            username VARCHAR(128),
            expires_at {ts} NOT NULL,
            used_at {ts}
        )
        """
    )


def _v5_comparisons(conn: Connection) -> None:
    """Comparisons: a conversation of kind "comparison" groups one "column"
    conversation per compared bot (`parent_id`, `position`), and keeps the
    vote for the best one (`voted_id`). Plain chats are kind "chat"."""
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN kind VARCHAR(16) NOT NULL DEFAULT 'chat'"
    )
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN parent_id VARCHAR(36) "
        "REFERENCES conversations (id) ON DELETE CASCADE"
    )
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN position INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("ALTER TABLE conversations ADD COLUMN voted_id VARCHAR(36)")
    conn.exec_driver_sql("CREATE INDEX ix_conversations_parent ON conversations (parent_id)")


def _v7_members(conn: Connection) -> None:
    """The team moves into the database: `members` (credentials, role, stable
    user_id, disabled, must-change-password, last login, the time before
    which logins are revoked) and `team_state` (where the team came from)."""
    ts = _ts(conn)
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


def _v8_budgets_and_audit(conn: Connection) -> None:
    """Monthly budgets (a team default and per-member limits, words or tokens)
    and the audit log's rows; messages get an index on `created_at`, so a
    member's usage since the last API figure is a range read."""
    ts = _ts(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE budgets (
            subject VARCHAR(128) NOT NULL PRIMARY KEY,
            monthly_limit BIGINT,
            unit VARCHAR(8) NOT NULL,
            updated_at {ts} NOT NULL,
            updated_by VARCHAR(128)
        )
        """
    )
    ident = (
        "INTEGER NOT NULL PRIMARY KEY"
        if conn.dialect.name == "sqlite"
        else "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE audit_events (
            id {ident},
            at {ts} NOT NULL,
            kind VARCHAR(16) NOT NULL,
            actor VARCHAR(128),
            action VARCHAR(64) NOT NULL,
            target VARCHAR(128),
            detail TEXT NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_audit_events_at ON audit_events (at)")
    conn.exec_driver_sql("CREATE INDEX ix_audit_events_actor_at ON audit_events (actor, at)")
    conn.exec_driver_sql("CREATE INDEX ix_audit_events_target_at ON audit_events (target, at)")
    conn.exec_driver_sql("CREATE INDEX ix_messages_created_at ON messages (created_at)")


def _v9_answer_slots(conn: Connection) -> None:
    """The team's limit on simultaneous answers: slot rows (a waiting line and
    the held slots), the admin's setting with the 429 back-off, and its events."""
    ts = _ts(conn)
    ident = (
        "INTEGER NOT NULL PRIMARY KEY"
        if conn.dialect.name == "sqlite"
        else "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE answer_slots (
            ticket {ident},
            answer_id VARCHAR(36) NOT NULL UNIQUE,
            holder VARCHAR(64) NOT NULL,
            owner VARCHAR(128) NOT NULL,
            slot INTEGER UNIQUE,
            queued_at {ts} NOT NULL,
            started_at {ts},
            heartbeat_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_answer_slots_holder ON answer_slots (holder)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE slot_settings (
            id INTEGER NOT NULL PRIMARY KEY,
            max_answers INTEGER,
            set_by VARCHAR(128),
            set_at {ts},
            backoff_limit INTEGER,
            backoff_from INTEGER,
            backoff_until {ts}
        )
        """
    )
    conn.exec_driver_sql("INSERT INTO slot_settings (id) VALUES (1)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE slot_events (
            id {ident},
            at {ts} NOT NULL,
            kind VARCHAR(16) NOT NULL,
            actor VARCHAR(128),
            limit_before INTEGER,
            limit_after INTEGER,
            detail VARCHAR(200) NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_slot_events_at ON slot_events (at)")


def _v10_message_versions(conn: Connection) -> None:
    """Answer versions and branches (`message_versions`, see the table above):
    a new table only, so existing conversations stay exactly as they were,
    their messages the shown path."""
    ts = _ts(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE message_versions (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            parent_id VARCHAR(36),
            selected BOOLEAN NOT NULL,
            role VARCHAR(16) NOT NULL,
            text TEXT NOT NULL,
            status VARCHAR(16) NOT NULL,
            error TEXT,
            created_at {ts} NOT NULL,
            updated_at {ts},
            reply_to VARCHAR(36)
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_message_versions_conversation_parent "
        "ON message_versions (conversation_id, parent_id)"
    )


def _v11_imported_at(conn: Connection) -> None:
    """An imported conversation says so: `conversations.imported_at`, the
    moment of the import (NULL for conversations made in the app), while its
    `created_at`/`updated_at` and its messages keep the file's dates."""
    conn.exec_driver_sql(f"ALTER TABLE conversations ADD COLUMN imported_at {_ts(conn)}")


Migration = Callable[[Connection], None]
MIGRATIONS: Final[list[Migration]] = [
    _v1_initial,
    _v2_pinned_and_message_times,
    _v3_prompt_library_and_shares,
    _v4_logins,
    _v5_comparisons,
    _v6_background_answers,
    _v7_members,  # the team in the database (issue 9)
    _v8_budgets_and_audit,  # budgets + audit log
    _v9_answer_slots,  # the team's limit on simultaneous answers (slots)
    _v10_message_versions,  # answer versions and branching edits
    _v11_imported_at,  # controls: an imported conversation is marked as imported
]
LATEST_VERSION: Final = len(MIGRATIONS)

# Any constant works; it only has to be the same in every process.
_PG_LOCK_KEY: Final = 0x61B17C4A7


def _lock(conn: Connection) -> None:
    """Serialise migrations across processes for the rest of this transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    # SQLite: the caller's transaction began with BEGIN IMMEDIATE (the write lock).


def current_version(conn: Connection) -> int:
    """The schema version of the database behind `conn`, 0 when empty."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    found = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
    return int(found or 0)


def upgrade(conn: Connection, target: int = LATEST_VERSION) -> int:
    """Bring the database to `target` inside the caller's transaction; returns
    the version it was at. Refuses a database newer than this code."""
    _lock(conn)
    if not sa.inspect(conn).has_table("schema_version"):
        schema_version.create(conn)
    found = current_version(conn)
    if found > LATEST_VERSION:
        raise RuntimeError(
            f"The database schema is version {found}, newer than this app "
            f"understands ({LATEST_VERSION}). Upgrade the app instead."
        )
    for version in range(found + 1, target + 1):
        MIGRATIONS[version - 1](conn)
        conn.execute(schema_version.insert().values(version=version, applied_at=datetime.now(UTC)))
    return found
