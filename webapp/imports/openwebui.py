"""Open WebUI's chat export (JSON, from its Settings → Chats → Export chats, or a
chat's own Download → Export chat).

The shape, as observed: a JSON array (or one object) of chats, each
`{"id", "title", "chat": {...}, "created_at", "updated_at"}` (Unix seconds),
where `chat.history.messages` maps a message id to `{"id", "parentId",
"childrenIds", "role", "content", "timestamp", "model", "files"}` and
`chat.history.currentId` is the message shown last; `chat.models` lists the
models chosen. Attached files and images become a placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webapp.imports.model import ParsedConversation, Skip, Source
from webapp.imports.tree import Node, Turn, build, is_sequence, unix_time


def _history(item: Any) -> Mapping[str, Any] | None:
    chat = item.get("chat") if isinstance(item, Mapping) else None
    history = chat.get("history") if isinstance(chat, Mapping) else None
    if isinstance(history, Mapping) and isinstance(history.get("messages"), Mapping):
        return history
    return None


def is_export(data: Any) -> bool:
    """True for an Open WebUI chat (`chat.history.messages`) or a list of them."""
    first = data[0] if is_sequence(data) and data else data
    return _history(first) is not None


def conversations(data: Any) -> list[Any]:
    """The chats of an export (a list, or one chat alone)."""
    return list(data) if is_sequence(data) else [data]


def _turn(message: Mapping[str, Any]) -> Turn | None:
    role = message.get("role")
    if role not in ("user", "assistant"):
        return None
    content = message.get("content")
    text = content if isinstance(content, str) else ""
    files = message.get("files")
    if is_sequence(files):
        for item in files:
            kind = item.get("type") if isinstance(item, Mapping) else None
            text += "\n\n[Image not imported]" if kind == "image" else "\n\n[File not imported]"
    if not text.strip():
        return None
    model = message.get("model") or message.get("modelName")
    return Turn(
        role=str(role),
        text=text.strip("\n"),
        created=unix_time(message.get("timestamp")),
        model=str(model)[:100] if isinstance(model, str) and model else None,
    )


def parse(item: Any, notes: list[str]) -> ParsedConversation:
    """One Open WebUI chat; `Skip` when it cannot be imported."""
    history = _history(item)
    if history is None:
        raise Skip("it is not an Open WebUI chat (no chat.history.messages)")
    chat = item["chat"]
    nodes: dict[str, Node] = {}
    for key, message in history["messages"].items():
        if not isinstance(message, Mapping):
            continue
        parent = message.get("parentId")
        children = message.get("childrenIds")
        nodes[str(key)] = Node(
            id=str(key),
            parent=str(parent) if isinstance(parent, str | int) else None,
            children=[str(c) for c in children if isinstance(c, str | int)]
            if is_sequence(children)
            else [],
            turn=_turn(message),
        )
    current = history.get("currentId")
    conversation, model = build(
        nodes,
        str(current) if isinstance(current, str | int) else None,
        title=item.get("title") or chat.get("title"),
        created=unix_time(item.get("created_at")) or unix_time(chat.get("timestamp")),
        updated=unix_time(item.get("updated_at")),
        notes=notes,
    )
    models = chat.get("models")
    if model is None and is_sequence(models) and models and isinstance(models[0], str):
        model = models[0][:100]
    return ParsedConversation(Source.OPENWEBUI, conversation, model)
