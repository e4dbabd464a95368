"""Chat logic: the open conversation, its durable store, and talking to the API.

No widgets here; `views/chat.py` and `webapp/chat_view.py` call these.

The model is `webapp.history` (Conversation, Message, ConversationOptions),
the same objects the store returns. Session state holds one `OpenChat`: which
conversation is open and the tail of it the page shows; the store
(`webapp.store.ConversationStore`) makes it last. Decisions worth knowing:

- A new conversation is a *draft* (no id) until its first prompt, so opening
  the page or pressing "New chat" never fills the history with empty entries.
  It opens with the bot's welcome, saved as message 0 with the first prompt;
  it is context like any answer (the user read it and may reply to it).
- The prompt is saved before the request goes out; the growing answer is
  saved about once a second (`SAVE_EVERY`) and finalised with its status.
- An answer whose stream was closed early (Stop, a click, a reload: Streamlit
  cannot tell them apart) is saved `interrupted`. The session that streamed it
  turns it into `stopped` on its next run; any other session (a reload, another
  tab) keeps `interrupted`, with Retry.
- Every run loads only the shown tail (`OpenChat.window` messages), never the
  whole conversation; a send loads a bounded tail for the context.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from ablt_core import AbltError, StreamInterruptedError
from webapp import history
from webapp.bot_display import plain_name, plain_slug
from webapp.errors import describe
from webapp.history import (
    ContextLimits,
    ContextWindow,
    Conversation,
    ConversationOptions,
    Message,
)
from webapp.limits import BOT_WELCOME_MAX_CHARS, MAX_WORDS_MAX, MAX_WORDS_MIN
from webapp.store import STREAM_IDLE_AFTER, ConversationNotFound, ConversationStore, Owner
from webapp.store.core import MAX_PAGE
from webapp.text import truncate_text

if TYPE_CHECKING:
    from ablt_core import AbltClient, Bot

log = logging.getLogger(__name__)

COMPLETE = "complete"
STREAMING = "streaming"
STOPPED = "stopped"
INTERRUPTED = "interrupted"
ERROR = "error"
RETRYABLE_STATUSES = frozenset({ERROR, INTERRUPTED})
REGENERABLE_STATUSES = history.CONTEXT_STATUSES

BOT_NAME_STORED_MAX = 200  # the store's bot_name column, in characters
PAGE_SIZE = 30  # messages shown at first, and added by each "Show earlier"
SAVE_EVERY = 1.0  # seconds between saves of a growing answer: at most this much is lost
OPEN_PARAM = "conversation"  # the query parameter naming the open conversation

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
INTERRUPTED_MESSAGE = (
    "This answer stopped arriving before it finished (the page was reloaded or the "
    "connection dropped). The part received is kept; retry to ask again."
)
# A database that refuses a write (disk full, locked, gone): the send stops with
# one of these, never a traceback, and the prompt text is not lost.
DATABASE_ERRORS = (SQLAlchemyError, OSError)
PROMPT_NOT_SAVED = (
    "Your message was not sent: the conversation database is not accepting changes "
    "right now (it may be busy or out of disk space). Your text is back in the message "
    "box, so you can send it again in a moment."
)
ANSWER_NOT_STARTED = (
    "Your message is saved, but the answer could not be started: the conversation "
    "database is not accepting changes right now (it may be busy or out of disk space). "
    "Retry in a moment."
)
EMPTY_ANSWER = "The bot sent an empty answer. Retry to ask again."
NOT_FOUND_MESSAGE = "That conversation does not exist, or is not yours. A new chat is open instead."


# ------------------------------------------------------------------ options


def api_options(options: ConversationOptions) -> dict[str, Any]:
    """The chat() keyword arguments for the options that are set, and only those."""
    out: dict[str, Any] = {}
    if options.language and options.language.strip():
        out["language"] = options.language.strip()
    if options.max_words is not None:
        # Within the one set of limits even for options built without validation.
        out["max_words"] = min(max(int(options.max_words), MAX_WORDS_MIN), MAX_WORDS_MAX)
    if options.use_search:
        out["use_search"] = True
    return out


def advice(options: ConversationOptions) -> list[str]:
    """The API's advice for these options, in plain words (empty when all is well)."""
    notes = []
    words = options.max_words
    if words is not None and words < MAX_WORDS_CUT_BELOW:
        notes.append(f"Under {MAX_WORDS_CUT_BELOW} words, answers often get cut off mid-sentence.")
    if words is not None and words > MAX_WORDS_SLOW_ABOVE:
        notes.append(
            f"Over {MAX_WORDS_SLOW_ABOVE} words, regular models may time out before "
            "the answer is done."
        )
    if options.use_search and words is not None and words < 100:
        notes.append("Web search needs room: use it with at least 100 words.")
    return notes


class SendFailed(Exception):
    """A send stopped before anything went to the API; the message is for the user."""


# --------------------------------------------------------- the open chat


@dataclass
class OpenChat:
    """The conversation this session shows, and the tail of it that is loaded."""

    conversation: Conversation  # id "" while a draft
    messages: list[Message] = field(default_factory=list)  # the shown tail, oldest first
    total: int = 0  # messages in the whole conversation
    window: int = PAGE_SIZE  # how many of the latest to show
    draft_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The answer this session streamed last, while its end is not yet settled.
    streaming_id: str | None = None
    # Earlier messages left out of the last request's context (the page says so).
    context_omitted: int = 0

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def is_draft(self) -> bool:
        return not self.conversation.id

    @property
    def key(self) -> str:
        """Suffix for this conversation's widget keys, so each keeps its own."""
        return self.conversation.id or self.draft_key

    @property
    def last(self) -> Message | None:
        return self.messages[-1] if self.messages else None

    @property
    def hidden(self) -> int:
        """Earlier messages not shown ("Show earlier" loads more)."""
        return max(self.total - len(self.messages), 0)


def welcome_text(bot: Bot) -> str:
    """The welcome message with the API's `\\r\\n` line ends made plain, cut to
    `BOT_WELCOME_MAX_CHARS` whole characters (it is the bot's text, saved
    as the conversation's first message)."""
    text = bot.welcome_message or ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return truncate_text(text, BOT_WELCOME_MAX_CHARS)


def new_draft(
    member: Owner,
    bot: Bot,
    options: ConversationOptions | None = None,
    *,
    now: datetime | None = None,
) -> OpenChat:
    """A fresh, unsaved conversation that opens with the bot's welcome message."""
    now = now or datetime.now(UTC)
    conv = Conversation(
        id="",
        owner=member.username,
        owner_user_id=member.user_id,
        bot_slug=bot.slug,
        # The name as shown, within the store's column (VARCHAR(200)).
        bot_name=truncate_text(plain_name(bot.name), BOT_NAME_STORED_MAX),
        title=history.DEFAULT_TITLE,
        options=options or ConversationOptions(),
        created_at=now,
        updated_at=now,
    )
    messages = []
    welcome = welcome_text(bot)
    if welcome:
        messages.append(
            Message(
                id="",
                conversation_id="",
                seq=0,
                role="assistant",
                text=welcome,
                status="complete",
                created_at=now,
            )
        )
    return OpenChat(conversation=conv, messages=messages, total=len(messages))


def open_conversation(store: ConversationStore, member: Owner, conversation_id: str) -> OpenChat:
    """One of the member's conversations, its latest page loaded; ConversationNotFound else."""
    opened = OpenChat(conversation=store.get_conversation(member, conversation_id))
    refresh(store, member, opened)
    return opened


def refresh(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """Reload the header and the shown tail from the store (a run's only reads).

    Also settles answers whose stream ended without a final status: this
    session's own becomes `stopped`; someone else's, silent for
    `STREAM_IDLE_AFTER`, becomes `interrupted` (a reload, a crashed process).
    ConversationNotFound when it went away (deleted in another tab).
    """
    if opened.is_draft:
        return
    opened.conversation = store.get_conversation(member, opened.id)
    page = store.messages(member, opened.id, limit=opened.window)
    own = opened.streaming_id
    if own is not None:
        opened.streaming_id = None
        mine = next((m for m in page.messages if m.id == own), None)
        # No error means nothing failed: the stream was closed on our side.
        if mine is not None and mine.status in (STREAMING, INTERRUPTED) and mine.error is None:
            store.update_message(member, own, status=STOPPED)
            page = store.messages(member, opened.id, limit=opened.window)
    stale = any(m.status == STREAMING for m in page.messages) and (
        store.mark_streaming_as_interrupted(member, opened.id, idle_for=STREAM_IDLE_AFTER)
    )
    if stale:
        page = store.messages(member, opened.id, limit=opened.window)
    opened.messages = page.messages
    opened.total = page.total


def show_earlier(opened: OpenChat) -> None:
    opened.window = min(opened.window + PAGE_SIZE, MAX_PAGE)


def choose_open(
    store: ConversationStore,
    member: Owner,
    bots: Sequence[Bot],
    current: OpenChat | None,
    *,
    requested_id: str | None = None,
    requested_slug: str | None = None,
    new_requested: bool = False,
    carry_options: ConversationOptions | None = None,
) -> tuple[OpenChat, str | None]:
    """The conversation the page shows this run, and a notice for the user, if any.

    In order: a request for a fresh conversation (New chat, the catalogue); a
    conversation asked for by id (the history, the URL), only if it is the
    member's; another bot picked (a fresh conversation with it); the open one,
    reloaded; else a fresh one with the requested or first bot.
    """
    if not bots:
        raise ValueError("There are no bots to chat with.")
    by_slug = {bot.slug: bot for bot in bots}

    def draft(slug: str | None, options: ConversationOptions | None = None) -> OpenChat:
        return new_draft(member, by_slug.get(slug or "") or bots[0], options)

    current_slug = current.conversation.bot_slug if current else None
    if new_requested:
        return draft(requested_slug or current_slug, carry_options), None
    notice = None
    if requested_id and (current is None or requested_id != current.id):
        try:
            return open_conversation(store, member, requested_id), None
        except ConversationNotFound:
            notice = NOT_FOUND_MESSAGE
            current = None
    if requested_slug in by_slug and requested_slug != current_slug:
        return draft(requested_slug), notice
    if current is not None:
        try:
            refresh(store, member, current)
            return current, notice
        except ConversationNotFound:
            return draft(current_slug), "This conversation was deleted. A new chat is open instead."
    return draft(requested_slug), notice


# --------------------------------------------------------------- changes


def send_prompt(store: ConversationStore, member: Owner, opened: OpenChat, prompt: str) -> Message:
    """Save the user's prompt (a draft is saved first, welcome included).

    Runs before anything is sent, so the prompt is never lost. A database that
    refuses the write raises `SendFailed`: nothing was sent, the caller keeps
    the text for the user to send again.
    """
    text = prompt.strip()
    if not text:
        raise ValueError("An empty message cannot be sent.")
    try:
        if opened.is_draft:
            conv = opened.conversation
            created = store.create_conversation(member, conv.bot_slug, conv.bot_name, conv.options)
            for message in opened.messages:
                store.append_message(member, created.id, message.role, message.text)
            opened.conversation = created
            opened.streaming_id = None
        saved = store.append_message(member, opened.id, "user", text)
        refresh(store, member, opened)
    except DATABASE_ERRORS as err:
        log.warning("Could not save a prompt: %s", err)
        raise SendFailed(PROMPT_NOT_SAVED) from err
    return saved


def set_options(
    store: ConversationStore, member: Owner, opened: OpenChat, options: ConversationOptions
) -> None:
    """Keep changed options with the conversation, so reopening it continues alike."""
    if options == opened.conversation.options:
        return
    if opened.is_draft:
        opened.conversation = replace(opened.conversation, options=options)
    else:
        opened.conversation = store.update_options(member, opened.id, options)


def awaiting_answer(opened: OpenChat) -> bool:
    """True when the last message is a sent prompt with no answer yet.

    An imported prompt that was never sent (`history.is_unsent_prompt`) is
    not awaiting: an import has no side effects until the member sends it.
    """
    last = opened.last
    return last is not None and last.role == "user" and not history.is_unsent_prompt(last)


def unsent_prompt(opened: OpenChat) -> Message | None:
    """The last message when it is an imported prompt waiting for its Send."""
    last = opened.last
    return last if last is not None and history.is_unsent_prompt(last) else None


def send_unsent(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """The member sends the imported prompt: it becomes a sent prompt awaiting its answer."""
    prompt = unsent_prompt(opened)
    if prompt is None:
        return
    store.update_message(member, prompt.id, status=COMPLETE, error="")
    refresh(store, member, opened)


def can_retry(opened: OpenChat) -> bool:
    last = opened.last
    return last is not None and last.role == "assistant" and last.status in RETRYABLE_STATUSES


def can_regenerate(opened: OpenChat) -> bool:
    """A finished (or stopped) answer to a prompt: not the welcome, not a failure."""
    msgs = opened.messages
    return (
        len(msgs) >= 2
        and msgs[-1].role == "assistant"
        and msgs[-1].status in REGENERABLE_STATUSES
        and msgs[-2].role == "user"
    )


def last_controls_shown(opened: OpenChat, *, sending: bool) -> bool:
    """Whether Regenerate / Edit last message are drawn under the last answer.

    Not while a prompt is being sent (`sending`) or its answer is awaited or
    streaming: they belong to the exchange before, and would show above the
    new prompt. The run after the answer draws them under it.
    """
    return not sending and not awaiting_answer(opened)


def last_prompt(opened: OpenChat) -> Message | None:
    """The prompt that can be edited and resent: the last one, answered or not."""
    msgs = opened.messages
    for message in reversed(msgs[-2:]):
        if message.role == "user":
            return message
    return None


def _drop_from(store: ConversationStore, member: Owner, opened: OpenChat, seq: int) -> None:
    store.delete_messages_from(member, opened.id, seq)
    opened.streaming_id = None
    refresh(store, member, opened)


def prepare_retry(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """Drop the failed answer so the prompt before it is the one to answer again."""
    if can_retry(opened) and opened.last is not None:
        _drop_from(store, member, opened, opened.last.seq)


def prepare_regenerate(store: ConversationStore, member: Owner, opened: OpenChat) -> None:
    """Drop the last answer so its prompt is answered afresh."""
    if can_regenerate(opened) and opened.last is not None:
        _drop_from(store, member, opened, opened.last.seq)


def edit_last_prompt(store: ConversationStore, member: Owner, opened: OpenChat, text: str) -> None:
    """Replace the last prompt (and the answer to it) with `text`, to be answered anew."""
    prompt = last_prompt(opened)
    if prompt is None:
        raise ValueError("There is no prompt to edit.")
    if not text.strip():
        raise ValueError("An empty message cannot be sent.")
    store.delete_messages_from(member, opened.id, prompt.seq)
    opened.streaming_id = None
    send_prompt(store, member, opened, text)


# --------------------------------------------------------------- context


def context_rows(limits: ContextLimits) -> int | None:
    """How many of the latest messages to load to build a capped context.

    Bounded by the caps (failed turns are skipped, so room for those too), so
    a send reads a tail, not 5,000 rows; None only when nothing is capped.
    """
    caps = []
    if limits.max_messages is not None:
        caps.append(limits.max_messages * 3 + 10)
    if limits.max_words is not None:
        caps.append(limits.max_words + 10)  # every message that is sent has a word
    return min(min(caps), MAX_PAGE) if caps else None


def context_for(
    store: ConversationStore, member: Owner, opened: OpenChat, limits: ContextLimits
) -> ContextWindow:
    """The `messages` for the API (capped), counting what was left out."""
    page = store.messages(member, opened.id, limit=context_rows(limits))
    msgs = page.messages
    unloaded = page.total - len(msgs)
    if unloaded:
        # The tail starts mid-conversation: an answer whose prompt was not
        # loaded is no opening, leave it out with the rest.
        while msgs and msgs[0].role == "assistant":
            msgs = msgs[1:]
            unloaded += 1
    window = history.build_context(
        msgs, system_instruction=opened.conversation.options.system_instruction, limits=limits
    )
    return ContextWindow(window.messages, window.omitted + unloaded, window.skipped)


# ------------------------------------------------------------- streaming


def stream_answer(
    client: AbltClient,
    store: ConversationStore,
    member: Owner,
    opened: OpenChat,
    limits: ContextLimits,
    *,
    clock: Callable[[], float] = time.monotonic,
    save_every: float = SAVE_EVERY,
) -> Generator[str, None, None]:
    """Ask for an answer to the last prompt and yield its pieces as they arrive.

    Made for `st.write_stream`. The answer is saved at once (empty,
    `streaming`), then about every `save_every` seconds as it grows, then with
    its final status. Errors never escape: they end the answer with status
    `error` (nothing usable arrived or the API refused) or `interrupted` (cut
    off mid-way; the part received stays), with a plain message. When the
    consumer closes the generator early (Stop, a rerun, the session ending) the
    part received is saved `interrupted` and `opened.streaming_id` stays set,
    so this session's next run can call it `stopped` (see `refresh`).

    The context is read and the empty answer saved before this returns: a
    database that refuses them raises `SendFailed` here, not mid-stream (the
    prompt stays saved, awaiting its answer).
    """
    try:
        window = context_for(store, member, opened, limits)
        reply = store.append_message(member, opened.id, "assistant", "", status=STREAMING)
    except DATABASE_ERRORS as err:
        log.warning("Could not start an answer: %s", err)
        raise SendFailed(ANSWER_NOT_STARTED) from err
    opened.context_omitted = window.omitted
    opened.streaming_id = reply.id
    return _answer_pieces(client, store, member, opened, window, reply, clock, save_every)


def on_first_piece(
    pieces: Iterable[str], callback: Callable[[], None]
) -> Generator[str, None, None]:
    """`pieces` unchanged; `callback()` runs once, just before the first
    non-empty piece is passed on (the "thinking" indicator makes way for the
    answer). Closing this generator does not close `pieces`: its owner does."""
    waiting = True
    for piece in pieces:
        if waiting and piece:
            waiting = False
            callback()
        yield piece


def _answer_pieces(
    client: AbltClient,
    store: ConversationStore,
    member: Owner,
    opened: OpenChat,
    window: ContextWindow,
    reply: Message,
    clock: Callable[[], float],
    save_every: float,
) -> Generator[str, None, None]:
    text = ""
    status, error = STREAMING, None
    superseded = False
    stream = None
    try:
        stream = client.chat(
            bot_slug=opened.conversation.bot_slug,
            messages=window.messages,
            stream=True,
            user_id=member.user_id,
            **api_options(opened.conversation.options),
        )
        last_save = clock()
        for piece in stream:
            text += piece
            yield piece
            if clock() - last_save >= save_every:
                last_save = clock()
                if not _save(store, member, reply.id, text, STREAMING):
                    # Another session declared this answer dead: it wins, stop writing.
                    superseded = True
                    return
        # A stream of only [DONE] (or blank text) is no answer: a failure, with Retry.
        status, error = (COMPLETE, None) if text.strip() else (ERROR, EMPTY_ANSWER)
    except StreamInterruptedError as err:
        text = err.partial_text or text
        status, error = INTERRUPTED, describe(err)
    except AbltError as err:
        status, error = ERROR, describe(err)
    except Exception:
        log.exception("Unexpected error while getting a chat answer")
        status, error = ERROR, UNEXPECTED_ERROR
    finally:
        if stream is not None:
            stream.close()
        if superseded:
            opened.streaming_id = None
        elif status == STREAMING:
            # Closed early. Saved without an error so `refresh` can tell it
            # from a failure; streaming_id stays for this session to settle.
            _save(store, member, reply.id, text, INTERRUPTED)
        else:
            _save(store, member, reply.id, text, status, error)
            opened.streaming_id = None


def _save(
    store: ConversationStore,
    member: Owner,
    message_id: str,
    text: str,
    status: str,
    error: str | None = None,
) -> bool:
    """Save an answer; False when a `streaming` save no longer lands.

    A failing database must not cut the answer the user is reading: the
    error is logged, the next save tries again, and an answer never
    finalised is marked interrupted when the conversation is next opened.
    """
    try:
        saved = store.update_message(member, message_id, text=text, status=status, error=error)
    except ConversationNotFound:
        return False  # deleted meanwhile (another tab)
    except Exception:
        log.exception("Could not save an answer")
        return True
    return saved.status == status


# ------------------------------------------------------------ the history


def history_sections(
    store: ConversationStore,
    member: Owner,
    query: str | None = None,
    *,
    now: datetime | None = None,
    tz: tzinfo | None = None,
) -> list[tuple[str, list[Conversation]]]:
    """The member's conversations for the sidebar: searched, grouped, pinned on top."""
    return history.group_conversations(
        store.list_conversations(member, query or None), now=now, tz=tz
    )


def rename(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    conversation_id: str,
    title: str,
) -> None:
    """Rename one of the member's conversations (ValueError for a blank title)."""
    conv = store.rename(member, conversation_id, title)
    if opened is not None and opened.id == conversation_id:
        opened.conversation = conv


def set_pinned(
    store: ConversationStore,
    member: Owner,
    opened: OpenChat | None,
    conversation_id: str,
    pinned: bool,
) -> None:
    conv = store.set_pinned(member, conversation_id, pinned)
    if opened is not None and opened.id == conversation_id:
        opened.conversation = conv


def delete(store: ConversationStore, member: Owner, conversation_id: str) -> None:
    """Delete one of the member's conversations (the page asked for confirmation)."""
    store.delete_conversation(member, conversation_id)


def import_file(store: ConversationStore, member: Owner, data: bytes) -> Conversation:
    """A new conversation from a JSON export; ConversationImportError (with a
    plain reason) when the file is not one, and then nothing is written."""
    return store.import_conversation(member, data)


def export_markdown(store: ConversationStore, member: Owner, conversation_id: str) -> str:
    return store.export_markdown(member, conversation_id)


def export_json(store: ConversationStore, member: Owner, conversation_id: str) -> str:
    return store.export_json(member, conversation_id)


# ---------------------------------------------------------------- display


def bot_labels(bots: Sequence[Bot]) -> dict[str, str]:
    """slug -> a plain-text label for the bot picker, unique even though bot names
    are not; names and slugs cut for display (`webapp.bot_display`)."""
    names = {bot.slug: plain_name(bot.name) for bot in bots}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    # The picker tells options apart by their label, so a shared name gets its slug.
    return {
        slug: name if counts[name] == 1 else f"{name} ({plain_slug(slug)})"
        for slug, name in names.items()
    }


def is_welcome(message: Message) -> bool:
    """The bot's welcome: the assistant message a conversation opens with."""
    return message.role == "assistant" and message.seq == 0


def can_copy(message: Message) -> bool:
    """Whether a bubble offers "Copy text": any message with text but the welcome."""
    return bool(message.text.strip()) and not is_welcome(message)


def context_note(opened: OpenChat) -> str | None:
    """What the page says when the last request left earlier messages out."""
    n = opened.context_omitted
    if not n:
        return None
    return (
        f"To stay within the model's limits, the last answer was based on the latest "
        f"messages only: {n} earlier message{'s were' if n != 1 else ' was'} left out."
    )
