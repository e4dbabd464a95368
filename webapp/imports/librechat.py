"""LibreChat's conversation export (JSON, from a conversation's Export → JSON).

The shape, as observed: `{"conversationId", "title", "endpoint", "branches",
"recursive", "messages": [...]}`. Each message has `messageId`,
`parentMessageId` (all zeros for the first), `isCreatedByUser`, `sender`
("User", or the model or assistant's label), `text` (or `content`, a list of
parts `{"type": "text", "text": ...}`), `model`, `createdAt` (ISO 8601) and,
in a recursive export, its `children` nested inside it. LibreChat keeps no
"current message": the newest leaf is the one shown, its siblings are versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.imports.model import ParsedConversation, Skip, Source
from webapp.imports.tree import Node, Turn, build, is_sequence, iso_time

ROOT_PARENT = "00000000-0000-0000-0000-000000000000"
_MAX_DEPTH = 10_000  # a recursive export nested deeper than any conversation


def is_export(data: Any) -> bool:
    """True for a LibreChat export: `messages` whose first has a `messageId`."""
    if not isinstance(data, Mapping) or not is_sequence(data.get("messages")):
        return False
    first = data["messages"][0] if data["messages"] else None
    return isinstance(first, Mapping) and "messageId" in first


def conversations(data: Any) -> list[Any]:
    """A LibreChat file holds one conversation."""
    return [data]


def _text(message: Mapping[str, Any]) -> str:
    text = message.get("text")
    if isinstance(text, str) and text:
        return text
    parts = message.get("content")
    out: list[str] = []
    if is_sequence(parts):
        for part in parts:
            if not isinstance(part, Mapping):
                continue
            kind = part.get("type")
            value = part.get("text")
            if isinstance(value, Mapping):  # the assistants' form: {"value": ...}
                value = value.get("value")
            if kind == "text" and isinstance(value, str):
                out.append(value)
            elif kind in ("image_file", "image_url"):
                out.append("[Image not imported]")
            elif kind == "tool_call":
                out.append("[Tool call not imported]")
    return "\n\n".join(out)


def _flatten(messages: list[Any]) -> list[Mapping[str, Any]]:
    """All messages, the nested `children` of a recursive export included."""
    out: list[Mapping[str, Any]] = []
    stack: list[tuple[Any, int]] = [(m, 0) for m in reversed(messages)]
    while stack:
        message, depth = stack.pop()
        if not isinstance(message, Mapping) or depth > _MAX_DEPTH:
            continue
        out.append(message)
        children = message.get("children")
        if is_sequence(children):
            stack.extend((c, depth + 1) for c in reversed(children) if isinstance(c, Mapping))
    return out


def parse(item: Any, notes: list[str]) -> ParsedConversation:
    """One LibreChat conversation; `Skip` when it cannot be imported."""
    if not is_export(item):
        raise Skip("it is not a LibreChat export (no messages with a messageId)")
    nodes: dict[str, Node] = {}
    for message in _flatten(list(item["messages"])):
        key = message.get("messageId")
        if not isinstance(key, str | int):
            continue
        parent = message.get("parentMessageId")
        text = _text(message).strip("\n")
        by_user = message.get("isCreatedByUser") is True
        model = message.get("model") or (None if by_user else message.get("sender"))
        nodes[str(key)] = Node(
            id=str(key),
            parent=str(parent) if isinstance(parent, str | int) and parent != ROOT_PARENT else None,
            turn=Turn(
                role="user" if by_user else "assistant",
                text=text,
                created=iso_time(message.get("createdAt")),
                model=str(model)[:100] if isinstance(model, str) and model else None,
            )
            if text.strip()
            else None,
        )
    conversation, model = build(
        nodes,
        None,
        title=item.get("title"),
        created=iso_time(item.get("createdAt")),
        updated=iso_time(item.get("updatedAt")),
        notes=notes,
    )
    return ParsedConversation(Source.LIBRECHAT, conversation, model)
