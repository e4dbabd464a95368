"""Conversations as data: what one is, and the pure logic the chat page needs.

Everything here is free of I/O and Streamlit so it can be tested directly and
shared by the store (`webapp.conversations.store`) and the pages. The store depends on this
module, never the other way round.

- `Conversation`, `Message`, `make_title` (from `webapp.conversations.model`) and
  `ConversationOptions` (from `webapp.conversations.options`): the shapes the store returns.
- `group_conversations`: Pinned / Today / Yesterday / Previous 7 days / Older.
- `export_markdown`, `export_json`, `parse_import` (from `webapp.conversations.transcripts`):
  the export/import formats.
- `build_context`: which stored messages go to the API, under a size cap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final

from webapp.conversations.model import CONTEXT_STATUSES as CONTEXT_STATUSES
from webapp.conversations.model import DEFAULT_TITLE as DEFAULT_TITLE
from webapp.conversations.model import EXPORT_FORMAT as EXPORT_FORMAT
from webapp.conversations.model import EXPORT_VERSION as EXPORT_VERSION
from webapp.conversations.model import KIND_CHAT as KIND_CHAT
from webapp.conversations.model import KIND_COLUMN as KIND_COLUMN
from webapp.conversations.model import KIND_COMPARISON as KIND_COMPARISON
from webapp.conversations.model import KIND_EVALUATION as KIND_EVALUATION
from webapp.conversations.model import MAX_IMPORT_BYTES as MAX_IMPORT_BYTES
from webapp.conversations.model import RETRYABLE_STATUSES as RETRYABLE_STATUSES
from webapp.conversations.model import ROLES as ROLES
from webapp.conversations.model import STATUSES as STATUSES
from webapp.conversations.model import TITLE_HARD_LIMIT as TITLE_HARD_LIMIT
from webapp.conversations.model import TITLE_MAX_CHARS as TITLE_MAX_CHARS
from webapp.conversations.model import AnswerStatus as AnswerStatus
from webapp.conversations.model import Conversation as Conversation
from webapp.conversations.model import Message as Message
from webapp.conversations.model import Role as Role
from webapp.conversations.model import clean_title as clean_title
from webapp.conversations.model import make_title as make_title
from webapp.conversations.options import ConversationOptions as ConversationOptions  # re-exported
from webapp.conversations.transcripts import UNSENT_NOTE as UNSENT_NOTE
from webapp.conversations.transcripts import UNSENT_STATUS as UNSENT_STATUS
from webapp.conversations.transcripts import ConversationImportError as ConversationImportError
from webapp.conversations.transcripts import ImportedConversation as ImportedConversation
from webapp.conversations.transcripts import ImportedConversationInfo as ImportedConversationInfo
from webapp.conversations.transcripts import ImportedMessage as ImportedMessage
from webapp.conversations.transcripts import export_dict as export_dict
from webapp.conversations.transcripts import export_filename as export_filename
from webapp.conversations.transcripts import export_json as export_json
from webapp.conversations.transcripts import export_markdown as export_markdown
from webapp.conversations.transcripts import is_unsent_prompt as is_unsent_prompt
from webapp.conversations.transcripts import parse_import as parse_import
from webapp.conversations.transcripts import settle_imported as settle_imported
from webapp.ui.i18n import N_, _

log = logging.getLogger(__name__)

DEFAULT_CONTEXT_MAX_MESSAGES: Final = 40
DEFAULT_CONTEXT_MAX_WORDS: Final = 6000
ENV_CONTEXT_MAX_MESSAGES: Final = "ABLT_CONTEXT_MAX_MESSAGES"
ENV_CONTEXT_MAX_WORDS: Final = "ABLT_CONTEXT_MAX_WORDS"

GROUP_PINNED: Final = N_("Pinned")
GROUP_TODAY: Final = N_("Today")
GROUP_YESTERDAY: Final = N_("Yesterday")
GROUP_WEEK: Final = N_("Previous 7 days")
GROUP_OLDER: Final = N_("Older")
GROUP_ORDER: Final = (GROUP_PINNED, GROUP_TODAY, GROUP_YESTERDAY, GROUP_WEEK, GROUP_OLDER)


# ------------------------------------------------------------------- grouping


def group_conversations(
    conversations: Iterable[Conversation],
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> list[tuple[str, list[Conversation]]]:
    """Sidebar sections in display order, empty ones left out.

    Days are counted in the member's time zone (`tz`, else `now`'s own, else
    the server's): a chat at 23:30 is "Yesterday" the next morning only where
    the member lives. Each section is newest first.
    """
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    local_now = now.astimezone(tz) if tz is not None else now
    zone = local_now.tzinfo
    today = local_now.date()
    yesterday = today - timedelta(days=1)
    week_start = today - timedelta(days=7)

    groups: dict[str, list[Conversation]] = {name: [] for name in GROUP_ORDER}
    for conv in conversations:
        if conv.pinned:
            groups[GROUP_PINNED].append(conv)
            continue
        day = conv.updated_at.astimezone(zone).date()
        if day >= today:  # a clock a little ahead still counts as today
            groups[GROUP_TODAY].append(conv)
        elif day == yesterday:
            groups[GROUP_YESTERDAY].append(conv)
        elif day >= week_start:
            groups[GROUP_WEEK].append(conv)
        else:
            groups[GROUP_OLDER].append(conv)
    return [
        (name, sorted(items, key=lambda c: c.updated_at, reverse=True))
        for name, items in groups.items()
        if items
    ]


# -------------------------------------------------------------------- context


@dataclass(frozen=True, slots=True)
class ContextLimits:
    """How much history goes to the API; None means no cap on that measure."""

    max_messages: int | None = DEFAULT_CONTEXT_MAX_MESSAGES
    max_words: int | None = DEFAULT_CONTEXT_MAX_WORDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ContextLimits:
        """Read `ABLT_CONTEXT_MAX_MESSAGES` / `ABLT_CONTEXT_MAX_WORDS`; 0 = no cap."""
        env = os.environ if environ is None else environ
        return cls(
            max_messages=_env_cap(env, ENV_CONTEXT_MAX_MESSAGES, DEFAULT_CONTEXT_MAX_MESSAGES),
            max_words=_env_cap(env, ENV_CONTEXT_MAX_WORDS, DEFAULT_CONTEXT_MAX_WORDS),
        )


def _env_cap(env: Mapping[str, str], name: str, default: int) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(
            _("{name} must be a whole number, got {raw!r}.").format(name=name, raw=raw)
        ) from None
    if value < 0:
        raise ValueError(
            _("{name} must be 0 (no cap) or more, got {value}.").format(name=name, value=value)
        )
    return value or None


@dataclass(frozen=True, slots=True)
class ContextWindow:
    """What to send: API-shaped messages, plus what was left out and why.

    `omitted` counts earlier messages dropped to fit the cap (the page says
    so); `skipped` counts failed or cut-off turns that are never sent.
    """

    messages: list[dict[str, str]] = field(default_factory=list)
    omitted: int = 0
    skipped: int = 0


def word_count(text: str) -> int:
    """Whitespace-separated words: a cheap, model-agnostic size measure."""
    return len(text.split())


def build_context(
    messages: Sequence[Message],
    *,
    system_instruction: str | None = None,
    limits: ContextLimits | None = None,
) -> ContextWindow:
    """Pick the history to send with the new prompt, newest first, under a cap.

    `messages` is the conversation oldest first and must end with the new user
    prompt (the page saves it before sending). The result starts with the
    system instruction (and any stored system messages), keeps only answered
    turns whose answer is `complete` or `stopped`, and always ends with the
    prompt, even when the prompt alone exceeds the cap. An assistant message
    leads the history only as the conversation's opening (the bot's welcome,
    when everything fits); one whose prompt was cut off by the cap is dropped.
    """
    if not messages or messages[-1].role != "user":
        raise ValueError(_("The last message must be the new user prompt."))
    limits = limits or ContextLimits()
    prompt = messages[-1]

    system_texts = [system_instruction] if system_instruction and system_instruction.strip() else []
    turns: list[Message] = []
    skipped = 0
    for msg in messages[:-1]:
        if msg.role == "system":
            if msg.text.strip():
                system_texts.append(msg.text)
            continue
        if msg.role == "assistant":
            usable = msg.status in CONTEXT_STATUSES and bool(msg.text.strip())
            # Kept after its prompt, or as the opening (the bot's welcome, which
            # the user read and may reply to) before any prompt at all.
            opening = all(t.role == "assistant" for t in turns)
            if usable and (opening or turns[-1].role == "user"):
                turns.append(msg)
            else:
                skipped += 1
            continue
        # A user message: an earlier prompt left unanswered (its answer failed)
        # is dropped, so the history alternates user/assistant.
        if turns and turns[-1].role == "user":
            turns.pop()
            skipped += 1
        turns.append(msg)
    if turns and turns[-1].role == "user":
        turns.pop()
        skipped += 1

    budget_msgs = None if limits.max_messages is None else max(limits.max_messages - 1, 0)
    words = sum(word_count(t) for t in system_texts) + word_count(prompt.text)
    kept: list[Message] = []
    for msg in reversed(turns):
        if budget_msgs is not None and len(kept) >= budget_msgs:
            break
        cost = word_count(msg.text)
        if limits.max_words is not None and words + cost > limits.max_words:
            break
        kept.append(msg)
        words += cost
    kept.reverse()
    while kept and kept[0].role == "assistant" and len(kept) < len(turns):
        kept.pop(0)  # its prompt did not fit: an answer to nothing would confuse the model

    out = [{"role": "system", "content": text} for text in system_texts]
    out += [{"role": m.role, "content": m.text} for m in kept]
    out.append({"role": "user", "content": prompt.text})
    return ContextWindow(messages=out, omitted=len(turns) - len(kept), skipped=skipped)
