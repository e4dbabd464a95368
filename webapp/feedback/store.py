"""Feedback on answers: thumbs up or down, optional reasons and a comment.

One row of `answer_feedback` per member per answer version (each version of
an answer is its own message id, `webapp.chat.versions`), UNIQUE: giving
feedback again changes it, a replayed click cannot make a second row. A
member reads only their own feedback; the aggregates (`webapp.feedback.stats`)
read every row. The bot is copied in when the feedback is given, so the
aggregates keep it whatever happens to the conversation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore, MessageNotFound, Owner
from webapp.db.schema import answer_feedback as F
from webapp.db.schema import conversations as C
from webapp.db.schema import message_versions as MV
from webapp.db.schema import messages as M
from webapp.ui.i18n import N_

# Stored as these English tags; shown translated (`_(reason)`).
REASONS: Final = (N_("wrong"), N_("too long"), N_("off topic"), N_("not in the language asked"))
COMMENT_MAX_CHARS: Final = 2000


@dataclass(frozen=True, slots=True)
class Feedback:
    """One member's feedback on one answer version."""

    message_id: str
    thumbs_up: bool
    reasons: tuple[str, ...] = ()
    comment: str = ""
    username: str = ""
    bot_slug: str = ""
    bot_name: str = ""
    updated_at: datetime | None = field(default=None, compare=False)


def clean_reasons(reasons: Sequence[str]) -> tuple[str, ...]:
    """The known reason tags among `reasons`, in `REASONS` order, each once."""
    return tuple(r for r in REASONS if r in set(reasons))


class FeedbackStore:
    """Feedback rows in the conversation store's database."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def _answer(self, owner: Owner, message_id: str) -> tuple[str, str, str]:
        """(conversation id, bot slug, bot name) of one of the owner's
        complete answers, shown or kept as a version; MessageNotFound else."""
        found = None
        with self.store.transaction() as conn:
            for table in (M, MV):
                stmt = (
                    sa.select(C.c.id, C.c.bot_slug, C.c.bot_name, table.c.role, table.c.status)
                    .join(C, C.c.id == table.c.conversation_id)
                    .where(table.c.id == message_id, C.c.owner == owner.username)
                )
                found = conn.execute(stmt).first()
                if found is not None:
                    break
        if found is None or found.role != "assistant" or found.status == AnswerStatus.STREAMING:
            raise MessageNotFound("That answer no longer exists.")
        return found.id, found.bot_slug, found.bot_name

    def give(
        self,
        owner: Owner,
        message_id: str,
        thumbs_up: bool,
        reasons: Sequence[str] = (),
        comment: str = "",
    ) -> Feedback:
        """Set the owner's feedback on an answer version (a new row, or the
        one they gave before changed). Unknown reasons are dropped, the
        comment is stripped and cut at `COMMENT_MAX_CHARS`. MessageNotFound
        for anything but one of the owner's answers."""
        conversation_id, slug, name = self._answer(owner, message_id)
        values = {
            "thumbs_up": thumbs_up,
            "reasons": json.dumps(list(clean_reasons(reasons))),
            "comment": comment.strip()[:COMMENT_MAX_CHARS],
            "updated_at": self.store.now(),
        }
        key = sa.and_(F.c.message_id == message_id, F.c.username == owner.username)
        row = {
            "id": str(uuid.uuid4()),
            "message_id": message_id,
            "conversation_id": conversation_id,
            "username": owner.username,
            "user_id": owner.user_id,
            "bot_slug": slug,
            "bot_name": name,
            "created_at": values["updated_at"],
            **values,
        }
        try:
            with self.store.transaction(write=True) as conn:
                if conn.execute(sa.update(F).where(key).values(**values)).rowcount == 0:
                    conn.execute(sa.insert(F).values(**row))
        except IntegrityError:  # another tab's row landed first (PostgreSQL): change it
            with self.store.transaction(write=True) as conn:
                conn.execute(sa.update(F).where(key).values(**values))
        found = self.mine(owner, [message_id]).get(message_id)
        if found is None:  # pragma: no cover - written above in this transaction
            raise MessageNotFound()
        return found

    def clear(self, owner: Owner, message_id: str) -> bool:
        """Take back the owner's feedback on that answer; whether there was one."""
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.delete(F).where(F.c.message_id == message_id, F.c.username == owner.username)
            )
            return done.rowcount > 0

    def mine(self, owner: Owner, message_ids: Sequence[str]) -> dict[str, Feedback]:
        """message id -> the owner's own feedback, for those of `message_ids` they gave."""
        if not message_ids:
            return {}
        stmt = sa.select(F).where(
            F.c.username == owner.username, F.c.message_id.in_(list(message_ids))
        )
        with self.store.transaction() as conn:
            return {r["message_id"]: _feedback(r) for r in conn.execute(stmt).mappings()}

    def all(self, since: datetime | None = None, until: datetime | None = None) -> list[Feedback]:
        """Every member's feedback last changed from `since` (inclusive) to
        `until` (exclusive), oldest first: for the aggregates only."""
        stmt = sa.select(F).order_by(F.c.updated_at, F.c.id)
        if since is not None:
            stmt = stmt.where(F.c.updated_at >= since)
        if until is not None:
            stmt = stmt.where(F.c.updated_at < until)
        with self.store.transaction() as conn:
            return [_feedback(r) for r in conn.execute(stmt).mappings()]


def _feedback(row: sa.RowMapping) -> Feedback:
    try:
        reasons = tuple(str(r) for r in json.loads(row["reasons"] or "[]"))
    except (ValueError, TypeError):
        reasons = ()
    return Feedback(
        message_id=row["message_id"],
        thumbs_up=bool(row["thumbs_up"]),
        reasons=reasons,
        comment=row["comment"],
        username=row["username"],
        bot_slug=row["bot_slug"],
        bot_name=row["bot_name"],
        updated_at=row["updated_at"],
    )
