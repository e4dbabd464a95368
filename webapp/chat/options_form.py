"""A conversation's options as the API takes them, and the API's advice on them."""

from __future__ import annotations

from typing import Any

from webapp.conversations.options import ConversationOptions
from webapp.limits import MAX_WORDS_MAX, MAX_WORDS_MIN
from webapp.ui.i18n import _

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
        notes.append(
            _("Under {words} words, answers often get cut off mid-sentence.").format(
                words=MAX_WORDS_CUT_BELOW
            )
        )
    if words is not None and words > MAX_WORDS_SLOW_ABOVE:
        notes.append(
            _("Over {words} words, regular models may time out before the answer is done.").format(
                words=MAX_WORDS_SLOW_ABOVE
            )
        )
    if options.use_search and words is not None and words < 100:
        notes.append(_("Web search needs room: use it with at least 100 words."))
    return notes
