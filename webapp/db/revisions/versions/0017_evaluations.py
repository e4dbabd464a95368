"""Schema revision 0017: evaluations (what and why: `_apply`)."""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection

from webapp.db.ddl import timestamp_type

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _apply(conn: Connection) -> None:
    """Team evaluation runs (`webapp.evaluations`): named sets of prompts, runs
    of a set against 2-8 bots (prompts and bots copied into the run, so a set
    edited later leaves its runs as they were), one cell per prompt x bot with
    its answer's outcome and figures, the members' blind ratings (one per
    member per answer: the unique constraint makes a replayed click a no-op),
    and read-only share links to a run's report (a snapshot)."""
    ts = timestamp_type(conn)
    conn.exec_driver_sql(
        f"""
        CREATE TABLE eval_sets (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            owner VARCHAR(128) NOT NULL,
            name VARCHAR(200) NOT NULL,
            prompts TEXT NOT NULL,
            created_at {ts} NOT NULL,
            updated_at {ts} NOT NULL
        )
        """
    )
    conn.exec_driver_sql(
        f"""
        CREATE TABLE eval_runs (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            set_id VARCHAR(36) NOT NULL,
            owner VARCHAR(128) NOT NULL,
            owner_user_id INTEGER NOT NULL,
            name VARCHAR(200) NOT NULL,
            prompts TEXT NOT NULL,
            bots TEXT NOT NULL,
            stop_requested BOOLEAN NOT NULL,
            created_at {ts} NOT NULL,
            ended_at {ts}
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_eval_runs_set ON eval_runs (set_id)")
    conn.exec_driver_sql("CREATE INDEX ix_eval_runs_ended ON eval_runs (ended_at)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE eval_cells (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            run_id VARCHAR(36) NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
            prompt_index INTEGER NOT NULL,
            bot_index INTEGER NOT NULL,
            state VARCHAR(16) NOT NULL,
            conversation_id VARCHAR(36),
            answer_id VARCHAR(36),
            text TEXT NOT NULL,
            error TEXT,
            first_words_s FLOAT,
            total_s FLOAT,
            words INTEGER,
            attempts INTEGER NOT NULL,
            started_at {ts},
            ended_at {ts},
            CONSTRAINT uq_eval_cells_place UNIQUE (run_id, prompt_index, bot_index)
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_eval_cells_state ON eval_cells (state)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE eval_ratings (
            id VARCHAR(36) NOT NULL PRIMARY KEY,
            run_id VARCHAR(36) NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
            cell_id VARCHAR(36) NOT NULL REFERENCES eval_cells (id) ON DELETE CASCADE,
            prompt_index INTEGER NOT NULL,
            rater VARCHAR(128) NOT NULL,
            score INTEGER,
            best BOOLEAN NOT NULL,
            created_at {ts} NOT NULL,
            CONSTRAINT uq_eval_ratings_once UNIQUE (cell_id, rater)
        )
        """
    )
    conn.exec_driver_sql("CREATE INDEX ix_eval_ratings_run ON eval_ratings (run_id)")
    conn.exec_driver_sql(
        f"""
        CREATE TABLE eval_shares (
            token VARCHAR(64) NOT NULL PRIMARY KEY,
            run_id VARCHAR(36) NOT NULL,
            owner VARCHAR(128) NOT NULL,
            snapshot TEXT NOT NULL,
            created_at {ts} NOT NULL,
            revoked_at {ts}
        )
        """
    )


def upgrade() -> None:
    """Apply this revision on Alembic's connection (the caller's transaction)."""
    _apply(op.get_bind())
