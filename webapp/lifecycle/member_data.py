"""A member's own data: everything of theirs in one zip, or erased.

`write_member_zip` streams a member's data into a zip file, one conversation
at a time (memory stays bounded whatever the history's size): every
conversation as JSON (with its other versions) and as Markdown, their prompt
library entries, share links, audit entries, what other features register in
`EXTRA_SECTIONS` (feedback, votes...), and a README.txt saying what is where.

`erase_member_data` deletes the same things in one transaction (the account
stays; an admin removes it on the Team page), refused while one of the
member's answers is being generated or a prompt waits.

Both act for a username (the member themself, or an admin on the Team page).
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webapp.audit.log import AuditLog
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationNotFound, ConversationStore
from webapp.conversations.store.conversations import delete_whole
from webapp.db import schema
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M
from webapp.ui.i18n import N_

# Other features' per-member rows: (file name in the zip, reader, eraser).
# A reader returns JSON-able rows for the username; an eraser deletes them
# inside the given transaction and returns how many.
Reader = Callable[[Connection, str], list[dict[str, object]]]
Eraser = Callable[[Connection, str], int]
EXTRA_SECTIONS: list[tuple[str, Reader, Eraser]] = []


def _feedback(conn: Connection, username: str) -> list[dict[str, object]]:
    table = schema.answer_feedback
    return _rows(conn, table, table.c.username == username)


def _erase_feedback(conn: Connection, username: str) -> int:
    table = schema.answer_feedback
    return conn.execute(sa.delete(table).where(table.c.username == username)).rowcount


def _votes(conn: Connection, username: str) -> list[dict[str, object]]:
    table = schema.arena_votes
    return _rows(conn, table, table.c.voter == username)


def _keep_votes(_conn: Connection, _username: str) -> int:
    # Arena votes and evaluation ratings stay in the team's leaderboard and
    # reports (issue 23); only an admin removing the member deletes them
    # (`webapp.lifecycle.judgements`).
    return 0


def _ratings(conn: Connection, username: str) -> list[dict[str, object]]:
    table = schema.eval_ratings
    return _rows(conn, table, table.c.rater == username)


def _folders(conn: Connection, username: str) -> list[dict[str, object]]:
    table = schema.folders
    return _rows(conn, table, table.c.owner == username)


def _erase_folders(conn: Connection, username: str) -> int:
    # Children first: correct even where foreign keys are not enforced.
    table = schema.folders
    nested = conn.execute(
        sa.delete(table).where(table.c.owner == username, table.c.parent_id.is_not(None))
    ).rowcount
    return nested + conn.execute(sa.delete(table).where(table.c.owner == username)).rowcount


def _tags(conn: Connection, username: str) -> list[dict[str, object]]:
    table = schema.conversation_tags
    return _rows(conn, table, table.c.owner == username)


def _erase_tags(conn: Connection, username: str) -> int:
    table = schema.conversation_tags
    return conn.execute(sa.delete(table).where(table.c.owner == username)).rowcount


EXTRA_SECTIONS += [
    ("feedback.json", _feedback, _erase_feedback),
    ("arena_votes.json", _votes, _keep_votes),
    ("evaluation_ratings.json", _ratings, _keep_votes),
    ("folders.json", _folders, _erase_folders),
    ("tags.json", _tags, _erase_tags),
]

BUSY: Final = N_(
    "An answer of this member is being generated or a prompt is "
    "waiting to be sent. Erase when it has ended (or press Stop in the "
    "chat)."
)
README: Final = N_(
    "Your data from aBLT Chat ({username}), made {made} "
    "(UTC).\n\nconversations/   every conversation, twice: NAME.json "
    "(the app's export format,\n                 importable again, with "
    "the other versions of answers and edits)\n                 and "
    "NAME.md (readable). Comparisons' columns, arena battles and\n"
    "                 evaluation runs are conversations too; temporary chats are not kept.\n"
    "prompts.json     your prompt library entries (shared ones "
    "included).\nshare_links.json your share links: title, when made, "
    "whether revoked.\naudit.json       the audit log's entries about "
    "you: logins, changes, refusals.\n{extra}\nNothing here was sent "
    "anywhere; keep the file safe, it holds your conversations.\n"
)


class MemberDataBusy(RuntimeError):
    """Refused: an answer is being generated or a prompt waits (message: plain words)."""


@dataclass(frozen=True, slots=True)
class Who:
    """A member by name and id (the store's `Owner` shape)."""

    username: str
    user_id: int


@dataclass(frozen=True, slots=True)
class Erased:
    """What `erase_member_data` deleted (counts)."""

    conversations: int
    prompts: int
    shares: int
    other: int


def _safe_name(text: str, limit: int = 40) -> str:
    cleaned = re.sub(r"[^\w\- ]+", "", text, flags=re.UNICODE).strip().replace(" ", "-")
    return cleaned[:limit] or "conversation"


def _held(username: str, *, temporary: bool) -> sa.ColumnElement[bool]:
    """`username`'s conversations; with `temporary` False, not their temporary
    chats (never exported: docs/guide.md, "Temporary chat")."""
    mine = C.c.owner == username
    return mine if temporary else sa.and_(mine, C.c.temporary.is_(False))


def _conversation_rows(
    conn: Connection, username: str, *, temporary: bool = True
) -> list[tuple[str, str, datetime]]:
    """(id, title, created_at) of every conversation of `username` (`_held`),
    oldest first."""
    rows = conn.execute(
        sa.select(C.c.id, C.c.title, C.c.created_at)
        .where(_held(username, temporary=temporary))
        .order_by(C.c.created_at, C.c.id)
    )
    return [(row.id, row.title, row.created_at) for row in rows]


def count_conversations(engine: Engine, username: str) -> int:
    """How many conversations `write_member_zip` would write for `username` now:
    each comparison column, arena battle, evaluation run and archived chat
    counts, a temporary chat does not (the zip leaves them out)."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(sa.func.count()).select_from(C).where(_held(username, temporary=False))
        ).scalar()
    return int(found or 0)


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(
    conn: Connection, table: sa.Table, where: sa.ColumnElement[bool]
) -> list[dict[str, object]]:
    return [
        {key: _iso(value) for key, value in row.items()}
        for row in conn.execute(sa.select(table).where(where)).mappings()
    ]


def write_member_zip(
    store: ConversationStore,
    member: Who,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Write everything of `member` into the zip at `path`; returns the number
    of conversations it holds (as `count_conversations` counts them; one
    deleted while the zip is written is left out and not counted).
    `progress(done, total)` is called after each one. Database errors
    propagate (the caller marks the download failed)."""
    made = now or datetime.now(UTC)
    with store.engine.connect() as conn:
        conversations = _conversation_rows(conn, member.username, temporary=False)
        prompts = _rows(conn, schema.prompts, schema.prompts.c.owner == member.username)
        shares = [
            {k: v for k, v in row.items() if k != "snapshot"}
            for row in _rows(conn, schema.shares, schema.shares.c.owner == member.username)
        ]
        extra = {name: read(conn, member.username) for name, read, _ in EXTRA_SECTIONS}
    audit = [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "detail": e.detail,
        }
        for e in AuditLog(store.engine).entries(member=member.username, limit=1_000_000)
    ]
    total = len(conversations)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        extra_lines = "".join(f"{name:<16} from other features\n" for name in extra)
        archive.writestr(
            "README.txt",
            README.format(
                username=member.username, made=made.strftime("%Y-%m-%d %H:%M"), extra=extra_lines
            ),
        )
        written = 0
        for done, (conversation_id, title, created_at) in enumerate(conversations, start=1):
            stem = f"conversations/{created_at:%Y-%m-%d}-{_safe_name(title)}-{conversation_id[:8]}"
            try:  # both texts first: a conversation deleted meanwhile leaves no half
                as_json = store.export_json(member, conversation_id, versions=True)
                as_markdown = store.export_markdown(member, conversation_id)
            except ConversationNotFound:
                continue
            archive.writestr(f"{stem}.json", as_json)
            archive.writestr(f"{stem}.md", as_markdown)
            written += 1
            if progress is not None:
                progress(done, total)
        archive.writestr("prompts.json", json.dumps(prompts, ensure_ascii=False, indent=2))
        archive.writestr("share_links.json", json.dumps(shares, ensure_ascii=False, indent=2))
        archive.writestr("audit.json", json.dumps(audit, ensure_ascii=False, indent=2))
        for name, rows in extra.items():
            archive.writestr(name, json.dumps(rows, ensure_ascii=False, indent=2))
    if progress is not None and (written < total or total == 0):
        progress(written, written)  # the last figures are what the zip holds
    return written


def is_busy(conn: Connection, username: str) -> bool:
    """Whether one of `username`'s answers is generating or a prompt of theirs waits."""
    mine = sa.select(C.c.id).where(C.c.owner == username)
    streaming = conn.execute(
        sa.select(M.c.id)
        .where(M.c.conversation_id.in_(mine), M.c.status == AnswerStatus.STREAMING.value)
        .limit(1)
    ).first()
    queued = conn.execute(
        sa.select(schema.queued_prompts.c.id)
        .where(schema.queued_prompts.c.conversation_id.in_(mine))
        .limit(1)
    ).first()
    return streaming is not None or queued is not None


def erase_member_data(engine: Engine, username: str, actor: str) -> Erased:
    """Delete `username`'s conversations (with messages, versions and share
    links), prompt library entries, remaining share links, data downloads and
    other features' rows (`EXTRA_SECTIONS`), in one transaction, and audit it
    as done by `actor`. The account stays. Raises MemberDataBusy while an
    answer of theirs is generating or a prompt waits."""
    with engine.connect() as conn:
        conn.execution_options(ablt_write=True)
        with conn.begin():
            if is_busy(conn, username):
                raise MemberDataBusy(BUSY)
            ids = [row[0] for row in _conversation_rows(conn, username)]
            parents = set(
                conn.execute(
                    sa.select(C.c.id).where(C.c.owner == username, C.c.parent_id.is_(None))
                ).scalars()
            )
            shares = len(
                conn.execute(
                    sa.select(schema.shares.c.token).where(schema.shares.c.owner == username)
                ).all()
            )
            for cid in parents:  # a comparison takes its columns with it
                delete_whole(conn, username, cid)
            prompts = conn.execute(
                sa.delete(schema.prompts).where(schema.prompts.c.owner == username)
            ).rowcount
            conn.execute(sa.delete(schema.shares).where(schema.shares.c.owner == username))
            other = sum(erase(conn, username) for _, _, erase in EXTRA_SECTIONS)
            # The record of their imports (the conversations are gone already).
            conn.execute(sa.delete(schema.imports).where(schema.imports.c.owner == username))
            paths = _download_paths(conn, username)
            conn.execute(
                sa.delete(schema.data_exports).where(schema.data_exports.c.owner == username)
            )
    for path in paths:
        path.unlink(missing_ok=True)
    result = Erased(len(ids), prompts, shares, other)
    AuditLog(engine).record_change(
        actor,
        "erase data",
        username,
        f"{result.conversations} conversations, {prompts} prompts, {shares} share links, "
        f"{other} other entries",
    )
    return result


def _download_paths(conn: Connection, username: str) -> Sequence[Path]:
    table = schema.data_exports
    found = conn.execute(
        sa.select(table.c.path).where(table.c.owner == username, table.c.path.is_not(None))
    ).scalars()
    return [Path(p) for p in found]
