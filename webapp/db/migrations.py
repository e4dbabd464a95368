"""The versioned migrations that build the conversation store's tables.

`MIGRATIONS` is an ordered list; migration N takes a database at version N-1
to version N. Each one spells out its own DDL instead of reading the current
table definitions (`webapp.db.schema`), so it stays exactly what it was when
released and an old database file upgrades the same way years later.
`upgrade()` runs the missing ones in one transaction under a lock (PostgreSQL
advisory lock, SQLite write lock), so two processes starting at once neither
race nor double-apply.

To change the schema: append a migration, bump nothing else, and update the
current `Table` objects in `webapp.db.schema` to match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.db.schema import schema_version


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


def _v12_budget_holds(conn: Connection) -> None:
    """Budget holds: what an answer admitted but not yet finished reserves of
    its member's monthly budget (see `webapp.budgets.holds`), so parallel
    sends cannot all pass one check. `ticket` groups the holds of one
    admission; `answer_id` is NULL until an answer is started with it."""
    ts = _ts(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE budget_holds (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            ticket VARCHAR(36) NOT NULL,
            owner VARCHAR(128) NOT NULL,
            answer_id VARCHAR(36) UNIQUE,
            words INTEGER NOT NULL,
            created_at {ts} NOT NULL,
            expires_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_budget_holds_owner ON budget_holds (owner)")
    conn.exec_driver_sql("CREATE INDEX ix_budget_holds_ticket ON budget_holds (ticket)")


def _v18_folders_tags_archive(conn: Connection) -> None:
    """Organising (issue 26): a member's `folders` (one level of nesting under
    another folder: `parent_id`), `conversation_tags` (any number per
    conversation, kept with its owner for the member's tag list), and on
    `conversations` its `folder_id` (NULL: no folder), `archived_at` (NULL:
    in History) and `temporary` (a temporary chat: never listed, deleted
    when its session leaves it)."""
    ts = _ts(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE folders (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            parent_id VARCHAR(36) REFERENCES folders (id) ON DELETE CASCADE,
            name VARCHAR(80) NOT NULL,
            created_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_folders_owner ON folders (owner)")
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN folder_id VARCHAR(36) "
        "REFERENCES folders (id) ON DELETE SET NULL"
    )
    conn.exec_driver_sql(f"ALTER TABLE conversations ADD COLUMN archived_at {ts}")
    conn.exec_driver_sql(
        "ALTER TABLE conversations ADD COLUMN temporary BOOLEAN NOT NULL DEFAULT FALSE"
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversations_owner_folder ON conversations (owner, folder_id)"
    )
    conn.exec_driver_sql(
        """
        CREATE TABLE conversation_tags (
            conversation_id VARCHAR(36) NOT NULL
                REFERENCES conversations (id) ON DELETE CASCADE,
            owner VARCHAR(128) NOT NULL,
            tag VARCHAR(40) NOT NULL,
            PRIMARY KEY (conversation_id, tag)
        )
        """
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_conversation_tags_owner_tag ON conversation_tags (owner, tag)"
    )


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
    _v12_budget_holds,  # answers in flight hold their estimate of the budget (issue 28)
    _v18_folders_tags_archive,  # folders, tags, archive, temporary chats (issue 26)
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
