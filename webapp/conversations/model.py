"""What a conversation is: `Conversation`, `Message`, their roles, `AnswerStatus` and titles.

The shapes the store returns and every other module passes around; no logic
but the data's own. `webapp.conversations.context` re-exports all of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, Literal, get_args

from webapp.conversations.options import ConversationOptions
from webapp.text.graphemes import cut_graphemes
from webapp.ui.i18n import N_, _

Role = Literal["user", "assistant", "system"]


class AnswerStatus(StrEnum):
    """Where a message stands; the database stores the value (a plain string).

    A prompt is `COMPLETE` once sent. An answer is `STREAMING` while a worker
    generates it, then `COMPLETE`; `STOPPED` when someone pressed Stop (the part
    received is kept); `INTERRUPTED` when the API, the connection or the process
    generating it failed mid-way; `ERROR` when it failed before any usable text.
    Being a `str`, a member equals its value (`AnswerStatus.COMPLETE == "complete"`).
    """

    COMPLETE = "complete"
    STREAMING = "streaming"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    ERROR = "error"


ROLES: Final[frozenset[str]] = frozenset(get_args(Role))
STATUSES: Final[frozenset[AnswerStatus]] = frozenset(AnswerStatus)
# Answers worth showing the model again: a finished one, or the part the user
# chose to keep by pressing Stop. Failed and cut-off answers would mislead it.
CONTEXT_STATUSES: Final[frozenset[AnswerStatus]] = frozenset(
    {AnswerStatus.COMPLETE, AnswerStatus.STOPPED}
)
# Answers that offer Retry: they failed, or were cut off before they finished.
RETRYABLE_STATUSES: Final[frozenset[AnswerStatus]] = frozenset(
    {AnswerStatus.ERROR, AnswerStatus.INTERRUPTED}
)

DEFAULT_TITLE: Final = N_("New conversation")
KIND_CHAT: Final = "chat"
KIND_COMPARISON: Final = "comparison"
KIND_COLUMN: Final = "column"
# A blind arena battle (`webapp.arena`): groups two "column" rows like a
# comparison, but is never listed in the History (names hidden until the vote).
KIND_ARENA: Final = "arena"
# One answer of an evaluation run (`webapp.evaluations`): kept out of the History.
KIND_EVALUATION: Final = "evaluation"
TITLE_MAX_CHARS: Final = 60
TITLE_HARD_LIMIT: Final = 200  # the column's width; renames are cut to it

EXPORT_FORMAT: Final = "ablt-chat-conversation"
EXPORT_VERSION: Final = 1
MAX_IMPORT_BYTES: Final = 20 * 1024 * 1024  # a pasted novel is fine, a disk image is not


# --------------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class Conversation:
    """One member's conversation with one bot, as stored."""

    id: str
    owner: str
    owner_user_id: int
    bot_slug: str
    bot_name: str
    title: str
    options: ConversationOptions
    created_at: datetime
    updated_at: datetime
    pinned: bool = False
    # "chat", "comparison" (a row that groups 2-4 columns, no messages of its
    # own) or "column" (one bot's conversation inside a comparison).
    kind: str = "chat"
    parent_id: str | None = None  # a column's comparison
    position: int = 0  # a column's place, left to right
    voted_id: str | None = None  # a comparison's best column, as voted
    # Stored options that fell outside today's limits, set aside on opening
    # (`webapp.conversations.options.options_from_stored`): the page shows these notes.
    option_notes: tuple[str, ...] = ()
    # When it was imported from an export file (None: made here); its other
    # dates are the file's.
    imported_at: datetime | None = None
    # When its member last opened it (None: not since this was recorded).
    opened_at: datetime | None = None
    # From another app (`webapp.imports`): the import that wrote it, the
    # source ("chatgpt", ...) and the model that answered there.
    import_id: str | None = None
    import_source: str | None = None
    original_model: str | None = None
    # Organising (issue 26): its folder (None: no folder), when it was archived
    # (None: in History), and a temporary chat's mark (never listed; see
    # `webapp.conversations.store.organise`).
    folder_id: str | None = None
    archived_at: datetime | None = None
    temporary: bool = False

    @property
    def is_comparison(self) -> bool:
        return self.kind == KIND_COMPARISON


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a conversation; `seq` orders them from 0."""

    id: str
    conversation_id: str
    seq: int
    role: Role
    text: str
    status: AnswerStatus
    created_at: datetime
    error: str | None = None
    updated_at: datetime | None = None


# ---------------------------------------------------------------------- title


_WS = re.compile(r"\s+")


def make_title(prompt: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    """A one-line sidebar title from a prompt, cut at a word boundary.

    Long prompts end in an ellipsis; a word longer than the limit is cut
    mid-word rather than giving an empty title.
    """
    line = _WS.sub(" ", prompt).strip()
    if not line:
        return DEFAULT_TITLE
    if len(line) <= max_chars:
        return line
    cut = cut_graphemes(line, max_chars - 1)
    space = cut.rfind(" ")
    if space >= max_chars // 3:
        cut = cut[:space]
    return (cut.rstrip(" ,.;:-") or cut_graphemes(line, max_chars - 1)) + "…"


def clean_title(title: str) -> str:
    """A title as the user typed it, made one line; ValueError when blank."""
    line = _WS.sub(" ", title).strip()
    if not line:
        raise ValueError(_("A title cannot be empty."))
    return cut_graphemes(line, TITLE_HARD_LIMIT)
