"""The team's prompt library (see `webapp.library.prompts`)."""

from webapp.library.prompts import (
    LibraryPrompt,
    PromptLibrary,
    PromptNotFound,
    entry_options,
    fill_template,
    template_variables,
)

__all__ = [
    "LibraryPrompt",
    "PromptLibrary",
    "PromptNotFound",
    "entry_options",
    "fill_template",
    "template_variables",
]
