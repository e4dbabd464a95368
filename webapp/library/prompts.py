"""The team's prompt library: saved system instructions and starter prompts.

An entry (`LibraryPrompt`) has a name, a system instruction and/or a starter
prompt, default options (language, max words, web search) and, optionally,
the one bot it is for. It is private to its author or shared with the team;
admins pin shared entries to the top of everyone's list.

Who sees what (`PromptLibrary.visible`): a member sees their own entries and
the shared ones, never another member's private entries; only the author
edits, shares or deletes an entry; only an admin pins. "Not yours" and "does
not exist" raise the same `PromptNotFound`, as conversations do.

A starter prompt may hold variables, `{{customer}}`: `template_variables`
names them (in order, once each) and `fill_template` puts the member's values
in when the entry is applied. A variable's name is any text on one line
between double braces (`{{first name}}`, `{{topic?}}`, `{{due.date}}`), at
most `VARIABLE_MAX_CHARS`; every other `{{...}}` (empty, on several lines,
too long, or past `LIBRARY_MAX_VARIABLES`) stays as typed, and saving the
entry names it (`unasked_placeholders`), so nothing is dropped silently. A
new entry may ask for at most `LIBRARY_MAX_VARIABLES` values.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

import sqlalchemy as sa

from webapp.conversations.context import ConversationOptions
from webapp.conversations.options import options_from_stored
from webapp.conversations.store import ConversationStore
from webapp.db.schema import prompts as P
from webapp.limits import LIBRARY_MAX_VARIABLES
from webapp.text import literal as md
from webapp.text.graphemes import cut_graphemes
from webapp.ui.i18n import _, format_number

NAME_MAX_CHARS: Final = 200
VARIABLE_MAX_CHARS: Final = 60
# `{{ name }}`: any characters on one line but braces, not starting or ending
# with a space (those are trimmed), at most VARIABLE_MAX_CHARS.
_MIDDLE: Final = VARIABLE_MAX_CHARS - 2  # between the first and the last character
VARIABLE: Final = re.compile(
    r"\{\{\s*([^{}\s](?:[^{}\r\n]{0," + str(_MIDDLE) + r"}[^{}\s])?)\s*\}\}"
)
# Anything between double braces, a variable or not (for `unasked_placeholders`).
PLACEHOLDER: Final = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_ASKED: Final = "\x00"  # stands for an asked variable while looking for the others


class Author(Protocol):
    """The member acting on the library; `webapp.team.Member` fits."""

    @property
    def username(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


class PromptNotFound(LookupError):
    """No such entry, or one this member may not see or change."""

    def __init__(
        self, message: str = "That library entry does not exist, or is not yours."
    ) -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class LibraryPrompt:
    """One library entry as stored."""

    id: str
    owner: str  # the author's username
    name: str
    system_instruction: str  # '' when none
    starter_prompt: str  # '' when none
    options: ConversationOptions  # language, max_words, use_search (system is above)
    bot_slug: str | None  # None: for any bot
    shared: bool
    pinned: bool
    created_at: datetime
    updated_at: datetime

    @property
    def variables(self) -> list[str]:
        """The starter prompt's `{{variables}}` asked for when it is started, in
        order of first use: at most `LIBRARY_MAX_VARIABLES` (an entry stored
        before the cap keeps the rest as typed)."""
        return template_variables(self.starter_prompt)[:LIBRARY_MAX_VARIABLES]

    @property
    def unasked(self) -> list[str]:
        """The starter's `{{...}}` that stay as typed (`unasked_placeholders`)."""
        return unasked_placeholders(self.starter_prompt)


def template_variables(text: str) -> list[str]:
    """The distinct `{{name}}` variables of `text`, in order of first use.

    >>> template_variables("Hi {{customer}}, about {{ product }} for {{customer}}")
    ['customer', 'product']
    """
    seen: dict[str, None] = {}
    for match in VARIABLE.finditer(text):
        seen.setdefault(match.group(1).strip(), None)
    return list(seen)


def unasked_placeholders(text: str, limit: int = LIBRARY_MAX_VARIABLES) -> list[str]:
    """Every `{{...}}` of `text` that is not asked for, as typed, once each, in
    order: not a variable (`{{}}`, several lines, too long) or a variable past
    the first `limit`.

    >>> unasked_placeholders("Hi {{name}} {{}} {{ }}")
    ['{{}}', '{{ }}']
    """
    asked = set(template_variables(text)[:limit])

    def hide_asked(match: re.Match[str]) -> str:
        # Out of the way first, so `{{{x}}}` or `{{ a {{x}} }}` is not taken for a stray pair.
        return _ASKED if match.group(1).strip() in asked else match.group(0)

    rest = VARIABLE.sub(hide_asked, text)
    found: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(rest):
        found.setdefault(match.group(0).replace(_ASKED, "…"), None)
    return list(found)


def unasked_note(text: str, shown: int = 10) -> str | None:
    """The plain sentence naming the placeholders of `text` that stay as
    typed (at most `shown` of them, then how many more), or None when every
    `{{...}}` is asked for. Markdown-safe: each is shown literally."""
    unasked = unasked_placeholders(text)
    if not unasked:
        return None
    names = ", ".join(f"“{md.escape(cut_graphemes(p, 80))}”" for p in unasked[:shown])
    more = f" and {len(unasked) - shown:,} more" if len(unasked) > shown else ""
    return f"These will stay as typed (not asked for): {names}{more}."


def fill_template(text: str, values: Mapping[str, str]) -> str:
    """`text` with each `{{name}}` replaced by `values[name]`, as given (no
    Markdown or template meaning is read into the value); a variable with no
    value stays as written, so nothing typed is lost."""

    def put(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        return values[name] if name in values else match.group(0)

    return VARIABLE.sub(put, text)


def entry_options(entry: LibraryPrompt) -> ConversationOptions:
    """The conversation options an entry sets when applied: its defaults and
    its system instruction, and the entry's id so the conversation remembers
    where it came from."""
    return entry.options.model_copy(
        update={
            "system_instruction": entry.system_instruction or None,
            "library_prompt_id": entry.id,
        }
    )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError(_("A library entry needs a name."))
    return cut_graphemes(cleaned, NAME_MAX_CHARS)  # whole characters only


class PromptLibrary:
    """The library's entries in the conversation store's database (shared by
    every app process). Thread-safe like the store it wraps."""

    def __init__(self, store: ConversationStore) -> None:
        self._store = store

    @staticmethod
    def _to_entry(row: Mapping[Any, Any]) -> LibraryPrompt:
        return LibraryPrompt(
            id=row["id"],
            owner=row["owner"],
            name=row["name"],
            system_instruction=row["system_instruction"],
            starter_prompt=row["starter_prompt"],
            # Never a crash on a stored option outside today's limits (it falls back).
            options=options_from_stored(row["options"])[0],
            bot_slug=row["bot_slug"],
            shared=bool(row["shared"]),
            pinned=bool(row["pinned"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    def create(
        self,
        author: Author,
        name: str,
        *,
        system_instruction: str = "",
        starter_prompt: str = "",
        options: ConversationOptions | None = None,
        bot_slug: str | None = None,
        shared: bool = False,
    ) -> LibraryPrompt:
        """A new entry by `author`. ValueError without a name, or with neither
        a system instruction nor a starter prompt."""
        if not system_instruction.strip() and not starter_prompt.strip():
            raise ValueError(_("Give the entry a system instruction, a starter prompt, or both."))
        variables = template_variables(starter_prompt)
        if len(variables) > LIBRARY_MAX_VARIABLES:
            raise ValueError(
                _(
                    "A starter prompt can ask for at most {library_max_variables} "
                    "values in {{{{double braces}}}}; this one asks for {variables}. "
                    "Write the rest out, or split it into several entries."
                ).format(
                    library_max_variables=LIBRARY_MAX_VARIABLES,
                    variables=format_number(len(variables)),
                )
            )
        defaults = (options or ConversationOptions()).model_copy(
            update={"system_instruction": None, "library_prompt_id": None}
        )
        now = self._store.now()
        values: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "owner": author.username,
            "name": _clean_name(name),
            "system_instruction": system_instruction.strip(),
            "starter_prompt": starter_prompt.strip(),
            "options": defaults.model_dump_json(),
            "bot_slug": bot_slug or None,
            "shared": shared,
            "pinned": False,
            "created_at": now,
            "updated_at": now,
        }
        with self._store.transaction(write=True) as conn:
            conn.execute(sa.insert(P).values(**values))
        return self._to_entry(values)

    def visible(self, member: Author, query: str = "") -> list[LibraryPrompt]:
        """The entries `member` may apply: their own and the team's shared
        ones, pinned first, then by name; `query` filters names, instructions
        and starter prompts (case-insensitive)."""
        stmt = sa.select(P).where(sa.or_(P.c.owner == member.username, P.c.shared.is_(True)))
        entries = [self._to_entry(r) for r in self._rows(stmt)]
        needle = query.strip().casefold()
        if needle:
            entries = [
                e
                for e in entries
                if needle in f"{e.name}\n{e.system_instruction}\n{e.starter_prompt}".casefold()
            ]
        return sorted(entries, key=lambda e: (not e.pinned, e.name.casefold(), e.id))

    def get(self, member: Author, entry_id: str) -> LibraryPrompt:
        """One entry `member` may see, or PromptNotFound."""
        stmt = sa.select(P).where(
            P.c.id == entry_id, sa.or_(P.c.owner == member.username, P.c.shared.is_(True))
        )
        rows = self._rows(stmt)
        if not rows:
            raise PromptNotFound()
        return self._to_entry(rows[0])

    def set_shared(self, author: Author, entry_id: str, shared: bool) -> LibraryPrompt:
        """Share an own entry with the team, or make it private again (which
        also unpins it)."""
        changes: dict[str, Any] = {"shared": shared}
        if not shared:
            changes["pinned"] = False
        return self._update(P.c.owner == author.username, entry_id, changes)

    def set_pinned(self, admin: Author, entry_id: str, pinned: bool) -> LibraryPrompt:
        """Pin a shared entry to the top of everyone's list (admins only)."""
        if not admin.is_admin:
            raise PermissionError(_("Only an admin can pin library entries."))
        return self._update(P.c.shared.is_(True), entry_id, {"pinned": pinned})

    def delete(self, author: Author, entry_id: str) -> None:
        """Delete an own entry (conversations that used it keep their options)."""
        with self._store.transaction(write=True) as conn:
            done = conn.execute(
                sa.delete(P).where(P.c.id == entry_id, P.c.owner == author.username)
            )
            if done.rowcount != 1:
                raise PromptNotFound()

    def _update(
        self, allowed: sa.ColumnElement[bool], entry_id: str, changes: dict[str, Any]
    ) -> LibraryPrompt:
        with self._store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(P)
                .where(P.c.id == entry_id, allowed)
                .values(**changes, updated_at=self._store.now())
            )
            if done.rowcount != 1:
                raise PromptNotFound()
            row = conn.execute(sa.select(P).where(P.c.id == entry_id)).mappings().one()
        return self._to_entry(row)

    def _rows(self, stmt: sa.Select[Any]) -> Sequence[Mapping[Any, Any]]:
        with self._store.transaction() as conn:
            return conn.execute(stmt).mappings().all()
