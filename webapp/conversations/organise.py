"""Organising a member's conversations (issue 26): folder names, tags and the
History's search words. Pure functions; the store is `store.organise`.

- A folder name is one line, not blank, at most `FOLDER_NAME_MAX_CHARS`
  whole characters (grapheme clusters).
- A tag is one word as people type them in `#hashtags`: spaces become `-`,
  lower case (so "Work" and "work" are one tag), at most `TAG_MAX_CHARS`.
  What is typed into a tag box is a list: "urgent, demo" is two tags (split
  as `webapp.text.lists.split_items` says: commas, semicolons, "،"...).
- The History's search box takes `tag:name` words (each must match, as the
  tag filter) besides the words searched in titles and messages
  (`parse_search`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from webapp.text.graphemes import cut_graphemes
from webapp.text.lists import split_items
from webapp.ui.i18n import _

FOLDER_NAME_MAX_CHARS: Final = 60  # the column holds 80; shown in a narrow sidebar
TAG_MAX_CHARS: Final = 32  # the column holds 40
MAX_TAGS_PER_CONVERSATION: Final = 20
MAX_FOLDERS: Final = 200  # per member: the sidebar draws each one
TAG_PREFIX: Final = "tag:"

_WS = re.compile(r"\s+")


def clean_folder_name(name: str) -> str:
    """A folder name as typed, made one line and cut to `FOLDER_NAME_MAX_CHARS`;
    ValueError when blank."""
    line = _WS.sub(" ", name).strip()
    if not line:
        raise ValueError(_("A folder needs a name."))
    return cut_graphemes(line, FOLDER_NAME_MAX_CHARS)


def clean_tag(tag: str) -> str:
    """A tag as stored: lower case, spaces as `-`, without a leading `#` or
    `tag:`, cut to `TAG_MAX_CHARS`; "" for a blank one (dropped)."""
    word = tag.strip()
    if word.lower().startswith(TAG_PREFIX):
        word = word[len(TAG_PREFIX) :]
    word = _WS.sub("-", word.strip().lstrip("#").strip()).lower()
    return cut_graphemes(word, TAG_MAX_CHARS).strip("-")


def _cleaned(typed: Iterable[str]) -> dict[str, None]:
    """Each typed entry split into tags (`split_items`: "urgent, demo" is two),
    cleaned (`clean_tag`), blanks and repeats dropped, first seen first."""
    seen: dict[str, None] = {}
    for entry in typed:
        for tag in split_items(entry):
            cleaned = clean_tag(tag)
            if cleaned:
                seen.setdefault(cleaned, None)
    return seen


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags as typed (an entry may hold several: "urgent, demo") cleaned
    (`clean_tag`), blanks and repeats dropped, first seen first; ValueError
    past `MAX_TAGS_PER_CONVERSATION` (counted after the split)."""
    seen = _cleaned(tags)
    if len(seen) > MAX_TAGS_PER_CONVERSATION:
        raise ValueError(
            _("A conversation can have at most {max_tags_per_conversation} tags.").format(
                max_tags_per_conversation=MAX_TAGS_PER_CONVERSATION
            )
        )
    return list(seen)


@dataclass(frozen=True, slots=True)
class Search:
    """What the History's search box asks for: `text` searched in titles and
    messages ("" for none) and `tags` that must all be on a conversation."""

    text: str
    tags: tuple[str, ...]

    @property
    def active(self) -> bool:
        return bool(self.text or self.tags)


def parse_search(query: str | None, tags: Iterable[str] = ()) -> Search:
    """The search box's words split into `tag:name` words and the rest;
    `tags` (the tag filter) join the box's tags. "tag:" alone is ignored."""
    words: list[str] = []
    wanted: list[str] = list(tags)
    for word in (query or "").split():
        if word.lower().startswith(TAG_PREFIX):
            wanted.append(word)
        else:
            words.append(word)
    return Search(" ".join(words), tuple(_cleaned(wanted)))
