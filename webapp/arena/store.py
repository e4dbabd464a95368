"""Arena battles and votes in the database (`arena_battles`, `arena_votes`).

A battle is a conversation of kind "arena" (never listed in the History: its
bots are blind) grouping two "column" conversations, one per bot, as a
comparison does (`webapp.compare.store`), so each answer is generated like
any other (`webapp.answers`). The `arena_battles` row says which bot is A and
which is B. A vote is a row of `arena_votes`, UNIQUE per battle and voter: a
second vote (a replayed click, another tab) is refused by the database
itself, and the first one stands. The bots are copied into the vote, so the
leaderboard keeps it whatever happens to the battle's conversations.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.arena.blind import Contender, pair_key
from webapp.arena.ranking import OUTCOMES, Outcome, Vote
from webapp.conversations.model import KIND_ARENA, KIND_COLUMN, Conversation, Message
from webapp.conversations.options import ConversationOptions
from webapp.conversations.store import ConversationNotFound, ConversationStore, Owner
from webapp.db.schema import arena_battles as B
from webapp.db.schema import arena_votes as V
from webapp.ui.i18n import N_, _

ARENA_BOT_SLUG: Final = "arena"  # the battle row's own bot: none in particular
ARENA_TITLE: Final = N_("Arena battle")


class AlreadyVoted(ValueError):
    """This member has voted on this battle already: the first vote stands."""

    def __init__(self) -> None:
        super().__init__("You have voted on this battle already; a vote cannot change.")


class NotFinished(ValueError):
    """Voting before both answers are complete."""

    def __init__(self) -> None:
        super().__init__("Wait until both answers are complete, then vote.")


@dataclass(frozen=True, slots=True)
class Battle:
    """One battle: its bots (A, B), their answer conversations, the prompt,
    and the owner's vote once cast (None before)."""

    id: str
    owner: str
    conversation_id: str
    prompt: str
    bot_a: Contender
    bot_b: Contender
    column_a_id: str
    column_b_id: str
    created_at: datetime
    outcome: Outcome | None = None

    @property
    def bots(self) -> tuple[Contender, Contender]:
        return (self.bot_a, self.bot_b)

    @property
    def columns(self) -> tuple[str, str]:
        return (self.column_a_id, self.column_b_id)

    @property
    def revealed(self) -> bool:
        """Names are shown once the battle has its vote."""
        return self.outcome is not None


@dataclass(frozen=True, slots=True)
class VoteRow:
    """A vote as the leaderboard reads it: who, when, which bots, what."""

    voter: str
    voted_at: datetime
    bot_a: Contender
    bot_b: Contender
    outcome: Outcome

    @property
    def vote(self) -> Vote:
        return Vote(self.bot_a.slug, self.bot_b.slug, self.outcome)


class Arena:
    """Battles and votes, in the conversation store's database."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def create(
        self,
        owner: Owner,
        pair: tuple[Contender, Contender],
        prompt: str,
        options: ConversationOptions | None = None,
    ) -> Battle:
        """A new battle of `pair` (A, B) for `prompt`: its conversations and
        its row. ValueError for a blank prompt or one bot twice."""
        if not prompt.strip():
            raise ValueError(_("An empty message cannot be sent."))
        a, b = pair
        if a.slug == b.slug:
            raise ValueError(_("A battle needs two different bots."))
        parent = self.store.create_conversation(
            owner, ARENA_BOT_SLUG, "", options, ARENA_TITLE, kind=KIND_ARENA
        )
        columns = [
            self.store.create_conversation(
                owner,
                bot.slug,
                bot.name,
                options,
                kind=KIND_COLUMN,
                parent_id=parent.id,
                position=i,
            )
            for i, bot in enumerate(pair)
        ]
        battle_id = str(uuid.uuid4())
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.insert(B).values(
                    id=battle_id,
                    owner=owner.username,
                    owner_user_id=owner.user_id,
                    conversation_id=parent.id,
                    prompt=prompt,
                    bot_a_slug=a.slug,
                    bot_a_name=a.name,
                    bot_b_slug=b.slug,
                    bot_b_name=b.name,
                    column_a_id=columns[0].id,
                    column_b_id=columns[1].id,
                    created_at=self.store.now(),
                )
            )
        return self.get(owner, battle_id)

    def get(self, owner: Owner, battle_id: str) -> Battle:
        """One of the owner's battles, with their vote; ConversationNotFound otherwise."""
        stmt = (
            sa.select(B, V.c.outcome)
            .select_from(B.outerjoin(V, sa.and_(V.c.battle_id == B.c.id, V.c.voter == B.c.owner)))
            .where(B.c.id == battle_id, B.c.owner == owner.username)
        )
        with self.store.transaction() as conn:
            row = conn.execute(stmt).mappings().first()
        if row is None:
            raise ConversationNotFound()
        return _battle(row)

    def recent(self, owner: Owner, limit: int = 15) -> list[Battle]:
        """The owner's latest battles, newest first."""
        stmt = (
            sa.select(B, V.c.outcome)
            .select_from(B.outerjoin(V, sa.and_(V.c.battle_id == B.c.id, V.c.voter == B.c.owner)))
            .where(B.c.owner == owner.username)
            .order_by(B.c.created_at.desc(), B.c.id)
            .limit(limit)
        )
        with self.store.transaction() as conn:
            return [_battle(r) for r in conn.execute(stmt).mappings()]

    def answers(self, owner: Owner, battle: Battle) -> tuple[Message | None, Message | None]:
        """The latest answer of A and of B (None before it exists)."""
        found: list[Message | None] = []
        for column in battle.columns:
            page = self.store.messages(owner, column, limit=1).messages
            last = page[-1] if page else None
            found.append(last if last is not None and last.role == "assistant" else None)
        return found[0], found[1]

    def vote(self, owner: Owner, battle_id: str, outcome: str, *, complete: bool) -> Battle:
        """Record the owner's vote on their battle. ValueError for an unknown
        outcome; `NotFinished` unless `complete` (both answers complete: the
        caller asks `webapp.arena.run.both_complete`); `AlreadyVoted` for a
        second vote (the UNIQUE constraint decides, across processes)."""
        if outcome not in OUTCOMES:
            raise ValueError(_("Unknown vote."))
        battle = self.get(owner, battle_id)
        if battle.revealed:
            raise AlreadyVoted()
        if not complete:
            raise NotFinished()
        try:
            with self.store.transaction(write=True) as conn:
                conn.execute(
                    sa.insert(V).values(
                        id=str(uuid.uuid4()),
                        battle_id=battle.id,
                        voter=owner.username,
                        voter_user_id=owner.user_id,
                        bot_a_slug=battle.bot_a.slug,
                        bot_a_name=battle.bot_a.name,
                        bot_b_slug=battle.bot_b.slug,
                        bot_b_name=battle.bot_b.name,
                        outcome=outcome,
                        voted_at=self.store.now(),
                    )
                )
        except IntegrityError as err:
            raise AlreadyVoted() from err
        return self.get(owner, battle_id)

    def pair_battles(self) -> dict[tuple[str, str], int]:
        """How many battles each pair of bots has had, team-wide (`pair_key`)."""
        stmt = sa.select(B.c.bot_a_slug, B.c.bot_b_slug, sa.func.count()).group_by(
            B.c.bot_a_slug, B.c.bot_b_slug
        )
        counts: dict[tuple[str, str], int] = {}
        with self.store.transaction() as conn:
            for a, b, n in conn.execute(stmt):
                key = pair_key(a, b)
                counts[key] = counts.get(key, 0) + int(n)
        return counts

    def votes(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        voters: Sequence[str] | None = None,
    ) -> list[VoteRow]:
        """The team's votes, oldest first: from `since` (inclusive) to `until`
        (exclusive), by `voters` (usernames; None: everyone, removed members
        too)."""
        stmt = sa.select(V).order_by(V.c.voted_at, V.c.id)
        if since is not None:
            stmt = stmt.where(V.c.voted_at >= since)
        if until is not None:
            stmt = stmt.where(V.c.voted_at < until)
        if voters is not None:
            stmt = stmt.where(V.c.voter.in_(list(voters)))
        with self.store.transaction() as conn:
            return [
                VoteRow(
                    voter=r["voter"],
                    voted_at=r["voted_at"],
                    bot_a=Contender(r["bot_a_slug"], r["bot_a_name"]),
                    bot_b=Contender(r["bot_b_slug"], r["bot_b_name"]),
                    outcome=cast(Outcome, r["outcome"]),
                )
                for r in conn.execute(stmt).mappings()
            ]

    def continue_with(self, owner: Owner, battle_id: str, side: int) -> Conversation:
        """A normal chat (not marked imported) with bot A (`side` 0) or B (1),
        holding the battle's prompt and that bot's answer. Only after the vote
        (`NotFinished` before: the names are still hidden)."""
        battle = self.get(owner, battle_id)
        if not battle.revealed:
            raise NotFinished()
        bot, column = battle.bots[side], battle.columns[side]
        source = self.store.get_conversation(owner, column)
        chat = self.store.create_conversation(
            owner, bot.slug, bot.name, source.options, f"Arena · {bot.name}"
        )
        for message in self.store.all_messages(owner, column):
            self.store.append_message(
                owner, chat.id, message.role, message.text, message.status, message.error
            )
        return self.store.get_conversation(owner, chat.id)


def _battle(row: Any) -> Battle:
    return Battle(
        id=row["id"],
        owner=row["owner"],
        conversation_id=row["conversation_id"],
        prompt=row["prompt"],
        bot_a=Contender(row["bot_a_slug"], row["bot_a_name"]),
        bot_b=Contender(row["bot_b_slug"], row["bot_b_name"]),
        column_a_id=row["column_a_id"],
        column_b_id=row["column_b_id"],
        created_at=row["created_at"],
        outcome=row["outcome"],
    )
