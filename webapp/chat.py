"""Chat logic: the conversation model and talking to the API, without widgets.

The page (`pages/chat.py`) holds one `Conversation` in session state and calls
these functions; they call the client. Everything here is plain data and can
be serialised with `to_dict`/`from_dict`, so a store can back it later.

Decisions worth knowing:
- A new conversation opens with the bot's welcome message as its first
  assistant message, and that message is sent as context like any other
  answer: the user read it and may reply to it ("yes, the second one").
- Context: the system instruction first (when set), then the user's prompts
  and the answers that are `complete` or `stopped` (the part the user chose to
  keep). Failed and cut-off answers are left out: they would mislead the bot.
- Only options that are set reach the API (no language -> no `language`).
- The answer is written into the conversation piece by piece as it streams,
  so a rerun, a click or a Stop never loses the prompt or the part received.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ablt_core import AbltError, StreamInterruptedError
from webapp.errors import describe

if TYPE_CHECKING:
    from ablt_core import AbltClient, Bot

log = logging.getLogger(__name__)

COMPLETE = "complete"
STREAMING = "streaming"
STOPPED = "stopped"
INTERRUPTED = "interrupted"
ERROR = "error"
STATUSES = (COMPLETE, STREAMING, STOPPED, INTERRUPTED, ERROR)
CONTEXT_STATUSES = frozenset({COMPLETE, STOPPED})
RETRYABLE_STATUSES = frozenset({ERROR, INTERRUPTED})

# The API's own advice on answer length (see ablt-api.md).
MAX_WORDS_CUT_BELOW = 100
MAX_WORDS_SLOW_ABOVE = 2000
COMMON_LANGUAGES = (
    "English",
    "Spanish",
    "French",
    "German",
    "Italian",
    "Portuguese",
    "Dutch",
    "Polish",
    "Ukrainian",
    "Russian",
    "Turkish",
    "Arabic",
    "Hindi",
    "Chinese",
    "Japanese",
    "Korean",
)

UNEXPECTED_ERROR = "Something went wrong while getting the answer. Try again."


@dataclass
class ChatMessage:
    role: str  # "user" | "assistant"
    text: str
    status: str = COMPLETE
    error: str | None = None  # the plain-words message when status is error/interrupted

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatMessage:
        return cls(
            role=str(data["role"]),
            text=str(data.get("text") or ""),
            status=str(data.get("status") or COMPLETE),
            error=data.get("error"),
        )


@dataclass
class ChatOptions:
    language: str | None = None
    max_words: int | None = None
    use_search: bool = False
    system_instruction: str | None = None

    def api_options(self) -> dict[str, Any]:
        """The chat() keyword arguments for the options that are set, and only those."""
        options: dict[str, Any] = {}
        if self.language and self.language.strip():
            options["language"] = self.language.strip()
        if self.max_words is not None:
            options["max_words"] = int(self.max_words)
        if self.use_search:
            options["use_search"] = True
        return options

    def advice(self) -> list[str]:
        """The API's advice for these options, in plain words (empty when all is well)."""
        notes = []
        if self.max_words is not None and self.max_words < MAX_WORDS_CUT_BELOW:
            notes.append(
                f"Under {MAX_WORDS_CUT_BELOW} words, answers often get cut off mid-sentence."
            )
        if self.max_words is not None and self.max_words > MAX_WORDS_SLOW_ABOVE:
            notes.append(
                f"Over {MAX_WORDS_SLOW_ABOVE} words, regular models may time out before "
                "the answer is done."
            )
        if self.use_search and self.max_words is not None and self.max_words < 100:
            notes.append("Web search needs room: use it with at least 100 words.")
        return notes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatOptions:
        max_words = data.get("max_words")
        return cls(
            language=data.get("language") or None,
            max_words=int(max_words) if max_words is not None else None,
            use_search=bool(data.get("use_search", False)),
            system_instruction=data.get("system_instruction") or None,
        )


@dataclass
class Conversation:
    bot_slug: str
    messages: list[ChatMessage] = field(default_factory=list)
    options: ChatOptions = field(default_factory=ChatOptions)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "bot_slug": self.bot_slug,
            "options": self.options.to_dict(),
            "messages": [m.to_dict() for m in self.messages],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        return cls(
            id=str(data.get("id") or uuid.uuid4().hex),
            bot_slug=str(data["bot_slug"]),
            options=ChatOptions.from_dict(data.get("options") or {}),
            messages=[ChatMessage.from_dict(m) for m in data.get("messages") or []],
        )

    @property
    def last(self) -> ChatMessage | None:
        return self.messages[-1] if self.messages else None


def welcome_text(bot: Bot) -> str:
    """The welcome message with the API's `\\r\\n` line ends made plain."""
    text = bot.welcome_message or ""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def new_conversation(bot: Bot, options: ChatOptions | None = None) -> Conversation:
    """A fresh conversation that opens with the bot's welcome message."""
    conversation = Conversation(bot_slug=bot.slug, options=options or ChatOptions())
    welcome = welcome_text(bot)
    if welcome:
        conversation.messages.append(ChatMessage(role="assistant", text=welcome))
    return conversation


def clear_conversation(conversation: Conversation, bot: Bot) -> Conversation:
    """The same bot and options, the messages back to just the welcome."""
    return new_conversation(bot, options=conversation.options)


def add_prompt(conversation: Conversation, prompt: str) -> ChatMessage:
    """Append the user's prompt (before anything is sent, so it is never lost)."""
    text = prompt.strip()
    if not text:
        raise ValueError("An empty message cannot be sent.")
    message = ChatMessage(role="user", text=text)
    conversation.messages.append(message)
    return message


def settle_interrupted(conversation: Conversation) -> None:
    """An answer still marked streaming at the start of a run was stopped mid-way.

    The run that streamed it ended early (the Stop button, or a click that
    reran the page), so nothing more will arrive; what arrived stays.
    """
    for message in conversation.messages:
        if message.status == STREAMING:
            message.status = STOPPED


def api_messages(conversation: Conversation) -> list[dict[str, str]]:
    """The `messages` for the API: system instruction first, the newest prompt last."""
    messages: list[dict[str, str]] = []
    system = conversation.options.system_instruction
    if system and system.strip():
        messages.append({"role": "system", "content": system})
    for message in conversation.messages:
        if message.role == "user":
            messages.append({"role": "user", "content": message.text})
        elif message.status in CONTEXT_STATUSES and message.text:
            messages.append({"role": "assistant", "content": message.text})
    if not messages or messages[-1]["role"] != "user":
        raise ValueError("The conversation has no new prompt to answer.")
    return messages


def awaiting_answer(conversation: Conversation) -> bool:
    """True when the last message is a prompt with no answer yet."""
    last = conversation.last
    return last is not None and last.role == "user"


def can_retry(conversation: Conversation) -> bool:
    last = conversation.last
    return last is not None and last.role == "assistant" and last.status in RETRYABLE_STATUSES


def prepare_retry(conversation: Conversation) -> None:
    """Drop the failed answer so the prompt before it is the one to answer again."""
    if can_retry(conversation):
        conversation.messages.pop()


def stream_answer(
    client: AbltClient, conversation: Conversation, user_id: int | None
) -> Iterator[str]:
    """Ask for an answer to the last prompt and yield its pieces as they arrive.

    Made for `st.write_stream`. The answer is appended to the conversation at
    once and grows with every piece. Errors never escape: they end the answer
    with status `error` (nothing usable arrived or the API refused) or
    `interrupted` (cut off mid-way; the part received stays), with a plain
    message. When the consumer stops early (Stop, a rerun) the answer is
    marked `stopped`.
    """
    messages = api_messages(conversation)
    reply = ChatMessage(role="assistant", text="", status=STREAMING)
    conversation.messages.append(reply)
    try:
        stream = client.chat(
            bot_slug=conversation.bot_slug,
            messages=messages,
            stream=True,
            user_id=user_id,
            **conversation.options.api_options(),
        )
    except AbltError as err:
        _fail(reply, ERROR, describe(err))
        return
    except Exception:
        log.exception("Unexpected error starting a chat")
        _fail(reply, ERROR, UNEXPECTED_ERROR)
        return
    try:
        for piece in stream:
            reply.text += piece
            yield piece
        reply.status = COMPLETE
    except StreamInterruptedError as err:
        reply.text = err.partial_text or reply.text
        _fail(reply, INTERRUPTED, describe(err))
    except AbltError as err:
        _fail(reply, ERROR, describe(err))
    except Exception:
        log.exception("Unexpected error while streaming a chat")
        _fail(reply, ERROR, UNEXPECTED_ERROR)
    finally:
        if reply.status == STREAMING:  # the consumer stopped reading: a Stop
            reply.status = STOPPED
        stream.close()


def _fail(reply: ChatMessage, status: str, message: str) -> None:
    reply.status = status
    reply.error = message


def choose_conversation(
    current: Conversation | None,
    requested_slug: str | None,
    new_requested: bool,
    bots: list[Bot],
) -> Conversation:
    """The conversation the chat page shows this run.

    The requested bot (the catalogue or the picker) wins if it still exists,
    then the open conversation's bot, then the first bot. A different bot or
    an explicit request opens a fresh conversation; otherwise it carries on.
    """
    if not bots:
        raise ValueError("There are no bots to chat with.")
    by_slug = {bot.slug: bot for bot in bots}
    if requested_slug in by_slug:
        slug = requested_slug
    elif current is not None and current.bot_slug in by_slug:
        slug = current.bot_slug
    else:
        slug = bots[0].slug
    assert slug is not None
    if new_requested or current is None or current.bot_slug != slug:
        return new_conversation(by_slug[slug])
    return current


def bot_labels(bots: list[Bot]) -> dict[str, str]:
    """slug -> a label for the bot picker, unique even though bot names are not."""
    counts: dict[str, int] = {}
    for bot in bots:
        counts[bot.name] = counts.get(bot.name, 0) + 1
    # The picker tells options apart by their label, so a shared name gets its slug.
    return {
        bot.slug: bot.name if counts[bot.name] == 1 else f"{bot.name} ({bot.slug})" for bot in bots
    }


def display_text(text: str) -> str:
    """Markdown that keeps the text's line breaks (Markdown joins single lines).

    Bots write plain text with single newlines (welcome messages, lists without
    blank lines); a trailing double space makes each a hard break. Lines inside
    code fences are left exactly as they are.
    """
    lines = text.split("\n")
    in_code = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if not in_code and line.strip() and index < len(lines) - 1:
            lines[index] = line + "  "
    return "\n".join(lines)
