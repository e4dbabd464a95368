"""A member's judgements of the bots: their arena votes and their evaluation
ratings.

They feed the team's aggregates (the arena's leaderboard, the evaluation
reports), so they outlive the member by default: erasing a member's data
(`webapp.lifecycle.member_data`) keeps them, and so does removing the member.
On the Team page an admin removing a member may choose to delete them too
(`delete_judgements`, audited); both are in the member's data download.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webapp.audit.log import AuditLog
from webapp.db.schema import arena_votes as V
from webapp.db.schema import eval_ratings as R


@dataclass(frozen=True, slots=True)
class Judgements:
    """How many arena votes and evaluation ratings (one per answer rated) a member has."""

    votes: int
    ratings: int

    def describe(self) -> str:
        """In plain words: "3 arena votes and 1 evaluation rating"."""
        votes = f"{self.votes:,} arena vote{'s' if self.votes != 1 else ''}"
        ratings = f"{self.ratings:,} evaluation rating{'s' if self.ratings != 1 else ''}"
        return f"{votes} and {ratings}"


def count_judgements(engine: Engine, username: str) -> Judgements:
    """`username`'s arena votes and evaluation ratings. Database errors propagate."""
    with engine.connect() as conn:
        votes = conn.execute(
            sa.select(sa.func.count()).select_from(V).where(V.c.voter == username)
        ).scalar_one()
        ratings = conn.execute(
            sa.select(sa.func.count()).select_from(R).where(R.c.rater == username)
        ).scalar_one()
    return Judgements(int(votes), int(ratings))


def delete_judgements(engine: Engine, username: str, actor: str) -> Judgements:
    """Delete `username`'s arena votes and evaluation ratings in one
    transaction (the leaderboard and the reports no longer count them) and
    audit it as done by `actor`; what was deleted. Database errors propagate
    (nothing is deleted then)."""
    with engine.connect() as conn:
        conn.execution_options(ablt_write=True)
        with conn.begin():
            votes = conn.execute(sa.delete(V).where(V.c.voter == username)).rowcount
            ratings = conn.execute(sa.delete(R).where(R.c.rater == username)).rowcount
    done = Judgements(int(votes), int(ratings))
    AuditLog(engine).record_change(
        actor, "delete votes and ratings", username, f"deleted {done.describe()}"
    )
    return done
