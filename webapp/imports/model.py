"""What an import is made of: its sources, its limits, a parsed conversation, a plan.

Pure data. A parser (`chatgpt`, `openwebui`, `librechat`, `own`) turns one
conversation of a file into a `ParsedConversation` (the product's own
`ImportedConversation`, its shown path and its versions, plus where it came
from and the model that wrote it) or raises `Skip` with a plain reason;
`reader.read_upload` gathers them into an `ImportPlan`, which the preview shows
and the writer (`writer.run_import`) stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from webapp.conversations.transcripts import ImportedConversation

# -- the limits (stated in the README; tests/webapp/imports/test_hostile.py drives each) --

MAX_UPLOAD_MB: Final = 200  # the file the member uploads (a ChatGPT .zip holds images too)
MAX_UPLOAD_BYTES: Final = MAX_UPLOAD_MB * 1024 * 1024
# JSON read out of one zip, all members together, counted as it expands
# (the zip's own size fields are checked first, and never trusted alone).
MAX_EXPANDED_BYTES: Final = 300 * 1024 * 1024
MAX_ZIP_ENTRIES: Final = 20_000  # files listed in one zip
MAX_CONVERSATIONS: Final = 10_000  # per import; the rest are skipped, named in the preview
MAX_MESSAGES: Final = 5_000  # per conversation, versions included
MAX_MESSAGE_CHARS: Final = 1_000_000  # per message (the product's own import limit)
UNDO_HOURS: Final = 24  # "Remove this import" is offered this long


class Source(StrEnum):
    """Where an imported conversation came from (stored on the conversation)."""

    CHATGPT = "chatgpt"
    OPENWEBUI = "openwebui"
    LIBRECHAT = "librechat"
    ABLT = "ablt"


SOURCE_NAMES: Final[dict[str, str]] = {
    Source.CHATGPT: "ChatGPT",
    Source.OPENWEBUI: "Open WebUI",
    Source.LIBRECHAT: "LibreChat",
    Source.ABLT: "aBLT Chat",
}


class Skip(ValueError):
    """One conversation (or file) cannot be imported; the message says why, plainly."""


@dataclass(frozen=True, slots=True)
class ParsedConversation:
    """One conversation ready to store: `conversation` is validated by the
    product's own model (its bot is set at write time), `original_model` the
    name of the model that answered in the source app (None: not recorded)."""

    source: Source
    conversation: ImportedConversation
    original_model: str | None = None

    @property
    def message_count(self) -> int:
        """Messages shown plus their other versions."""
        return len(self.conversation.messages) + len(self.conversation.versions)


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something left out, for the preview: `what` names it (a title, a file), `why` says why."""

    what: str
    why: str
    count: int = 1  # conversations it stands for (one line for 40,000 past the limit)


@dataclass(slots=True)
class ImportPlan:
    """What a file would import, before anything is written."""

    conversations: list[ParsedConversation] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # kept, but changed (a time, a branch)

    @property
    def message_count(self) -> int:
        return sum(c.message_count for c in self.conversations)

    @property
    def skipped_count(self) -> int:
        return sum(s.count for s in self.skipped)

    @property
    def sources(self) -> list[Source]:
        """The formats found, in a stable order."""
        found = {c.source for c in self.conversations}
        return [s for s in Source if s in found]

    def summary(self) -> str:
        """ "412 conversations, 9,830 messages, 3 skipped" (plain text)."""
        n = len(self.conversations)
        words = [
            f"{n:,} conversation{'' if n == 1 else 's'}",
            f"{self.message_count:,} message{'' if self.message_count == 1 else 's'}",
        ]
        if self.skipped:
            words.append(f"{self.skipped_count:,} skipped")
        return ", ".join(words)
