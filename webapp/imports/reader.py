"""An uploaded file, whatever it is, as an `ImportPlan`: never an exception.

`read_upload(name, data)` recognises the file by its content, not its name:
a zip (read by `safezip`, its JSON files each recognised in turn), ChatGPT's
`conversations.json`, an Open WebUI export, a LibreChat export, or this app's
own JSON export. Whatever cannot be imported is named in `plan.skipped` with a
plain reason; nothing here writes anything.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from typing import Any, Final

from webapp.conversations.model import EXPORT_FORMAT
from webapp.conversations.transcripts import ConversationImportError, parse_import
from webapp.imports import chatgpt, librechat, openwebui, safezip
from webapp.imports.model import (
    MAX_CONVERSATIONS,
    MAX_MESSAGES,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_MB,
    ImportPlan,
    ParsedConversation,
    Skip,
    Skipped,
    Source,
)
from webapp.ui.i18n import N_, _

log = logging.getLogger(__name__)

UNKNOWN = N_(
    "it is not an export this app reads (ChatGPT, Open WebUI, "
    "LibreChat or aBLT Chat JSON, or a zip of them)"
)
Parser = Callable[[Any, list[str]], ParsedConversation]
# Nesting read past Python's usual limit: a recursive LibreChat export of the
# longest conversation kept (two levels a message), with room to spare.
DEEP_JSON_LEVELS: Final = 2 * MAX_MESSAGES + 1_000
DEEP_STACK_BYTES: Final = 256 * 1024 * 1024  # reserved, not used, past what is touched
_DEEP_LOCK = threading.Lock()


def _reject_constant(name: str) -> Any:
    raise ValueError(_("{name} is not a JSON number").format(name=name))


def _loads_deep(text: str) -> Any:
    """`json.loads` for nesting past Python's recursion limit, up to
    `DEEP_JSON_LEVELS`: on a thread of its own with a large stack (C frames),
    the limit raised only meanwhile (one at a time: the limit is process-wide).
    LibreChat's recursive export nests two levels per message."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(old + DEEP_JSON_LEVELS)
        try:
            outcome["value"] = json.loads(text, parse_constant=_reject_constant)
        except BaseException as err:  # handed to the caller's thread
            outcome["error"] = err
        finally:
            sys.setrecursionlimit(old)

    with _DEEP_LOCK:
        previous = threading.stack_size(DEEP_STACK_BYTES)
        try:
            worker = threading.Thread(target=work, name="import-json", daemon=True)
            worker.start()
        finally:
            threading.stack_size(previous)
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def decode_json(data: bytes) -> Any:
    """JSON from bytes (UTF-8, a BOM allowed); `Skip` with the reason otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise Skip("it is not UTF-8 text") from err
    if not text.strip():
        raise Skip("it is empty")
    try:
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            return _loads_deep(text)
    except json.JSONDecodeError as err:
        raise Skip(f"it is not valid JSON (line {err.lineno}, column {err.colno})") from err
    except RecursionError as err:
        raise Skip("it is nested too deeply") from err
    except ValueError as err:  # NaN, Infinity, integers too long to read
        raise Skip("it is not valid JSON") from err


def _label(item: Any, label: str, index: int) -> str:
    title = None
    if isinstance(item, dict):
        title = item.get("title")
        if title is None and isinstance(item.get("conversation"), dict):
            title = item["conversation"].get("title")
    if isinstance(title, str) and title.strip():
        return " ".join(title.split())[:80]
    return f"{label}, conversation {index + 1}"


def _add_all(plan: ImportPlan, label: str, items: list[Any], parser: Parser) -> None:
    room = MAX_CONVERSATIONS - len(plan.conversations)
    if len(items) > room:
        over = len(items) - max(room, 0)
        plan.skipped.append(
            Skipped(
                f"{over:,} conversation{'s' if over > 1 else ''} of {label}",
                f"an import takes at most {MAX_CONVERSATIONS:,} conversations",
                count=over,
            )
        )
        items = items[: max(room, 0)]
    for index, item in enumerate(items):
        notes: list[str] = []
        what = _label(item, label, index)
        try:
            plan.conversations.append(parser(item, notes))
        except Skip as err:
            plan.skipped.append(Skipped(what, str(err)))
            continue
        except RecursionError:
            plan.skipped.append(Skipped(what, "it is nested too deeply"))
            continue
        except Exception as err:  # the promise: a plain line, never a crash
            log.warning("Import: a conversation refused on an unexpected %s", type(err).__name__)
            plan.skipped.append(Skipped(what, "it could not be read"))
            continue
        plan.notes.extend(f"“{what}”: {note}." for note in notes)


def _own(item: Any, _notes: list[str]) -> ParsedConversation:
    try:
        return ParsedConversation(Source.ABLT, parse_import(item))
    except ConversationImportError as err:
        raise Skip(str(err).rstrip(".")) from err


def add_document(plan: ImportPlan, label: str, data: Any, *, in_zip: bool = False) -> None:
    """Recognise one JSON document by its content and add what it holds to `plan`."""
    if isinstance(data, dict) and data.get("format") == EXPORT_FORMAT:
        _add_all(plan, label, [data], _own)
    elif chatgpt.is_export(data):
        _add_all(plan, label, chatgpt.conversations(data), chatgpt.parse)
    elif openwebui.is_export(data):
        _add_all(plan, label, openwebui.conversations(data), openwebui.parse)
    elif librechat.is_export(data):
        _add_all(plan, label, librechat.conversations(data), librechat.parse)
    elif in_zip:
        plan.notes.append(f"{label}: not a conversation export, ignored.")
    else:
        plan.skipped.append(Skipped(label, UNKNOWN))


def is_foreign(data: Any) -> bool:
    """A JSON document of another app's export (ChatGPT, Open WebUI, LibreChat)."""
    return chatgpt.is_export(data) or openwebui.is_export(data) or librechat.is_export(data)


def foreign_plan(name: str, data: bytes) -> ImportPlan | None:
    """The plan for a zip or another app's export; None for anything else (one
    aBLT Chat export, or a file nobody reads), which the product's own import
    reads and explains as it always has. Never raises."""
    if safezip.is_zip(data) or len(data) > MAX_UPLOAD_BYTES:
        return read_upload(name, data)
    try:
        document = decode_json(data)
    except Skip:
        return None
    if not is_foreign(document):
        return None
    plan = ImportPlan()
    label = " ".join(name.split())[:80] or "the file"
    try:
        add_document(plan, label, document)
    except Exception as err:  # the promise: a plain line, never a crash
        log.warning("Import: a file refused on an unexpected %s", type(err).__name__)
        plan.skipped.append(Skipped(label, "it could not be read"))
    return plan


def read_upload(name: str, data: bytes) -> ImportPlan:
    """What `data` (an uploaded file called `name`) would import. Never raises."""
    plan = ImportPlan()
    label = " ".join(name.split())[:80] or "the file"
    if len(data) > MAX_UPLOAD_BYTES:
        plan.skipped.append(Skipped(label, f"the file is larger than {MAX_UPLOAD_MB} MB"))
        return plan
    try:
        if safezip.is_zip(data):
            for member, content in safezip.json_members(data, plan, label):
                try:
                    add_document(plan, member, decode_json(content), in_zip=True)
                except Skip as err:
                    plan.skipped.append(Skipped(member, str(err)))
        else:
            add_document(plan, label, decode_json(data))
    except Skip as err:
        plan.skipped.append(Skipped(label, str(err)))
    except Exception as err:  # the promise: a plain line, never a crash
        log.warning("Import: a file refused on an unexpected %s", type(err).__name__)
        plan.skipped.append(Skipped(label, "it could not be read"))
    return plan
