"""A message tree from another app, made into the product's shown path and versions.

ChatGPT, Open WebUI and LibreChat all keep a conversation as a tree (each
message names its parent; an edited prompt or a regenerated answer is a
sibling). The product keeps one *shown* path plus the other versions, each
tied to the message before it (`webapp.conversations.store.branches`), which
holds any tree. `build` does the shaping once for every format:

- nodes with no `Turn` (system, hidden, tool messages) are left out and their
  children hang from the nearest shown ancestor;
- a turn whose parent has the same role and no other child is joined to it
  (an answer split around a hidden tool call reads as one answer);
- the shown path is the branch ending at `current` (the source's own choice),
  or at the newest leaf when `current` is missing, with a note;
- a parent that is missing makes its child a first message; a child listed
  but missing is ignored; parent links that loop leave that loop out, noted;
- a time that is missing or out of range (`valid_time`) takes the one before it.

Raises `Skip` for what the product cannot hold (too many messages, one too long).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeGuard

from pydantic import ValidationError

from webapp.conversations.model import make_title
from webapp.conversations.transcripts import (
    ImportedConversation,
    ImportedConversationInfo,
    ImportedMessage,
    ImportedVersion,
)
from webapp.imports.model import MAX_MESSAGE_CHARS, MAX_MESSAGES, Skip
from webapp.ui.i18n import N_

_SURROGATE: Final = re.compile("[\ud800-\udfff]")
EARLIEST: Final = datetime(1990, 1, 1, tzinfo=UTC)  # before any chat app existed
PLACEHOLDER_BOT: Final = "imported"  # replaced by the member's chosen bot when written
FALLBACK_TITLE: Final = N_("Imported conversation")


@dataclass(frozen=True, slots=True)
class Turn:
    """What a node shows: its role, its text (placeholders included), its time
    (None: unknown or out of range) and the model that wrote it."""

    role: str  # "user" or "assistant"
    text: str
    created: datetime | None = None
    model: str | None = None


@dataclass(slots=True)
class Node:
    """One node of a source tree: `parent` as the file says (None: a root),
    `children` in the file's order (only for sibling order), `turn` None when
    the node is not shown."""

    id: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    turn: Turn | None = None


@dataclass(slots=True)
class _Unit:
    """A shown message after joining: the ids it covers, its text and children."""

    id: str
    role: str
    texts: list[str]
    created: datetime | None
    model: str | None
    parent: str | None = None
    children: list[str] = field(default_factory=list)


def to_number(value: Any) -> float | None:
    """A number from a number or a numeric string ("1700000000.5"); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and 0 < len(value) <= 40:
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if number == number and abs(number) != float("inf") else None


def valid_time(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """`value` when it is plausible for a chat (1990 to a day from now), else None."""
    if value is None:
        return None
    latest = (now or datetime.now(UTC)) + timedelta(days=1)
    return value if EARLIEST <= value <= latest else None


def unix_time(value: Any) -> datetime | None:
    """Unix seconds (fractions kept; milliseconds when the figure is that large)
    as an aware UTC time; None when absent, not a number, or out of range."""
    number = to_number(value)
    if number is None:
        return None
    if abs(number) > 1e11:  # JavaScript's milliseconds (Open WebUI's chat stamps)
        number /= 1000
    try:
        return valid_time(datetime.fromtimestamp(number, UTC))
    except (OverflowError, OSError, ValueError):
        return None


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 string ("2024-05-01T10:00:00.000Z") as an aware UTC time, else None."""
    if not isinstance(value, str) or not 0 < len(value) <= 40:
        return unix_time(value)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        return valid_time(parsed.astimezone(UTC))
    except (OverflowError, ValueError):
        return None


def storable(text: str) -> str:
    """Text every database keeps: NUL and lone surrogates become U+FFFD."""
    text = text.replace("\x00", "\ufffd")
    return _SURROGATE.sub("\ufffd", text)


def _ok_nodes(nodes: Mapping[str, Node], notes: list[str]) -> set[str]:
    """The ids whose parent links reach a root without looping."""
    state: dict[str, bool] = {}
    for start in nodes:
        path: list[str] = []
        on_path: set[str] = set()
        at: str | None = start
        result = True
        while at is not None and at in nodes:
            if at in state:
                result = state[at]
                break
            if at in on_path:
                result = False
                break
            path.append(at)
            on_path.add(at)
            at = nodes[at].parent
        for seen in path:
            state[seen] = result
    bad = sum(1 for ok in state.values() if not ok)
    if bad:
        notes.append(f"{bad} message{'s' if bad > 1 else ''} in a loop of parent links left out")
    return {key for key, ok in state.items() if ok}


def _shown_parent(nodes: Mapping[str, Node], ok: set[str], key: str) -> str | None:
    at = nodes[key].parent
    while at is not None and at in ok and nodes[at].turn is None:
        at = nodes[at].parent
    return at if at is not None and at in ok else None


def _units(nodes: Mapping[str, Node], notes: list[str]) -> tuple[dict[str, _Unit], dict[str, str]]:
    """The shown messages after joining, and each node id -> its unit's id."""
    ok = _ok_nodes(nodes, notes)
    missing = sum(1 for n in nodes.values() for c in n.children if c not in nodes)
    if missing:
        notes.append(f"{missing} link{'s' if missing > 1 else ''} to missing messages ignored")
    rank = {key: i for i, key in enumerate(nodes)}
    listed: dict[str, int] = {}  # a parent's own child list orders its children
    for node in nodes.values():
        for i, child in enumerate(node.children):
            listed.setdefault(child, i)
    shown = [k for k in nodes if k in ok and nodes[k].turn is not None]
    kids: dict[str | None, list[str]] = {}
    for key in shown:
        kids.setdefault(_shown_parent(nodes, ok, key), []).append(key)

    def when(key: str) -> tuple[float, int, int]:
        turn = nodes[key].turn
        stamp = turn.created.timestamp() if turn and turn.created else float("-inf")
        return (stamp, listed.get(key, 0), rank[key])

    for siblings in kids.values():
        siblings.sort(key=when)
    units: dict[str, _Unit] = {}
    owner: dict[str, str] = {}
    stack: list[tuple[str, str | None]] = [(k, None) for k in reversed(kids.get(None, []))]
    while stack:
        key, parent = stack.pop()
        turn = nodes[key].turn
        assert turn is not None
        unit = _Unit(key, turn.role, [turn.text], turn.created, turn.model, parent)
        owner[key] = key
        last = key
        while len(kids.get(last, [])) == 1:  # join a same-role only child
            child = kids[last][0]
            child_turn = nodes[child].turn
            assert child_turn is not None
            if child_turn.role != unit.role:
                break
            unit.texts.append(child_turn.text)
            unit.model = child_turn.model or unit.model
            owner[child] = key
            last = child
        units[key] = unit
        unit.children = list(kids.get(last, []))
        stack.extend((c, key) for c in reversed(unit.children))
    return units, owner


def _path(
    nodes: Mapping[str, Node], units: dict[str, _Unit], owner: dict[str, str], current: str | None
) -> tuple[list[str], bool]:
    """The unit ids from the first message to `current`'s; False when `current`
    was unusable and the newest leaf was taken instead."""
    end: str | None = None
    at = current
    seen: set[str] = set()
    while at is not None and at in nodes and at not in seen:  # hidden current: its shown ancestor
        seen.add(at)
        if at in owner:
            end = owner[at]
            break
        at = nodes[at].parent
    found = end is not None
    if end is None:
        leaves = [u for u in units.values() if not u.children]
        if not leaves:
            return [], True
        end = max(leaves, key=lambda u: u.created.timestamp() if u.created else float("-inf")).id
    path = [end]
    while (up := units[path[-1]].parent) is not None:
        path.append(up)
    return path[::-1], found


def build(
    nodes: Mapping[str, Node],
    current: str | None,
    *,
    title: Any,
    created: datetime | None,
    updated: datetime | None,
    notes: list[str],
) -> tuple[ImportedConversation, str | None]:
    """The product's conversation from a source tree, and the model of its last
    answer on the shown path (None: not recorded). `notes` gets what was changed.

    Raises `Skip` when nothing is left to show, past `MAX_MESSAGES`, or with a
    message longer than `MAX_MESSAGE_CHARS`."""
    units, owner = _units(nodes, notes)
    if not units:
        raise Skip("it has no messages to show")
    if len(units) > MAX_MESSAGES:
        raise Skip(f"it has {len(units):,} messages (at most {MAX_MESSAGES:,})")
    path, found = _path(nodes, units, owner, current)
    if not found and current is not None:
        notes.append("the selected message was missing: the newest branch is shown")
    on_path = {key: i for i, key in enumerate(path)}
    fallback = created or updated or datetime.now(UTC)
    times: dict[str, datetime] = {}
    texts: dict[str, str] = {}
    for unit in units.values():  # parents come before children in `units`
        text = storable("\n\n".join(t for t in unit.texts if t))
        if len(text) > MAX_MESSAGE_CHARS:
            raise Skip(f"one message has {len(text):,} characters (at most {MAX_MESSAGE_CHARS:,})")
        texts[unit.id] = text
        times[unit.id] = unit.created or (times[unit.parent] if unit.parent else fallback)
    messages = [
        ImportedMessage(role=units[k].role, text=texts[k], created_at=times[k]) for k in path
    ]
    keys = {key: f"n{i}" for i, key in enumerate(units)}
    versions = []
    for unit in units.values():
        if unit.id in on_path:
            continue
        parent_ref: int | str | None = None
        if unit.parent is not None:
            parent_ref = on_path.get(unit.parent, keys[unit.parent])
        siblings = units[unit.parent].children if unit.parent else []
        versions.append(
            ImportedVersion(
                key=keys[unit.id],
                parent=parent_ref,
                # Off the path, the newest child comes back with its parent.
                selected=unit.parent not in on_path and bool(siblings) and siblings[-1] == unit.id,
                role=unit.role,
                text=texts[unit.id],
                created_at=times[unit.id],
            )
        )
    first_prompt = next((texts[k] for k in path if units[k].role == "user"), "")
    name = title.strip() if isinstance(title, str) and title.strip() else ""
    name = storable(name or (make_title(first_prompt) if first_prompt.strip() else FALLBACK_TITLE))
    try:
        conversation = ImportedConversation(
            format="ablt-chat-conversation",
            version=1,
            conversation=ImportedConversationInfo(
                title=name[:200],
                bot_slug=PLACEHOLDER_BOT,
                created_at=created or times[path[0]],
                updated_at=max([updated or fallback, *times.values()]),
            ),
            messages=messages,
            versions=versions,
        )
    except ValidationError as err:
        raise Skip(f"it does not fit this app ({err.errors()[0]['msg']})") from err
    model = next((units[k].model for k in reversed(path) if units[k].model), None)
    return conversation, model


def is_sequence(value: Any) -> TypeGuard[list[Any]]:
    """A JSON array (a list or tuple), not a string."""
    return isinstance(value, list | tuple)
