"""ChatGPT's data export (`conversations.json`, alone or in its .zip).

The shape, as observed in exports (ChatGPT: Settings → Data controls → Export
data): a JSON array of conversations, each with `title`, `create_time` and
`update_time` (Unix seconds with fractions), `current_node` (the message shown
last) and `mapping`: node id -> `{"id", "message", "parent", "children"}`.
A node's `message` (null for the root) has `author.role` (user, assistant,
system, tool), `create_time`, `content` (`content_type` and `parts`, or a
type's own fields) and `metadata` (`model_slug`, `is_visually_hidden_from_conversation`,
`attachments`).

What is shown: user and assistant text. System messages, hidden ones,
`model_editable_context` / `user_editable_context`, reasoning (`thoughts`,
`reasoning_recap`) and the tool's plain text are left out; images, files,
Code Interpreter's code and output, web quotes (`tether_quote`) and voice
become a short placeholder (a voice message keeps its transcript).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from webapp.imports.model import ParsedConversation, Skip, Source
from webapp.imports.tree import Node, Turn, build, is_sequence, unix_time
from webapp.text import literal
from webapp.ui.i18n import N_

HIDDEN_TYPES: Final = frozenset(
    {
        "model_editable_context",
        "user_editable_context",
        "thoughts",
        "reasoning_recap",
        "system_error",
        "tether_browsing_display",
    }
)
IMAGE: Final = N_("[Image not imported]")
CODE: Final = N_("[Code run by Code Interpreter not imported]")
CODE_OUTPUT: Final = N_("[Code Interpreter output not imported]")
VOICE: Final = N_("[Voice message]")
AUDIO: Final = N_("[Audio not imported]")
_TYPE_NAME = re.compile(r"[a-z_]{1,40}")


def is_export(data: Any) -> bool:
    """True for a ChatGPT conversation (a dict with `mapping`) or a list of them."""
    first = data[0] if is_sequence(data) and data else data
    return isinstance(first, Mapping) and isinstance(first.get("mapping"), Mapping)


def conversations(data: Any) -> list[Any]:
    """The conversations of an export (a list, or one conversation alone)."""
    return list(data) if is_sequence(data) else [data]


def _name(value: Any, limit: int = 80) -> str:
    """A file or page name from the export, literal in Markdown, one line."""
    return literal.escape(str(value))[:limit] if value else ""


def _part(part: Any) -> str:
    """One element of `content.parts` as text or a placeholder."""
    if isinstance(part, str):
        return part
    if isinstance(part, int | float) and not isinstance(part, bool):
        return str(part)
    if not isinstance(part, Mapping):
        return ""
    kind = part.get("content_type")
    if kind == "audio_transcription":
        text = part.get("text")
        return f"{VOICE} {text}" if isinstance(text, str) and text.strip() else VOICE
    if kind in ("audio_asset_pointer", "real_time_user_audio_video_asset_pointer"):
        return ""  # the recording itself; its transcript is a part of its own
    if kind == "image_asset_pointer":
        return IMAGE
    shown = kind if isinstance(kind, str) and _TYPE_NAME.fullmatch(kind) else "unknown"
    return f"[{shown.replace('_', ' ')} not imported]"


def _content_text(content: Mapping[str, Any]) -> str:
    kind = content.get("content_type")
    if kind == "code":
        return CODE
    if kind == "execution_output":
        return CODE_OUTPUT
    if kind == "tether_quote":
        title = _name(content.get("title")) or _name(content.get("domain"))
        return f"[Quote from {title} not imported]" if title else "[Web quote not imported]"
    parts = content.get("parts")
    if parts is None and isinstance(content.get("text"), str):
        return str(content["text"])
    if not is_sequence(parts):
        return ""
    texts = [_part(p) for p in parts]
    return "\n\n".join(t for t in texts if t)


def _turn(message: Any) -> Turn | None:
    """What a node shows, or None when it is not shown as chat."""
    if not isinstance(message, Mapping):
        return None
    author = message.get("author")
    role = author.get("role") if isinstance(author, Mapping) else None
    meta = message.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    content = message.get("content")
    content = content if isinstance(content, Mapping) else {}
    kind = content.get("content_type")
    if meta.get("is_visually_hidden_from_conversation") or kind in HIDDEN_TYPES:
        return None
    if role == "tool":
        # A tool's own text is for the model; what it made (an image, code
        # output, a quote) is shown as a placeholder in the answer.
        if kind in ("code", "execution_output", "tether_quote"):
            text = _content_text(content)
        elif kind == "multimodal_text":
            text = _content_text(content) and IMAGE
        else:
            return None
        role = "assistant"
    elif role not in ("user", "assistant"):
        return None
    elif role == "assistant" and message.get("recipient") not in (None, "all", "python"):
        return None  # a call to a tool (search, DALL·E, a plugin): its result speaks
    else:
        text = _content_text(content)
    files = meta.get("attachments")
    if is_sequence(files):
        for item in files:
            name = _name(item.get("name")) if isinstance(item, Mapping) else ""
            text += f"\n\n[File {name} not imported]" if name else "\n\n[File not imported]"
    text = text.strip("\n")
    if not text.strip():
        return None
    model = meta.get("model_slug")
    return Turn(
        role=role,
        text=text,
        created=unix_time(message.get("create_time")),
        model=str(model)[:100] if isinstance(model, str) and model else None,
    )


def parse(item: Any, notes: list[str]) -> ParsedConversation:
    """One ChatGPT conversation; `Skip` when it cannot be imported."""
    if not isinstance(item, Mapping) or not isinstance(item.get("mapping"), Mapping):
        raise Skip("it is not a ChatGPT conversation (no message tree)")
    nodes: dict[str, Node] = {}
    for key, raw in item["mapping"].items():
        if not isinstance(raw, Mapping):
            continue
        parent = raw.get("parent")
        children = raw.get("children")
        nodes[str(key)] = Node(
            id=str(key),
            parent=str(parent) if isinstance(parent, str | int) else None,
            children=[str(c) for c in children if isinstance(c, str | int)]
            if is_sequence(children)
            else [],
            turn=_turn(raw.get("message")),
        )
    current = item.get("current_node")
    conversation, model = build(
        nodes,
        str(current) if isinstance(current, str | int) else None,
        title=item.get("title"),
        created=unix_time(item.get("create_time")),
        updated=unix_time(item.get("update_time")),
        notes=notes,
    )
    default = item.get("default_model_slug")
    if model is None and isinstance(default, str) and default:
        model = default[:100]
    return ParsedConversation(Source.CHATGPT, conversation, model)
