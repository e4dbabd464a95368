"""Schema revision 0016: feedback and arena (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Feedback on answers and the blind arena (issue 23).

    `answer_feedback`: one row per member per answer version (a message id:
    every version keeps its own), UNIQUE so a replayed click updates it. The
    bot is copied in, so the aggregates outlive the conversation.
    `arena_battles`: a member's battle of two bots ("Bot A", "Bot B"), its two
    answer conversations. `arena_votes`: the vote, UNIQUE per battle and
    voter, so a replayed widget event cannot vote twice; the bots are copied
    in, so the leaderboard keeps a vote whatever happens to the battle."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE answer_feedback (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            message_id VARCHAR(36) NOT NULL,
            conversation_id VARCHAR(36) NOT NULL,
            username VARCHAR(128) NOT NULL,
            user_id INTEGER NOT NULL,
            bot_slug VARCHAR(200) NOT NULL,
            bot_name VARCHAR(200) NOT NULL,
            thumbs_up BOOLEAN NOT NULL,
            reasons TEXT NOT NULL,
            comment TEXT NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL,
            CONSTRAINT uq_answer_feedback_member UNIQUE (message_id, username)
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_answer_feedback_updated ON answer_feedback (updated_at)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE arena_battles (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            owner_user_id INTEGER NOT NULL,
            conversation_id VARCHAR(36) NOT NULL,
            prompt TEXT NOT NULL,
            bot_a_slug VARCHAR(200) NOT NULL,
            bot_a_name VARCHAR(200) NOT NULL,
            bot_b_slug VARCHAR(200) NOT NULL,
            bot_b_name VARCHAR(200) NOT NULL,
            column_a_id VARCHAR(36) NOT NULL,
            column_b_id VARCHAR(36) NOT NULL,
            created_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_arena_battles_owner ON arena_battles (owner, created_at)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE arena_votes (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            battle_id VARCHAR(36) NOT NULL,
            voter VARCHAR(128) NOT NULL,
            voter_user_id INTEGER NOT NULL,
            bot_a_slug VARCHAR(200) NOT NULL,
            bot_a_name VARCHAR(200) NOT NULL,
            bot_b_slug VARCHAR(200) NOT NULL,
            bot_b_name VARCHAR(200) NOT NULL,
            outcome VARCHAR(8) NOT NULL,
            voted_at {ts} NOT NULL,
            CONSTRAINT uq_arena_votes_voter UNIQUE (battle_id, voter)
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_arena_votes_voted_at ON arena_votes (voted_at)")


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
