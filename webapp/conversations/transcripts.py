"""A conversation's files: the Markdown and JSON exports, and the JSON import.

Pure functions over `webapp.conversations.model`'s shapes: `export_markdown` (each
message's Markdown stands alone), `export_dict` / `export_json` (the
versioned format), `export_filename`, and `parse_import`, which turns any
malformed file into a plain `ConversationImportError` and writes nothing.
`webapp.conversations.context` re-exports all of it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from webapp.conversations.model import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    MAX_IMPORT_BYTES,
    TITLE_HARD_LIMIT,
    AnswerStatus,
    Conversation,
    Message,
    Role,
    clean_title,
)
from webapp.conversations.options import ConversationOptions, options_problem
from webapp.render import standalone_markdown
from webapp.text.graphemes import cut_graphemes
from webapp.ui.i18n import N_, _

log = logging.getLogger(__name__)
_WS = re.compile(r"\s+")


# --------------------------------------------------------------------- export


_ROLE_LABELS: Final = {"user": "You", "assistant": "Assistant", "system": "System"}
_STATUS_NOTES: Final = {
    AnswerStatus.STREAMING: "still being written",
    AnswerStatus.STOPPED: "stopped by the user",
    AnswerStatus.INTERRUPTED: "interrupted",
    AnswerStatus.ERROR: "failed",
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


@dataclass(frozen=True, slots=True)
class ExportedVersion:
    """A message kept off the shown path (`webapp.conversations.store.branches`), as exported.

    `key` names it within the file; `parent` is the message before it: a shown
    message (its index in "messages"), another version (its key), or None
    (the conversation's first); `selected`: it comes back with its parent."""

    key: str
    parent: int | str | None
    selected: bool
    message: Message


def _message_dict(msg: Message) -> dict[str, Any]:
    return {
        "role": msg.role,
        "text": msg.text,
        "status": msg.status,
        "error": msg.error,
        "created_at": msg.created_at.isoformat(),
    }


def export_dict(
    conversation: Conversation,
    messages: Sequence[Message],
    versions: Sequence[ExportedVersion] = (),
) -> dict[str, Any]:
    """The versioned JSON export as a plain dict (ids and owner left out).

    `messages` is the shown path; with `versions` (other answers and branches)
    a "versions" list is added, which this app's import restores and older
    readers ignore (the format's version stays 1)."""
    exported: dict[str, Any] = {
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
        "messages": [_message_dict(msg) for msg in messages],
    }
    if versions:
        exported["versions"] = [
            {
                "key": v.key,
                "parent": v.parent,
                "selected": v.selected,
                **_message_dict(v.message),
            }
            for v in versions
        ]
    return exported


def export_json(
    conversation: Conversation,
    messages: Sequence[Message],
    versions: Sequence[ExportedVersion] = (),
) -> str:
    """The JSON export as text, ready for a download button."""
    return json.dumps(export_dict(conversation, messages, versions), ensure_ascii=False, indent=2)


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
    status: AnswerStatus = AnswerStatus.COMPLETE
    error: str | None = Field(default=None, max_length=10_000)
    created_at: datetime

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return _aware(value)


class ImportedVersion(ImportedMessage):
    """One entry of an export's optional "versions" (see `ExportedVersion`)."""

    key: str = Field(min_length=1, max_length=64)
    parent: int | str | None = None
    selected: bool = False


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
    # Added with answer versions; files without it (older exports) have none.
    versions: list[ImportedVersion] = Field(default_factory=list, max_length=200_000)


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
        raise ConversationImportError(_("The file is nested too deeply to be an export.")) from err
    except ValidationError as err:
        raise ConversationImportError(
            _("The export file is invalid: {err}.").format(err=_describe(err))
        ) from err
    except _READ_ERRORS as err:
        raise ConversationImportError(
            _("The file could not be read as an export ({name}).").format(name=type(err).__name__)
        ) from err
    except Exception as err:  # the boundary promise: a plain message, never a crash
        log.warning("Import refused on an unexpected %s", type(err).__name__)
        raise ConversationImportError(_("The file could not be read as an export.")) from err


_PLAIN_VERSION: Final = re.compile(r"-?[A-Za-z0-9.]{1,19}")


def _reject_constant(name: str) -> Any:
    # JSON has no NaN or Infinity; Python's reader accepts them unless told.
    raise ConversationImportError(
        _("The file is not valid JSON ({name} is not a JSON number).").format(name=name)
    )


def _parse_import(raw: str | bytes | Mapping[str, Any]) -> ImportedConversation:
    if isinstance(raw, Mapping):
        data: Any = raw
    else:
        if len(raw) > MAX_IMPORT_BYTES:
            raise ConversationImportError(
                _("The file is too large to import (limit {value} MB).").format(
                    value=MAX_IMPORT_BYTES // (1024 * 1024)
                )
            )
        try:
            text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as err:
            raise ConversationImportError(_("The file is not UTF-8 text.")) from err
        if not text.strip():
            raise ConversationImportError(_("The file is empty."))
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as err:
            raise ConversationImportError(
                _("The file is not valid JSON (line {lineno}, column {colno}: {msg}).").format(
                    lineno=err.lineno, colno=err.colno, msg=err.msg
                )
            ) from err
    if not isinstance(data, Mapping):
        raise ConversationImportError(_("The file is JSON but not an aBLT Chat export."))
    if data.get("format") != EXPORT_FORMAT:
        raise ConversationImportError(
            _(
                "The file is not an aBLT Chat conversation export (expected "
                '"format": "{export_format}").'
            ).format(export_format=EXPORT_FORMAT)
        )
    version = data.get("version")
    if type(version) is not int or version != EXPORT_VERSION:
        # Echoed only when it is a short number or word: the sentence is drawn
        # as Markdown, and the file's text is not ours to draw.
        echo = isinstance(version, int | str) and _PLAIN_VERSION.fullmatch(str(version))
        shown = version if echo else "given"
        raise ConversationImportError(
            _(
                "The export format version {shown!r} is not supported (this app "
                "reads version {export_version})."
            ).format(shown=shown, export_version=EXPORT_VERSION)
        )
    conversation = data.get("conversation")
    if isinstance(conversation, Mapping) and isinstance(conversation.get("options"), Mapping):
        problem = options_problem(conversation["options"])
        if problem:
            raise ConversationImportError(problem)
    parsed = ImportedConversation.model_validate(data)
    _check_storable(parsed)
    keys = [v.key for v in parsed.versions]
    if len(set(keys)) != len(keys):
        raise ConversationImportError(_('Two entries of "versions" have the same "key".'))
    return parsed


def _check_storable(parsed: ImportedConversation) -> None:
    """Text every database can keep: UTF-8 encodable, without NUL (PostgreSQL's rule)."""
    info = parsed.conversation
    texts = [info.title, info.bot_slug, info.bot_name]
    texts += [info.options.language or "", info.options.system_instruction or ""]
    for msg in [*parsed.messages, *parsed.versions]:
        texts += [msg.text, msg.error or ""]
    for text in texts:
        if "\x00" in text:
            raise ConversationImportError(
                _("The file contains a NUL character, which cannot be kept.")
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ConversationImportError(
                _("The file contains text that is not valid Unicode (a lone surrogate).")
            ) from err


# An imported prompt that was never answered here: shown with a Send button,
# never answered by itself (an import has no side effects: nothing is sent or billed).
UNSENT_STATUS: Final = AnswerStatus.INTERRUPTED
UNSENT_NOTE: Final = N_("Imported and not sent: nothing goes to the bot until you send it.")


def is_unsent_prompt(message: Message) -> bool:
    """True for a prompt saved but not to be answered until the member sends it.

    A user message is `complete` once sent; any other status marks one that
    arrived by import (`settle_imported`) and waits for an explicit Send.
    """
    return message.role == "user" and message.status != AnswerStatus.COMPLETE


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
            elif msg.status != AnswerStatus.COMPLETE or msg.error:
                msg = msg.model_copy(update={"status": AnswerStatus.COMPLETE, "error": None})
        elif msg.status == AnswerStatus.STREAMING:
            msg = msg.model_copy(update={"status": AnswerStatus.INTERRUPTED})
        settled.append(msg)
    return settled


def imported_last_activity(parsed: ImportedConversation) -> datetime:
    """When an imported conversation was last active, from the file: its
    `updated_at`, or its latest message, or its `created_at` (whichever is
    latest), so the History dates it as the original, not as the import."""
    times = [parsed.conversation.created_at, *(m.created_at for m in parsed.messages)]
    if parsed.conversation.updated_at is not None:
        times.append(parsed.conversation.updated_at)
    return max(times)
