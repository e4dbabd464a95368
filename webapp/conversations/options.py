"""A conversation's options and the app's limits on them, in one place.

`ConversationOptions` is what a conversation keeps (language, answer length,
web search, system instruction); its bounds come from `webapp.limits`, which
the options widgets, the import and the API call read too. Stored options
written under other limits open through `options_from_stored` (a note, never
a crash); an import names the first option outside them (`options_problem`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webapp import limits


class ConversationOptions(BaseModel):
    """The chat settings a conversation keeps, so reopening it continues alike.

    Unknown keys are ignored so an options blob written by a newer version
    still loads in an older one.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    language: str | None = Field(default=None, max_length=limits.LANGUAGE_MAX_CHARS)
    max_words: int | None = Field(
        default=None, ge=limits.MAX_WORDS_MIN, le=limits.MAX_WORDS_MAX, strict=True
    )
    use_search: bool = Field(default=False, strict=True)
    system_instruction: str | None = Field(
        default=None, max_length=limits.SYSTEM_INSTRUCTION_MAX_CHARS
    )
    # The prompt-library entry the conversation was started from, if any.
    library_prompt_id: str | None = Field(default=None, max_length=36)


_OPTION_NAMES: Final = {
    "language": "language",
    "max_words": "answer length limit",
    "use_search": "web search setting",
    "system_instruction": "system instruction",
    "library_prompt_id": "prompt library entry",
}


def options_from_stored(raw: str | bytes | None) -> tuple[ConversationOptions, tuple[str, ...]]:
    """The options a stored conversation opens with, and notes on what was set aside.

    Stored options were checked against the limits of the version that wrote
    them; a value outside today's limits (`webapp.limits`) must not stop the
    conversation from opening. Each option that no longer validates falls back
    to its default, and a note names it and the value kept; an answer length
    over the limit is lowered to the limit rather than dropped. Never raises.
    """
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return ConversationOptions(), ("The stored options could not be read: defaults are used.",)
    kept: dict[str, Any] = {}
    notes: list[str] = []
    for name, value in data.items():
        if name not in _OPTION_NAMES or value is None:
            continue
        try:
            ConversationOptions.model_validate({name: value})
        except (ValidationError, ValueError, TypeError, RecursionError):
            label = _OPTION_NAMES[name]
            if (
                name == "max_words"
                and isinstance(value, int)
                and not isinstance(value, bool)
                and value > limits.MAX_WORDS_MAX
            ):
                kept[name] = limits.MAX_WORDS_MAX
                notes.append(
                    f"This conversation's {label} ({value:,} words) is over this app's limit "
                    f"of {limits.MAX_WORDS_MAX:,} words: {limits.MAX_WORDS_MAX:,} is used."
                )
            else:
                notes.append(
                    f"This conversation's stored {label} is outside what this app accepts "
                    "and is not used (change it in the conversation options)."
                )
            continue
        kept[name] = value
    return ConversationOptions.model_validate(kept), tuple(notes)


_OPTION_RULES: Final = {
    "language": f"a language name of at most {limits.LANGUAGE_MAX_CHARS} characters",
    "max_words": f"a whole number of words from {limits.MAX_WORDS_MIN} to {limits.MAX_WORDS_MAX:,}",
    "use_search": "true or false",
    "system_instruction": "a system instruction of at most "
    f"{limits.SYSTEM_INSTRUCTION_MAX_CHARS:,} characters",
    "library_prompt_id": "a prompt library id",
}


def options_problem(options: Mapping[str, Any]) -> str | None:
    """A plain sentence naming the first option outside this app's limits
    (`webapp.limits`), or None when every known option is acceptable."""
    for name, rule in _OPTION_RULES.items():
        value = options.get(name)
        if value is None:
            continue
        try:
            ConversationOptions.model_validate({name: value})
        except (ValidationError, ValueError, TypeError, RecursionError):
            shown = repr(value) if isinstance(value, int | float | bool) else "given"
            if len(shown) > 30:
                shown = "given"
            return (
                f"The file's {_OPTION_NAMES[name]} ({shown}) is outside what this app "
                f"accepts: {rule}."
            )
    return None
