"""The store's side of answer versions and branching edits (`webapp.chat.versions`).

`BranchRepository`, behind `ConversationStore`. A conversation is a tree of messages, but
only one path through it is *shown*: that path is the `messages` table,
exactly as for a conversation that never branched (seq 0, 1, 2, ...), so
everything that reads a conversation (the page, the context sent to the API,
exports, search, share links) reads the shown path and nothing else.

The other versions live in `message_versions`, each with its `parent_id`
(the message before it; NULL: the conversation's first) and `selected`
(the child that comes back with its parent). Versions of a message are its
siblings: the messages with the same parent, oldest first.

- `shelve_from(seq)` moves the path from `seq` on into the versions (a
  Regenerate keeps the old answer; an edit keeps the old branch). The message
  at `seq` is then answered afresh, or a new prompt is appended in its place.
- `switch_version(message, to)` swaps the path from that message's place for
  the version `to` and the branch that was shown under it.

Both refuse (`BranchBusy`) while an answer in the affected part is still
generating: its worker writes to its row in `messages`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from webapp.conversations.model import AnswerStatus, Message
from webapp.conversations.store.database import conversation_row
from webapp.conversations.transcripts import ExportedVersion, ImportedVersion
from webapp.db.schema import conversations as C
from webapp.db.schema import message_versions as V
from webapp.db.schema import messages as M
from webapp.ui.i18n import N_, _

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from webapp.conversations.store.database import Database, Owner

BUSY_MESSAGE = N_(
    "An answer is still being generated here: wait for it to finish, or stop it, then try again."
)


class BranchBusy(ValueError):
    """A version change that would move an answer still being generated."""

    def __init__(self, message: str = BUSY_MESSAGE) -> None:
        super().__init__(message)


class VersionNotFound(LookupError):
    """The version asked for is not one of that message's versions (any more)."""

    def __init__(self, message: str = "That version no longer exists.") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Versions:
    """The versions of one shown message: `ids` oldest first (the shown one
    among them), `index` the shown one's place (0-based)."""

    ids: tuple[str, ...]
    index: int

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def label(self) -> str:
        """ "2/3": the shown version's number (from 1) of how many."""
        return f"{self.index + 1}/{self.count}"

    def step(self, by: int) -> str | None:
        """The id `by` versions away from the shown one, None past either end."""
        to = self.index + by
        return self.ids[to] if 0 <= to < self.count else None


def _order(row: Any) -> tuple[datetime, str]:
    return (row["created_at"], row["id"])


def versions_of_checked(
    conn: Connection, conversation_id: str, shown: Sequence[Message]
) -> dict[str, Versions]:
    """`BranchRepository.versions`' reads for a conversation whose owner `conn`
    has just checked (`conversation_row`)."""
    if not shown or not shown[0].id:
        return {}
    parents: dict[str, str | None] = {}
    before: str | None = None
    first = shown[0]
    if first.seq > 0:
        before = conn.execute(
            sa.select(M.c.id).where(
                M.c.conversation_id == conversation_id, M.c.seq == first.seq - 1
            )
        ).scalar()
    for message in shown:
        parents[message.id] = before
        before = message.id
    wanted = {p for p in parents.values() if p is not None}
    where: sa.ColumnElement[bool] = V.c.parent_id.in_(sorted(wanted))
    if None in parents.values():
        where = sa.or_(where, V.c.parent_id.is_(None))
    rows = (
        conn.execute(
            sa.select(V.c.id, V.c.parent_id, V.c.created_at).where(
                V.c.conversation_id == conversation_id, where
            )
        )
        .mappings()
        .all()
    )
    if not rows:
        return {}
    siblings: dict[str | None, list[Any]] = {}
    for row in rows:
        siblings.setdefault(row["parent_id"], []).append(row)
    found: dict[str, Versions] = {}
    for message in shown:
        others = siblings.get(parents[message.id])
        if not others:
            continue
        everyone = sorted(
            [*others, {"id": message.id, "created_at": message.created_at}], key=_order
        )
        ids = tuple(r["id"] for r in everyone)
        found[message.id] = Versions(ids, ids.index(message.id))
    return found


class BranchRepository:
    """The versions kept off the shown path (owner-checked, see `database`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------- reading

    def versions(
        self, owner: Owner, conversation_id: str, shown: Sequence[Message]
    ) -> dict[str, Versions]:
        """message id -> its `Versions`, for the messages of `shown` (a slice of
        the shown path, oldest first) that have more than one. One or two reads."""
        if not shown or not shown[0].id:
            return {}
        with self.db.read() as conn:
            conversation_row(conn, owner, conversation_id)
            return versions_of_checked(conn, conversation_id, shown)

    # ------------------------------------------------------------- changing

    def shelve_from(self, owner: Owner, conversation_id: str, seq: int) -> int:
        """Keep the shown path from `seq` on as a version and take it off the path;
        returns how many messages moved. `BranchBusy` while one of them generates."""
        with self.db.write() as conn:
            conversation_row(conn, owner, conversation_id, lock=True)
            return self._shelve(conn, conversation_id, seq)

    def branch_at(self, owner: Owner, conversation_id: str, seq: int, text: str) -> str:
        """An edited prompt: the shown path from `seq` on is kept as a version and
        `text` (stripped) becomes the sent prompt at `seq`, awaiting its answer;
        one transaction, so a failure changes nothing. Returns the new prompt's id.
        ValueError for a blank text; `BranchBusy` while an answer there generates."""
        text = text.strip()
        if not text:
            raise ValueError(_("An empty message cannot be sent."))
        now = self.db.now()
        new_id = str(uuid.uuid4())
        with self.db.write() as conn:
            conversation_row(conn, owner, conversation_id, lock=True)
            self._shelve(conn, conversation_id, seq)
            conn.execute(
                sa.insert(M).values(
                    id=new_id,
                    conversation_id=conversation_id,
                    seq=seq,
                    role="user",
                    text=text,
                    status=AnswerStatus.COMPLETE,
                    error=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            conn.execute(sa.update(C).where(C.c.id == conversation_id).values(updated_at=now))
        return new_id

    def switch_version(
        self, owner: Owner, conversation_id: str, message_id: str, to_id: str
    ) -> None:
        """Show version `to_id` (and the branch shown under it when it was last
        shown) in place of the shown message `message_id` and everything after it,
        which is kept as a version. `VersionNotFound` when `to_id` is not a
        version of `message_id`; `BranchBusy` while an answer after it generates."""
        if to_id == message_id:
            return
        with self.db.write() as conn:
            conversation_row(conn, owner, conversation_id, lock=True)
            row = (
                conn.execute(
                    sa.select(M.c.seq).where(
                        M.c.conversation_id == conversation_id, M.c.id == message_id
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise VersionNotFound("That message is no longer shown.")
            seq = int(row["seq"])
            parent = self._path_id(conn, conversation_id, seq - 1)
            kept = {
                r["id"]: r
                for r in conn.execute(sa.select(V).where(V.c.conversation_id == conversation_id))
                .mappings()
                .all()
            }
            target = kept.get(to_id)
            if target is None or target["parent_id"] != parent:
                raise VersionNotFound()
            chain = [target]
            while True:
                children = [
                    r for r in kept.values() if r["parent_id"] == chain[-1]["id"] and r["selected"]
                ]
                if not children:
                    break
                chain.append(min(children, key=_order))
            self._shelve(conn, conversation_id, seq)
            conn.execute(sa.delete(V).where(V.c.id.in_([r["id"] for r in chain])))
            conn.execute(
                sa.insert(M),
                [
                    {
                        "id": r["id"],
                        "conversation_id": conversation_id,
                        "seq": seq + offset,
                        "role": r["role"],
                        "text": r["text"],
                        "status": r["status"],
                        "error": r["error"],
                        "created_at": r["created_at"],
                        "updated_at": r["updated_at"],
                        "reply_to": r["reply_to"],
                        "heartbeat_at": None,
                        "waiting": None,
                    }
                    for offset, r in enumerate(chain)
                ],
            )

    @staticmethod
    def _path_id(conn: Connection, conversation_id: str, seq: int) -> str | None:
        if seq < 0:
            return None
        found = conn.execute(
            sa.select(M.c.id).where(M.c.conversation_id == conversation_id, M.c.seq == seq)
        ).scalar()
        return None if found is None else str(found)

    def _shelve(self, conn: Connection, conversation_id: str, seq: int) -> int:
        rows = (
            conn.execute(
                sa.select(M)
                .where(M.c.conversation_id == conversation_id, M.c.seq >= seq)
                .order_by(M.c.seq)
            )
            .mappings()
            .all()
        )
        if not rows:
            return 0
        if any(r["status"] == AnswerStatus.STREAMING for r in rows):
            raise BranchBusy()
        parent = self._path_id(conn, conversation_id, seq - 1)
        moved = []
        for row in rows:
            moved.append(
                {
                    "id": row["id"],
                    "conversation_id": conversation_id,
                    "parent_id": parent,
                    # The first stays a sibling of what replaces it; the rest
                    # come back with it.
                    "selected": row["seq"] != seq,
                    "role": row["role"],
                    "text": row["text"],
                    "status": row["status"],
                    "error": row["error"],
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                    "reply_to": row["reply_to"],
                }
            )
            parent = row["id"]
        conn.execute(sa.delete(M).where(M.c.id.in_([r["id"] for r in rows])))
        conn.execute(sa.insert(V), moved)
        return len(moved)

    # ------------------------------------------------------- export/import

    def exported(
        self, owner: Owner, conversation_id: str, path: Sequence[Message]
    ) -> list[ExportedVersion]:
        """The conversation's versions for its JSON export, oldest first, each
        tied to `path` (the shown messages, all of them) or to another version.
        Versions whose parent is gone (a Retry dropped it) are left out."""
        with self.db.read() as conn:
            conversation_row(conn, owner, conversation_id)
            rows = (
                conn.execute(sa.select(V).where(V.c.conversation_id == conversation_id))
                .mappings()
                .all()
            )
        rows = sorted(rows, key=_order)
        keys = {r["id"]: f"v{n}" for n, r in enumerate(rows, 1)}
        refs: dict[str | None, int | str | None] = {m.id: i for i, m in enumerate(path)}
        refs[None] = None
        exported: list[ExportedVersion] = []
        placed: set[str] = set()
        progress = True
        while progress:  # parents first, whatever the order of their times
            progress = False
            for row in rows:
                if row["id"] in placed:
                    continue
                parent = row["parent_id"]
                if parent in refs:
                    ref = refs[parent]
                elif parent in placed:
                    ref = keys[parent]
                else:
                    continue
                exported.append(
                    ExportedVersion(
                        key=keys[row["id"]],
                        parent=ref,
                        selected=bool(row["selected"]),
                        message=Message(
                            id=row["id"],
                            conversation_id=conversation_id,
                            seq=-1,
                            role=row["role"],
                            text=row["text"],
                            status=AnswerStatus(row["status"]),
                            error=row["error"],
                            created_at=row["created_at"],
                        ),
                    )
                )
                placed.add(row["id"])
                progress = True
        return exported

    @staticmethod
    def insert_imported(
        conn: Connection,
        conversation_id: str,
        path_ids: Sequence[str],
        versions: Sequence[ImportedVersion],
    ) -> None:
        """Store an import's versions (new ids) in the caller's transaction.

        Tied by their "parent" to a shown message (an index of `path_ids`) or
        to another version (its key); one that points nowhere is left out
        (it could never be shown). Answers still streaming when exported come
        back `interrupted`; prompts, sent once, come back sent."""
        ids = {v.key: str(uuid.uuid4()) for v in versions}
        rows = []
        for version in versions:
            parent: str | None
            if version.parent is None:
                parent = None
            elif isinstance(version.parent, int):
                if not 0 <= version.parent < len(path_ids):
                    continue
                parent = path_ids[version.parent]
            elif version.parent in ids and version.parent != version.key:
                parent = ids[version.parent]
            else:
                continue
            status = version.status
            if version.role == "user":
                status = AnswerStatus.COMPLETE
            elif status == AnswerStatus.STREAMING:
                status = AnswerStatus.INTERRUPTED
            rows.append(
                {
                    "id": ids[version.key],
                    "conversation_id": conversation_id,
                    "parent_id": parent,
                    "selected": version.selected,
                    "role": version.role,
                    "text": version.text,
                    "status": status,
                    "error": None if version.role == "user" else version.error,
                    "created_at": version.created_at,
                    "updated_at": version.created_at,
                    "reply_to": None,
                }
            )
        if rows:
            conn.execute(sa.insert(V), rows)
