"""Conversations as data: what one is, and the pure logic the chat page needs.

Everything here is free of I/O and Streamlit so it can be tested directly and
shared by the store (`webapp.store`) and the pages. The store depends on this
module, never the other way round.

- `Conversation`, `Message`, `ConversationOptions` (from `webapp.options`): the
  shapes the store returns.
- `make_title`: a sidebar title from the first prompt.
- `group_conversations`: Pinned / Today / Yesterday / Previous 7 days / Older.
- `export_markdown`, `export_json`, `parse_import`: the export/import formats.
- `build_context`: which stored messages go to the API, under a size cap.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final, Literal, get_args

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from webapp.options import ConversationOptions as ConversationOptions  # re-exported
from webapp.options import options_problem
from webapp.render import standalone_markdown
from webapp.text import cut_graphemes

log = logging.getLogger(__name__)

Role = Literal["user", "assistant", "system"]
Status = Literal["complete", "streaming", "stopped", "interrupted", "error"]

ROLES: Final[frozenset[str]] = frozenset(get_args(Role))
STATUSES: Final[frozenset[str]] = frozenset(get_args(Status))
# Answers worth showing the model again: a finished one, or the part the user
# chose to keep by pressing Stop. Failed and cut-off answers would mislead it.
CONTEXT_STATUSES: Final[frozenset[str]] = frozenset({"complete", "stopped"})

DEFAULT_TITLE: Final = "New conversation"
KIND_CHAT: Final = "chat"
KIND_COMPARISON: Final = "comparison"
KIND_COLUMN: Final = "column"
TITLE_MAX_CHARS: Final = 60
TITLE_HARD_LIMIT: Final = 200  # the column's width; renames are cut to it

EXPORT_FORMAT: Final = "ablt-chat-conversation"
EXPORT_VERSION: Final = 1
MAX_IMPORT_BYTES: Final = 20 * 1024 * 1024  # a pasted novel is fine, a disk image is not

DEFAULT_CONTEXT_MAX_MESSAGES: Final = 40
DEFAULT_CONTEXT_MAX_WORDS: Final = 6000
ENV_CONTEXT_MAX_MESSAGES: Final = "ABLT_CONTEXT_MAX_MESSAGES"
ENV_CONTEXT_MAX_WORDS: Final = "ABLT_CONTEXT_MAX_WORDS"

GROUP_PINNED: Final = "Pinned"
GROUP_TODAY: Final = "Today"
GROUP_YESTERDAY: Final = "Yesterday"
GROUP_WEEK: Final = "Previous 7 days"
GROUP_OLDER: Final = "Older"
GROUP_ORDER: Final = (GROUP_PINNED, GROUP_TODAY, GROUP_YESTERDAY, GROUP_WEEK, GROUP_OLDER)


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
    # (`webapp.options.options_from_stored`): the page shows these notes.
    option_notes: tuple[str, ...] = ()

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
    status: Status
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
        raise ValueError("A title cannot be empty.")
    return cut_graphemes(line, TITLE_HARD_LIMIT)


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


# --------------------------------------------------------------------- export


_ROLE_LABELS: Final = {"user": "You", "assistant": "Assistant", "system": "System"}
_STATUS_NOTES: Final = {
    "streaming": "still being written",
    "stopped": "stopped by the user",
    "interrupted": "interrupted",
    "error": "failed",
}


def _fmt_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# Inside a heading or a list item of the export, only these characters can make
# a link, an image, HTML, emphasis, code, a table or maths out of plain text.
_EXPORT_SPECIAL = re.compile(r"([\\`*_\[\]<>!|~$&])")


def _export_text(text: str) -> str:
    """A name or title as literal Markdown text on one line (readable raw, too)."""
    return _EXPORT_SPECIAL.sub(r"\\\1", _WS.sub(" ", text).strip())


def _code_span(text: str) -> str:
    """`text` as a Markdown code span, or escaped text when it holds a backtick."""
    return f"`{text}`" if "`" not in text and text.strip() == text else _export_text(text)


def export_markdown(conversation: Conversation, messages: Sequence[Message]) -> str:
    """A readable Markdown transcript: title, bot, options, then each message.

    Names and the title are text, escaped (a title renamed to an image or a
    link stays text). Each message's Markdown stands alone
    (`render.standalone_markdown`): a stopped answer that ends inside a code
    fence cannot pull later headings and messages into it.
    """
    opts = conversation.options
    lines = [
        f"# {_export_text(conversation.title)}",
        "",
        f"- Bot: {_export_text(conversation.bot_name or conversation.bot_slug)} "
        f"({_code_span(conversation.bot_slug)})",
        f"- Started: {_fmt_time(conversation.created_at)}",
        f"- Last activity: {_fmt_time(conversation.updated_at)}",
    ]
    if opts.language:
        lines.append(f"- Language: {opts.language}")
    if opts.max_words:
        lines.append(f"- Max words: {opts.max_words}")
    lines.append(f"- Web search: {'on' if opts.use_search else 'off'}")
    if opts.system_instruction:
        quoted = "\n".join(f"  > {line}" for line in opts.system_instruction.splitlines())
        lines.append(f"- System instruction:\n{quoted}")
    for msg in messages:
        heading = f"## {_ROLE_LABELS.get(msg.role, msg.role)} · {_fmt_time(msg.created_at)}"
        note = _STATUS_NOTES.get(msg.status)
        if note:
            heading += f" ({note})"
        lines += ["", heading, "", standalone_markdown(msg.text).rstrip() or "_(empty)_"]
        if msg.error:
            lines += ["", f"> Error: {msg.error}"]
    return "\n".join(lines) + "\n"


def export_dict(conversation: Conversation, messages: Sequence[Message]) -> dict[str, Any]:
    """The versioned JSON export as a plain dict (ids and owner left out)."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "conversation": {
            "title": conversation.title,
            "bot_slug": conversation.bot_slug,
            "bot_name": conversation.bot_name,
            "options": conversation.options.model_dump(),
            "pinned": conversation.pinned,
            "created_at": conversation.created_at.isoformat(),
            "updated_at": conversation.updated_at.isoformat(),
        },
        "messages": [
            {
                "role": msg.role,
                "text": msg.text,
                "status": msg.status,
                "error": msg.error,
                "created_at": msg.created_at.isoformat(),
            }
            for msg in messages
        ],
    }


def export_json(conversation: Conversation, messages: Sequence[Message]) -> str:
    """The JSON export as text, ready for a download button."""
    return json.dumps(export_dict(conversation, messages), ensure_ascii=False, indent=2)


def export_filename(conversation: Conversation, extension: str) -> str:
    """A safe, recognisable file name such as `ablt-chat-trip-to-rome.md`."""
    # Letters with their combining marks (\p{M}) stay whole; the rest is "-".
    slug = regex.sub(r"[^\w\p{M}-]+", "-", conversation.title.lower()).strip("-_")
    return f"ablt-chat-{cut_graphemes(slug, 50) or conversation.id[:8]}.{extension.lstrip('.')}"


# --------------------------------------------------------------------- import


class ConversationImportError(ValueError):
    """An uploaded file is not a usable export; the message says why, plainly."""


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ImportedMessage(BaseModel):
    """One message of an export file."""

    model_config = ConfigDict(extra="ignore")

    role: Role
    text: str = Field(max_length=1_000_000)
    status: Status = "complete"
    error: str | None = Field(default=None, max_length=10_000)
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value)


class ImportedConversationInfo(BaseModel):
    """The conversation header of an export file."""

    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=TITLE_HARD_LIMIT)
    bot_slug: str = Field(min_length=1, max_length=200)
    bot_name: str = Field(default="", max_length=200)
    options: ConversationOptions = Field(default_factory=ConversationOptions)
    pinned: bool = False
    created_at: datetime
    updated_at: datetime | None = None

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _aware(value)

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return clean_title(value)


class ImportedConversation(BaseModel):
    """A validated export file (format version 1), ready for the store."""

    model_config = ConfigDict(extra="ignore")

    format: Literal["ablt-chat-conversation"]
    version: Literal[1]
    conversation: ImportedConversationInfo
    messages: list[ImportedMessage] = Field(max_length=200_000)


def _describe(err: ValidationError) -> str:
    """The first few pydantic errors as `messages[3].role: ...` lines."""
    parts = []
    for item in err.errors()[:3]:
        where = ""
        for loc in item["loc"]:
            where += f"[{loc}]" if isinstance(loc, int) else (f".{loc}" if where else str(loc))
        parts.append(f"{where or 'file'}: {item['msg']}")
    more = len(err.errors()) - len(parts)
    if more > 0:
        parts.append(f"and {more} more problem{'s' if more > 1 else ''}")
    return "; ".join(parts)


# What Python's readers raise on hostile input beyond their own error types:
# nesting deeper than the recursion limit (json, pydantic), integers past
# `sys.get_int_max_str_digits` (ValueError), dates that overflow when moved to
# UTC (OverflowError), text that cannot be encoded (lone surrogates).
_READ_ERRORS = (
    ValidationError,
    ValueError,
    TypeError,
    RecursionError,
    OverflowError,
    UnicodeError,
    KeyError,
    AttributeError,
)


def parse_import(raw: str | bytes | Mapping[str, Any]) -> ImportedConversation:
    """Validate an uploaded export; ConversationImportError says what is wrong.

    Only checks: nothing is written here, so a bad file can change nothing.
    Whatever reading a malformed file raises (deep nesting, huge numbers,
    NaN, wrong types, bad encodings) comes out as ConversationImportError with
    a plain reason; no other exception leaves this function. The limits are
    the app's own (`webapp.limits` via `ConversationOptions`), so a file the
    import accepts is one the app can open.
    """
    try:
        return _parse_import(raw)
    except ConversationImportError:
        raise
    except RecursionError as err:
        raise ConversationImportError("The file is nested too deeply to be an export.") from err
    except ValidationError as err:
        raise ConversationImportError(f"The export file is invalid: {_describe(err)}.") from err
    except _READ_ERRORS as err:
        raise ConversationImportError(
            f"The file could not be read as an export ({type(err).__name__})."
        ) from err
    except Exception as err:  # the boundary promise: a plain message, never a crash
        log.warning("Import refused on an unexpected %s", type(err).__name__)
        raise ConversationImportError("The file could not be read as an export.") from err


def _reject_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's reader accepts them unless told.
    raise ConversationImportError(f"The file is not valid JSON ({name} is not a JSON number).")


def _parse_import(raw: str | bytes | Mapping[str, Any]) -> ImportedConversation:
    if isinstance(raw, Mapping):
        data: Any = raw
    else:
        if len(raw) > MAX_IMPORT_BYTES:
            raise ConversationImportError(
                f"The file is too large to import (limit {MAX_IMPORT_BYTES // (1024 * 1024)} MB)."
            )
        try:
            text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as err:
            raise ConversationImportError("The file is not UTF-8 text.") from err
        if not text.strip():
            raise ConversationImportError("The file is empty.")
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as err:
            raise ConversationImportError(
                f"The file is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})."
            ) from err
    if not isinstance(data, Mapping):
        raise ConversationImportError("The file is JSON but not an aBLT Chat export.")
    if data.get("format") != EXPORT_FORMAT:
        raise ConversationImportError(
            "The file is not an aBLT Chat conversation export "
            f'(expected "format": "{EXPORT_FORMAT}").'
        )
    version = data.get("version")
    if type(version) is not int or version != EXPORT_VERSION:
        shown = version if isinstance(version, int | str) and len(str(version)) < 20 else "given"
        raise ConversationImportError(
            f"The export format version {shown!r} is not supported "
            f"(this app reads version {EXPORT_VERSION})."
        )
    conversation = data.get("conversation")
    if isinstance(conversation, Mapping) and isinstance(conversation.get("options"), Mapping):
        problem = options_problem(conversation["options"])
        if problem:
            raise ConversationImportError(problem)
    parsed = ImportedConversation.model_validate(data)
    _check_storable(parsed)
    return parsed


def _check_storable(parsed: ImportedConversation) -> None:
    """Text every database can keep: UTF-8 encodable, without NUL (PostgreSQL's rule)."""
    info = parsed.conversation
    texts = [info.title, info.bot_slug, info.bot_name]
    texts += [info.options.language or "", info.options.system_instruction or ""]
    for msg in parsed.messages:
        texts += [msg.text, msg.error or ""]
    for text in texts:
        if "\x00" in text:
            raise ConversationImportError(
                "The file contains a NUL character, which cannot be kept."
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ConversationImportError(
                "The file contains text that is not valid Unicode (a lone surrogate)."
            ) from err


# An imported prompt that was never answered here: shown with a Send button,
# never answered by itself (an import has no side effects: nothing is sent or billed).
UNSENT_STATUS: Final[Status] = "interrupted"
UNSENT_NOTE: Final = "Imported and not sent: nothing goes to the bot until you send it."


def is_unsent_prompt(message: Message) -> bool:
    """True for a prompt saved but not to be answered until the member sends it.

    A user message is `complete` once sent; any other status marks one that
    arrived by import (`settle_imported`) and waits for an explicit Send.
    """
    return message.role == "user" and message.status != "complete"


def settle_imported(messages: Sequence[ImportedMessage]) -> list[ImportedMessage]:
    """The imported messages as they are to be stored.

    - An answer that was still streaming when exported is `interrupted`.
    - Prompts are `complete`, except a last prompt with no answer after it: it
      is marked unsent (`UNSENT_STATUS`, `UNSENT_NOTE`) so opening the
      conversation never sends it by itself.
    - System messages stay system messages (shown as such, sent as
      instructions once the member sends a prompt).
    """
    settled = []
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    unanswered = last_user is not None and all(
        m.role != "assistant" for m in messages[last_user + 1 :]
    )
    for index, msg in enumerate(messages):
        if msg.role == "user":
            if unanswered and index == last_user:
                msg = msg.model_copy(update={"status": UNSENT_STATUS, "error": UNSENT_NOTE})
            elif msg.status != "complete" or msg.error:
                msg = msg.model_copy(update={"status": "complete", "error": None})
        elif msg.status == "streaming":
            msg = msg.model_copy(update={"status": "interrupted"})
        settled.append(msg)
    return settled


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
        raise ValueError(f"{name} must be a whole number, got {raw!r}.") from None
    if value < 0:
        raise ValueError(f"{name} must be 0 (no cap) or more, got {value}.")
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
        raise ValueError("The last message must be the new user prompt.")
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
