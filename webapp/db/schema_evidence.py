"""Tables of the evidence for choosing a bot: feedback, the arena, evaluation runs."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.db.schema_base import UTCDateTime, metadata

# Feedback on answers (v16): one row per member per answer version (message
# id), changeable; the bot copied in so aggregates outlive the conversation.
answer_feedback = sa.Table(
    "answer_feedback",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("conversation_id", sa.String(36), nullable=False),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("bot_slug", sa.String(200), nullable=False),
    sa.Column("bot_name", sa.String(200), nullable=False),
    sa.Column("thumbs_up", sa.Boolean, nullable=False),
    sa.Column("reasons", sa.Text, nullable=False),  # JSON list of reason tags
    sa.Column("comment", sa.Text, nullable=False),  # free text ('' for none)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("message_id", "username", name="uq_answer_feedback_member"),
)

# The blind arena (v16): a member's battle of two bots, its answer
# conversations (kind "column" under a conversation of kind "arena").
arena_battles = sa.Table(
    "arena_battles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("owner_user_id", sa.Integer, nullable=False),
    sa.Column("conversation_id", sa.String(36), nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("bot_a_slug", sa.String(200), nullable=False),
    sa.Column("bot_a_name", sa.String(200), nullable=False),
    sa.Column("bot_b_slug", sa.String(200), nullable=False),
    sa.Column("bot_b_name", sa.String(200), nullable=False),
    sa.Column("column_a_id", sa.String(36), nullable=False),
    sa.Column("column_b_id", sa.String(36), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# One vote per battle per voter (UNIQUE: a replayed click cannot vote twice):
# outcome "a" | "b" | "tie" | "bad"; the bots copied in for the leaderboard.
arena_votes = sa.Table(
    "arena_votes",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("battle_id", sa.String(36), nullable=False),
    sa.Column("voter", sa.String(128), nullable=False),
    sa.Column("voter_user_id", sa.Integer, nullable=False),
    sa.Column("bot_a_slug", sa.String(200), nullable=False),
    sa.Column("bot_a_name", sa.String(200), nullable=False),
    sa.Column("bot_b_slug", sa.String(200), nullable=False),
    sa.Column("bot_b_name", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(8), nullable=False),
    sa.Column("voted_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("battle_id", "voter", name="uq_arena_votes_voter"),
)

# Evaluation runs (v17, `webapp.evaluations`). A set: its prompts as a JSON list.
eval_sets = sa.Table(
    "eval_sets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prompts", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# A run: the set's prompts and the bots with their options (JSON) as they were.
eval_runs = sa.Table(
    "eval_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("set_id", sa.String(36), nullable=False),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("owner_user_id", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prompts", sa.Text, nullable=False),
    sa.Column("bots", sa.Text, nullable=False),
    sa.Column("stop_requested", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime, nullable=True),  # NULL: still running
)

# One answer of a run: prompt x bot. state: pending | running | done | failed | cancelled
# | refused (its owner may no longer use the bot).
eval_cells = sa.Table(
    "eval_cells",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("eval_runs.id", ondelete="CASCADE")),
    sa.Column("prompt_index", sa.Integer, nullable=False),
    sa.Column("bot_index", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("conversation_id", sa.String(36), nullable=True),
    sa.Column("answer_id", sa.String(36), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("first_words_s", sa.Float, nullable=True),
    sa.Column("total_s", sa.Float, nullable=True),
    sa.Column("words", sa.Integer, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=True),
    sa.UniqueConstraint("run_id", "prompt_index", "bot_index", name="uq_eval_cells_place"),
)

# A member's blind rating of one answer: score 1-5 (NULL: not scored) and
# whether they picked it best of its prompt's set. Once per member per answer.
eval_ratings = sa.Table(
    "eval_ratings",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("run_id", sa.String(36), sa.ForeignKey("eval_runs.id", ondelete="CASCADE")),
    sa.Column("cell_id", sa.String(36), sa.ForeignKey("eval_cells.id", ondelete="CASCADE")),
    sa.Column("prompt_index", sa.Integer, nullable=False),
    sa.Column("rater", sa.String(128), nullable=False),
    sa.Column("score", sa.Integer, nullable=True),
    sa.Column("best", sa.Boolean, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("cell_id", "rater", name="uq_eval_ratings_once"),
)

# A read-only link to a run's report: the report as it was when shared (JSON).
eval_shares = sa.Table(
    "eval_shares",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("owner", sa.String(128), nullable=False),
    sa.Column("snapshot", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)
