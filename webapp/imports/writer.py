"""Writing an import: its row in `imports`, each conversation whole or not at
all, its progress, and "Remove this import".

`ImportStore` keeps the `imports` rows (shared by every process, so a reload
or another tab sees the progress) on the conversation store's database.
`run_import` writes a plan's conversations, each in its own transaction
through `ConversationStore.import_conversation` (a new conversation every
time: an import never overwrites one, and never calls the API), and
`start_import` runs it on a daemon thread. A run whose process died stops
moving its `updated_at`: after `STALE_AFTER` it reads as interrupted, and what
it wrote can still be removed.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from webapp.db import schema
from webapp.db.schema import conversations as C
from webapp.db.schema import imports as I
from webapp.imports.model import UNDO_HOURS, ImportPlan, ParsedConversation
from webapp.ui.i18n import _

if TYPE_CHECKING:
    from webapp.conversations.store import ConversationStore
    from webapp.conversations.store.database import Owner

log = logging.getLogger(__name__)

RUNNING: Final = "running"
DONE: Final = "done"
FAILED: Final = "failed"
REMOVED: Final = "removed"
STALE_AFTER: Final = timedelta(seconds=60)
PROGRESS_EVERY: Final = 0.5  # seconds between progress writes


class ImportNotRemovable(ValueError):
    """The import cannot be removed (any more); the message says why."""


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One import as stored (`webapp.db.schema.imports`)."""

    id: str
    owner: str
    file_name: str
    sources: tuple[str, ...]
    bot_slug: str
    status: str
    total: int
    written: int
    failed: int
    skipped: int
    messages: int
    problem: str | None
    created_at: datetime
    updated_at: datetime
    removed_at: datetime | None

    def is_running(self, now: datetime) -> bool:
        """Still being written by a live worker."""
        return self.status == RUNNING and now - self.updated_at < STALE_AFTER

    def shown_status(self, now: datetime) -> str:
        """running, done, failed, removed, or interrupted (a worker that stopped beating)."""
        if self.status == RUNNING and not self.is_running(now):
            return "interrupted"
        return self.status

    def can_remove(self, now: datetime) -> bool:
        """ "Remove this import" is offered: written, not removed, within the day."""
        return (
            self.status != REMOVED
            and not self.is_running(now)
            and now - self.created_at < timedelta(hours=UNDO_HOURS)
        )


def _record(row: Any) -> ImportRecord:
    return ImportRecord(
        id=row["id"],
        owner=row["owner"],
        file_name=row["file_name"],
        sources=tuple(s for s in row["sources"].split(",") if s),
        bot_slug=row["bot_slug"],
        status=row["status"],
        total=row["total"],
        written=row["written"],
        failed=row["failed"],
        skipped=row["skipped"],
        messages=row["messages"],
        problem=row["problem"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        removed_at=row["removed_at"],
    )


class ImportStore:
    """The `imports` rows, owner-checked, on `store`'s database."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    def begin(self, owner: Owner, file_name: str, plan: ImportPlan, bot_slug: str) -> ImportRecord:
        """A new running import of `plan`'s conversations."""
        now = self.store.now()
        import_id = str(uuid.uuid4())
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.insert(I).values(
                    id=import_id,
                    owner=owner.username,
                    file_name=" ".join(file_name.split())[:200] or "upload",
                    sources=",".join(plan.sources),
                    bot_slug=bot_slug,
                    status=RUNNING,
                    total=len(plan.conversations),
                    written=0,
                    failed=0,
                    skipped=plan.skipped_count,
                    messages=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        return self.get(owner, import_id)

    def get(self, owner: Owner, import_id: str) -> ImportRecord:
        """The owner's import; LookupError when there is none."""
        with self.store.transaction() as conn:
            row = (
                conn.execute(sa.select(I).where(I.c.id == import_id, I.c.owner == owner.username))
                .mappings()
                .first()
            )
        if row is None:
            raise LookupError(_("No such import."))
        return _record(row)

    def recent(self, owner: Owner, *, limit: int = 5) -> list[ImportRecord]:
        """The owner's latest imports, newest first."""
        with self.store.transaction() as conn:
            rows = conn.execute(
                sa.select(I)
                .where(I.c.owner == owner.username)
                .order_by(I.c.created_at.desc())
                .limit(limit)
            ).mappings()
            return [_record(r) for r in rows]

    def progress(
        self, import_id: str, *, written: int, failed: int, messages: int, status: str = RUNNING
    ) -> None:
        """Record how far a run got (and its heartbeat)."""
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.update(I)
                .where(I.c.id == import_id, I.c.status == RUNNING)
                .values(
                    written=written,
                    failed=failed,
                    messages=messages,
                    status=status,
                    updated_at=self.store.now(),
                )
            )

    def remove(self, owner: Owner, import_id: str) -> int:
        """Delete every conversation the import wrote, in one transaction; the
        number deleted. `ImportNotRemovable` while it runs, once removed, or
        after `UNDO_HOURS`."""
        record = self.get(owner, import_id)
        now = self.store.now()
        if record.status == REMOVED:
            raise ImportNotRemovable("This import was already removed.")
        if record.is_running(now):
            raise ImportNotRemovable("This import is still running: wait for it to finish.")
        if not record.can_remove(now):
            raise ImportNotRemovable(
                f"An import can be removed for {UNDO_HOURS} hours; delete its "
                "conversations one by one instead."
            )
        with self.store.transaction(write=True) as conn:
            ids = sa.select(C.c.id).where(C.c.owner == owner.username, C.c.import_id == import_id)
            for table in (schema.messages, schema.message_versions, schema.shares):
                conn.execute(sa.delete(table).where(table.c.conversation_id.in_(ids)))
            conn.execute(
                sa.delete(schema.queued_prompts).where(
                    schema.queued_prompts.c.conversation_id.in_(ids)
                )
            )
            gone = conn.execute(
                sa.delete(C).where(C.c.owner == owner.username, C.c.import_id == import_id)
            ).rowcount
            conn.execute(
                sa.update(I)
                .where(I.c.id == import_id)
                .values(status=REMOVED, removed_at=now, updated_at=now)
            )
        return int(gone or 0)


def with_bot(parsed: ParsedConversation, bot_slug: str, bot_name: str) -> ParsedConversation:
    """`parsed` for the bot the member chose for the import."""
    conv = parsed.conversation
    info = conv.conversation.model_copy(update={"bot_slug": bot_slug, "bot_name": bot_name})
    return ParsedConversation(
        parsed.source, conv.model_copy(update={"conversation": info}), parsed.original_model
    )


def run_import(
    imports: ImportStore,
    owner: Owner,
    record: ImportRecord,
    plan: ImportPlan,
    *,
    bot_slug: str,
    bot_name: str,
) -> ImportRecord:
    """Write `plan`'s conversations for `owner`, each whole or not at all, and
    keep `record`'s progress; its final state. Never raises: a conversation
    the database refuses is counted as failed, and a run that breaks off is
    marked failed with the reason."""
    store = imports.store
    written = failed = messages = 0
    last = time.monotonic()
    try:
        for parsed in plan.conversations:
            parsed = with_bot(parsed, bot_slug, bot_name)
            try:
                store.import_conversation(
                    owner,
                    parsed.conversation,
                    origin={
                        "import_id": record.id,
                        "import_source": str(parsed.source),
                        "original_model": parsed.original_model,
                    },
                )
            except Exception as err:  # one conversation, not the import
                log.warning("Import %s: a conversation refused (%s)", record.id, type(err).__name__)
                failed += 1
                continue
            written += 1
            messages += parsed.message_count
            if time.monotonic() - last >= PROGRESS_EVERY:
                imports.progress(record.id, written=written, failed=failed, messages=messages)
                last = time.monotonic()
        imports.progress(
            record.id,
            written=written,
            failed=failed,
            messages=messages,
            status=DONE if written or not failed else FAILED,
        )
    except Exception as err:
        log.warning("Import %s broke off (%s)", record.id, type(err).__name__)
        try:
            imports.progress(
                record.id, written=written, failed=failed, messages=messages, status=FAILED
            )
        except Exception:
            log.warning("Import %s: its state could not be saved", record.id)
    return imports.get(owner, record.id)


def start_import(
    imports: ImportStore,
    owner: Owner,
    record: ImportRecord,
    plan: ImportPlan,
    *,
    bot_slug: str,
    bot_name: str,
) -> threading.Thread:
    """`run_import` on a daemon thread (the page follows it through the database)."""
    thread = threading.Thread(
        target=run_import,
        args=(imports, owner, record, plan),
        kwargs={"bot_slug": bot_slug, "bot_name": bot_name},
        name=f"import-{record.id[:8]}",
        daemon=True,
    )
    thread.start()
    return thread
