"""Deterministic, persona-flavoured answers built from the chat request.

An answer shows what arrived, so a test or a demo can SEE that context and
options made it over the wire: it quotes the last user message, counts the
earlier turns and recalls the first user message, quotes a system instruction,
names the language, echoes ``assumptions``, pretends to cite search results
when ``use_search`` is on, and never exceeds ``max_words`` words. The same
request always gets the same answer (no RNG, no clock) for the same attempt
number: asking again (Regenerate) gives attempt 1, 2, ... another opening and
other sentences, so a demo shows that something new came back.

Text measures used by the usage ledger:

- words:  ``len(text.split())``
- tokens: ``ceil(len(text) / 4)`` (the usual "four characters per token" rule
  of thumb; 0 for empty text)
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

from .bots import Bot

DEFAULT_MIN_WORDS = 90  # body sentences are added until the answer reaches this
DEFAULT_MAX_WORDS = 150  # ... without going past this
PARAGRAPH_SENTENCES = 5  # a lengthened answer starts a new paragraph after this many sentences
QUOTE_WORDS = 24  # longer quotes are shortened with an ellipsis

_PIECE_RE = re.compile(r"\s*\S+")


def count_words(text: str) -> int:
    """Words as the ledger counts them: whitespace-separated runs."""
    return len(text.split())


def estimate_tokens(text: str) -> int:
    """Tokens as the ledger estimates them: ceil(characters / 4)."""
    return math.ceil(len(text) / 4)


def split_pieces(text: str) -> list[str]:
    """Stream pieces: each word with the whitespace before it, as the real API sends."""
    return _PIECE_RE.findall(text)


def cut_words(text: str, max_words: int | None) -> str:
    """The first ``max_words`` words of ``text``, keeping the original spacing."""
    if max_words is None:
        return text
    return "".join(split_pieces(text)[:max_words])


@dataclass(frozen=True)
class Message:
    """One chat message as the emulator uses it."""

    role: str
    content: str


@dataclass(frozen=True)
class ChatInput:
    """The parts of a chat request that shape the answer and the usage."""

    messages: tuple[Message, ...]  # a bare prompt becomes one user message
    language: str | None = None
    max_words: int | None = None
    use_search: bool = False
    assumptions: dict[str, Any] | None = None
    attempt: int = 0  # how many times this very request was answered in full before
    # Not part of the request: the emulator's own setting (``answer_words``) for
    # benchmarks. The answer is lengthened to exactly this many words (the bot's
    # sentences repeat, in paragraphs), then ``max_words`` still applies.
    words: int | None = None
    shape: str = "paragraphs"  # with ``words``: the answer's layout (see ``SHAPES``)


# Openings of a second, third, ... answer to the same request (attempt 1, 2, ...).
RETAKE_OPENERS = (
    "Let me put that another way.",
    "Here is a different angle.",
    "Trying again, more briefly.",
    "One more take on it.",
)


@dataclass(frozen=True)
class Answer:
    """The generated answer and the hidden text the service "added" to the prompt."""

    text: str
    enhancement: str  # bot instructions + system messages + fake search context
    original: str  # the user's own input (user and assistant turns)


def _quote(text: str) -> str:
    words = text.split()
    short = " ".join(words[:QUOTE_WORDS])
    if len(words) > QUOTE_WORDS:
        short += " …"
    return f"\u201c{short}\u201d"


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


def search_context(query: str) -> list[str]:
    """Three pretend search results for ``query`` (titles and sites are made up)."""
    topic = " ".join(query.split()[:6]) or "your question"
    return [
        f"[1] \u201c{topic}: a practical overview\u201d - example-encyclopedia.org",
        f"[2] \u201cWhat experts say about {topic}\u201d - news.example.com",
        f"[3] \u201c{topic} explained in five minutes\u201d - blog.example.net",
    ]


def _lengthened(intro: str, bot: Bot, start: int, words: int) -> str:
    """``intro``, then the bot's sentences in paragraphs, then its closer: ``words`` words."""
    closer_words = count_words(bot.closer)
    parts = [intro]
    total = count_words(intro)
    i = 0
    while total + closer_words < words:
        sentence = bot.sentences[(start + i) % len(bot.sentences)]
        parts.append("\n\n" if i % PARAGRAPH_SENTENCES == PARAGRAPH_SENTENCES - 1 else " ")
        parts.append(sentence)
        total += count_words(sentence)
        i += 1
    body = cut_words("".join(parts), max(words - closer_words, 0))
    return cut_words(f"{body}\n\n{bot.closer}", words)


# Benchmark layouts of a lengthened answer, the same words in each: the
# persona's paragraphs, one single paragraph, one fenced code block (8 words a
# line), one table (10 words a row: 300 rows at 3,000 words), one list (3 words
# an item: 1,000 items at 3,000 words).
SHAPES: tuple[str, ...] = ("paragraphs", "paragraph", "code", "table", "list")


def shaped(text: str, shape: str) -> str:
    """``text``'s words laid out as ``shape`` (one of ``SHAPES``; "paragraphs": as is)."""
    words = text.split()

    def runs(size: int) -> list[str]:
        return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]

    if shape == "paragraph":
        return " ".join(words)
    if shape == "code":
        return "```text\n" + "\n".join(runs(8)) + "\n```"
    if shape == "table":
        cells = runs(2)
        rows = ["| " + " | ".join(cells[i : i + 5]) + " |" for i in range(0, len(cells), 5)]
        return "| a | b | c | d | e |\n|---|---|---|---|---|\n" + "\n".join(rows)
    if shape == "list":
        return "\n".join(f"- {item}" for item in runs(3))
    return text


def attempt_key(bot_slug: str, chat: ChatInput, user_id: int | None = None) -> str:
    """A digest naming "this very request" (end user, bot, messages, options),
    under which the emulator counts the answers it delivered in full: another
    member asking the same first question gets a first answer too."""
    parts = [
        str(user_id),
        bot_slug,
        repr([(m.role, m.content) for m in chat.messages]),
        repr((chat.language, chat.max_words, chat.use_search, chat.assumptions)),
    ]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def build_answer(bot: Bot, chat: ChatInput) -> Answer:
    """The bot's answer to ``chat``; pure and deterministic for a given
    ``chat.attempt`` (0: the first answer; each later attempt opens and goes on
    differently)."""
    systems = [m.content for m in chat.messages if m.role == "system"]
    turns = [m for m in chat.messages if m.role != "system"]
    last = turns[-1].content
    earlier = turns[:-1]
    # A bot's welcome message alone is not a conversation yet: only recall one
    # when the user said something before this prompt.
    earlier_prompts = [m.content for m in earlier if m.role == "user"]

    intro: list[str] = [bot.opener]
    if chat.attempt > 0:
        intro = [RETAKE_OPENERS[(chat.attempt - 1) % len(RETAKE_OPENERS)]]
    if systems:
        intro.append(f"Following your instruction {_quote(systems[-1])},")
        intro.append("I've adjusted my usual style.")
    stop = "" if last.rstrip().endswith((".", "?", "!", "…")) else "."
    intro.append(f"You asked: {_quote(last)}{stop}")
    if earlier_prompts:
        noun = "turn" if len(earlier) == 1 else "turns"
        intro.append(
            f"I can see {len(earlier)} earlier {noun} in our conversation, "
            f"which began with {_quote(earlier_prompts[0])}."
        )
    if chat.language:
        intro.append(f"I'll answer in {chat.language}.")
    if chat.assumptions:
        pairs = ", ".join(f"{k}={v}" for k, v in chat.assumptions.items())
        intro.append(f"Assumptions noted: {pairs}.")

    text = " ".join(intro)
    search_lines: list[str] = []
    if chat.use_search:
        search_lines = search_context(last)
        sources = "\n".join(search_lines)
        text = f"{text} I searched the web and found 3 relevant sources:\n{sources}\n"
        text += "Drawing on them:"
    start = (_seed(last) + chat.attempt) % len(bot.sentences)
    if chat.words is None:
        for i in range(len(bot.sentences)):
            if count_words(text) >= DEFAULT_MIN_WORDS:
                break
            sentence = bot.sentences[(start + i) % len(bot.sentences)]
            if count_words(text) + count_words(sentence) > DEFAULT_MAX_WORDS - 12:
                break
            text = f"{text} {sentence}"
        text = f"{text}\n\n{bot.closer}"
    else:
        text = shaped(_lengthened(text, bot, start, chat.words), chat.shape)
    text = cut_words(text, chat.max_words)

    enhancement = "\n".join([bot.instructions, *systems, *search_lines])
    original = "\n".join(m.content for m in turns)
    return Answer(text=text, enhancement=enhancement, original=original)
