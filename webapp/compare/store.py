"""Comparisons: one prompt to 2-4 bots, their answers side by side, kept like chats.

A comparison is a conversation of kind "comparison" (it has the title, the
History entry, pinning and deletion of any conversation) that groups one
"column" conversation per bot (`parent_id`, `position` left to right). Each
column is an ordinary conversation with its own messages and options, so each
bot gets its own context for follow-ups, and the answers are generated like
any other (`webapp.answers`). Deleting the comparison deletes its columns.

"Continue with this bot" copies a column into a normal chat (the comparison
stays whole); the vote for the best column is kept on the comparison.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from webapp.conversations import context as history
from webapp.conversations.context import (
    KIND_COLUMN,
    KIND_COMPARISON,
    Conversation,
    ConversationOptions,
    Message,
)
from webapp.conversations.store import ConversationNotFound, ConversationStore, Owner
from webapp.db.schema import conversations as C
from webapp.ui.i18n import _

MIN_BOTS: Final = 2
MAX_BOTS: Final = 4
COMPARISON_FORMAT: Final = "ablt-chat-comparison"
COMPARISON_BOT_SLUG: Final = "compare"  # the comparison row's own bot: none in particular


@dataclass(frozen=True, slots=True)
class Comparison:
    """A comparison and its columns, left to right."""

    conversation: Conversation  # kind "comparison": title, times, pin, vote
    columns: list[Conversation]  # kind "column", one per bot

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def voted(self) -> Conversation | None:
        """The column voted best, if any."""
        return next((c for c in self.columns if c.id == self.conversation.voted_id), None)


def comparison_name(bot_names: Sequence[str]) -> str:
    """How a comparison's bots read in a label: "Omni vs Chef vs Coder"."""
    return " vs ".join(bot_names)


class Comparisons:
    """Comparisons in the conversation store's database (owner-checked like it)."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    def create(
        self,
        owner: Owner,
        bots: Sequence[tuple[str, str]],
        options: Sequence[ConversationOptions],
    ) -> Comparison:
        """A new comparison of `bots` ((slug, name) pairs, 2-4, distinct), each
        column with its own options (same order). ValueError otherwise."""
        slugs = [slug for slug, _ in bots]
        if not MIN_BOTS <= len(bots) <= MAX_BOTS:
            raise ValueError(
                _("Compare {min_bots} to {max_bots} bots.").format(
                    min_bots=MIN_BOTS, max_bots=MAX_BOTS
                )
            )
        if len(set(slugs)) != len(slugs):
            raise ValueError(_("Pick each bot once."))
        if len(options) != len(bots):
            raise ValueError(_("Give each bot its options."))
        names = [name or slug for slug, name in bots]
        parent = self._store.create_conversation(
            owner, COMPARISON_BOT_SLUG, comparison_name(names), kind=KIND_COMPARISON
        )
        columns = [
            self._store.create_conversation(
                owner, slug, name, opts, kind=KIND_COLUMN, parent_id=parent.id, position=index
            )
            for index, ((slug, name), opts) in enumerate(zip(bots, options, strict=True))
        ]
        return Comparison(parent, columns)

    def get(self, owner: Owner, comparison_id: str) -> Comparison:
        """One of the owner's comparisons; ConversationNotFound for anything
        else (another member's, a plain chat, a deleted one)."""
        parent = self._store.get_conversation(owner, comparison_id)
        if parent.kind != KIND_COMPARISON:
            raise ConversationNotFound()
        stmt = (
            sa.select(C.c.id)
            .where(C.c.owner == owner.username, C.c.parent_id == comparison_id)
            .order_by(C.c.position, C.c.id)
        )
        with self._store.transaction() as conn:
            ids = list(conn.execute(stmt).scalars())
        return Comparison(parent, [self._store.get_conversation(owner, i) for i in ids])

    def name_after_prompt(self, owner: Owner, comparison_id: str, prompt: str) -> None:
        """Title an untitled comparison after its first prompt, as chats are."""
        comparison = self.get(owner, comparison_id)
        names = comparison_name([c.bot_name or c.bot_slug for c in comparison.columns])
        if comparison.conversation.title in (names, history.DEFAULT_TITLE):
            self._store.rename(owner, comparison_id, history.make_title(prompt))

    def vote(self, owner: Owner, comparison_id: str, column_id: str | None) -> Comparison:
        """Keep `column_id` as the best answer (None: no vote)."""
        comparison = self.get(owner, comparison_id)
        if column_id is not None and column_id not in {c.id for c in comparison.columns}:
            raise ConversationNotFound()
        with self._store.transaction(write=True) as conn:
            conn.execute(
                sa.update(C)
                .where(C.c.id == comparison_id, C.c.owner == owner.username)
                .values(voted_id=column_id)
            )
        return self.get(owner, comparison_id)

    def continue_with(self, owner: Owner, comparison_id: str, column_id: str) -> Conversation:
        """A normal chat with that column's bot, its history and options (a
        copy: the comparison stays whole)."""
        comparison = self.get(owner, comparison_id)
        column = next((c for c in comparison.columns if c.id == column_id), None)
        if column is None:
            raise ConversationNotFound()
        messages = self._store.all_messages(owner, column.id)
        titled = replace(column, title=f"{comparison.conversation.title} · {column.bot_name}")
        return self._store.import_conversation(
            owner, history.parse_import(history.export_dict(titled, messages))
        )

    # ------------------------------------------------------------- exports

    def _columns_with_messages(
        self, owner: Owner, comparison: Comparison
    ) -> list[tuple[Conversation, list[Message]]]:
        return [(c, self._store.all_messages(owner, c.id)) for c in comparison.columns]

    def export_markdown(self, owner: Owner, comparison_id: str) -> str:
        """The comparison as Markdown: a header, then each column's transcript
        as its own section."""
        comparison = self.get(owner, comparison_id)
        parent = comparison.conversation
        names = [c.bot_name or c.bot_slug for c in comparison.columns]
        lines = [
            f"# {parent.title}",
            "",
            f"- Compared: {', '.join(names)}",
            f"- Started: {parent.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        ]
        if comparison.voted is not None:
            lines.append(f"- Best answer (vote): {comparison.voted.bot_name}")
        parts = ["\n".join(lines) + "\n"]
        total = len(comparison.columns)
        for index, (column, messages) in enumerate(
            self._columns_with_messages(owner, comparison), start=1
        ):
            section = replace(
                column, title=f"Column {index} of {total}: {column.bot_name or column.bot_slug}"
            )
            parts.append(history.export_markdown(section, messages))
        return "\n---\n\n".join(parts)

    def export_json(self, owner: Owner, comparison_id: str) -> str:
        """The comparison as JSON: its header, the vote, and each column in the
        conversation export format (each can be imported as a chat)."""
        comparison = self.get(owner, comparison_id)
        parent = comparison.conversation
        data: dict[str, Any] = {
            "format": COMPARISON_FORMAT,
            "version": 1,
            "exported_at": datetime.now(UTC).isoformat(),
            "title": parent.title,
            "created_at": parent.created_at.isoformat(),
            "voted_bot_slug": comparison.voted.bot_slug if comparison.voted else None,
            "columns": [
                history.export_dict(column, messages)
                for column, messages in self._columns_with_messages(owner, comparison)
            ],
        }
        return json.dumps(data, ensure_ascii=False, indent=2)
