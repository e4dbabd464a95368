"""`OrganiseRepository`: a member's folders, tags, archive and temporary chats (issue 26).

Everything is per member: each statement names the owner, so another
member's folder, tag or conversation matches no row (`FolderNotFound`,
`ConversationNotFound`, or nothing changed), as in `database`.

- Folders nest one level: a folder may sit in a top-level folder. A
  conversation is in at most one folder (`conversations.folder_id`).
  Deleting a folder deletes its subfolders, and either moves their
  conversations to "no folder" or deletes them too.
- Tags are cleaned as `webapp.conversations.organise.clean_tags` says.
- Archived conversations (`archived_at`) leave History but keep everything:
  they still open, export, and count like the rest.
- A temporary chat is stored like any other (the answer service works on
  stored rows), marked `temporary`: never listed, deleted when its session
  leaves it or logs out (`discard_temporary`, `delete_temporaries`), or by
  `sweep_temporaries` once a session vanished without either.

The History reads with one query per kind (`folders` with their counts,
`tags_for` the rows shown), never one per row.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.conversations import organise as names
from webapp.conversations.model import Conversation
from webapp.conversations.store.conversations import delete_owned
from webapp.conversations.store.database import (
    Database,
    Owner,
    StoreError,
    conversation_row,
    owned,
    to_conversation,
)
from webapp.db.schema import conversation_tags as T
from webapp.db.schema import conversations as C
from webapp.db.schema import folders as F
from webapp.ui.i18n import _

# A temporary chat whose session vanished (a closed browser, a killed
# process) is swept after this long without activity.
TEMPORARY_MAX_AGE: Final = timedelta(days=1)


class FolderNotFound(StoreError, LookupError):
    """No such folder for this member (missing, deleted, or someone else's)."""

    def __init__(self, message: str = "Folder not found.") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Folder:
    """One of a member's folders; `count`: conversations directly in it that
    are in History (not archived)."""

    id: str
    name: str
    parent_id: str | None
    count: int = 0


class OrganiseRepository:
    """Folders, tags, archive and temporary chats (owner-checked)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ----------------------------------------------------------- folders

    def folders(self, owner: Owner) -> list[Folder]:
        """The member's folders, each top-level one (by name) followed by its
        subfolders (by name), with their counts: one query."""
        in_history = sa.and_(
            C.c.folder_id == F.c.id,
            C.c.owner == owner.username,
            C.c.archived_at.is_(None),
            C.c.temporary.is_(False),
            C.c.parent_id.is_(None),
        )
        stmt = (
            sa.select(F.c.id, F.c.name, F.c.parent_id, sa.func.count(C.c.id).label("n"))
            .select_from(F.outerjoin(C, in_history))
            .where(F.c.owner == owner.username)
            .group_by(F.c.id, F.c.name, F.c.parent_id)
        )
        with self.db.read() as conn:
            found = [
                Folder(r["id"], r["name"], r["parent_id"], int(r["n"]))
                for r in conn.execute(stmt).mappings()
            ]
        return _in_tree_order(found)

    def create_folder(self, owner: Owner, name: str, parent_id: str | None = None) -> Folder:
        """A new folder (in `parent_id`, a top-level folder of the member's).
        ValueError for a blank name, a parent that is itself a subfolder, or
        past `MAX_FOLDERS`; FolderNotFound for a parent not theirs."""
        clean = names.clean_folder_name(name)
        folder_id = str(uuid.uuid4())
        with self.db.write() as conn:
            if parent_id is not None and _folder_row(conn, owner, parent_id)["parent_id"]:
                raise ValueError(_("A folder inside a folder cannot hold folders of its own."))
            mine = sa.select(sa.func.count()).select_from(F).where(F.c.owner == owner.username)
            if int(conn.execute(mine).scalar_one()) >= names.MAX_FOLDERS:
                raise ValueError(
                    _("You can have at most {max_folders} folders.").format(
                        max_folders=names.MAX_FOLDERS
                    )
                )
            conn.execute(
                sa.insert(F).values(
                    id=folder_id,
                    owner=owner.username,
                    parent_id=parent_id,
                    name=clean,
                    created_at=self.db.now(),
                )
            )
        return Folder(folder_id, clean, parent_id)

    def rename_folder(self, owner: Owner, folder_id: str, name: str) -> Folder:
        """Give a folder a new name (ValueError when blank)."""
        clean = names.clean_folder_name(name)
        with self.db.write() as conn:
            row = _folder_row(conn, owner, folder_id)
            conn.execute(sa.update(F).where(F.c.id == folder_id).values(name=clean))
        return Folder(folder_id, clean, row["parent_id"])

    def delete_folder(
        self, owner: Owner, folder_id: str, *, delete_conversations: bool = False
    ) -> int:
        """Delete a folder and its subfolders. Their conversations (archived
        ones too) go to "no folder", or with `delete_conversations` are deleted
        with everything they hold. Returns how many conversations were moved
        or deleted; FolderNotFound when it is not the member's."""
        with self.db.write() as conn:
            _folder_row(conn, owner, folder_id)
            tree = [
                folder_id,
                *conn.execute(
                    sa.select(F.c.id).where(F.c.owner == owner.username, F.c.parent_id == folder_id)
                ).scalars(),
            ]
            inside = [
                str(i)
                for i in conn.execute(
                    sa.select(C.c.id).where(
                        C.c.owner == owner.username,
                        C.c.folder_id.in_(tree),
                        C.c.parent_id.is_(None),
                    )
                ).scalars()
            ]
            if delete_conversations:
                delete_owned(conn, owner, inside)
            else:
                conn.execute(
                    sa.update(C)
                    .where(C.c.owner == owner.username, C.c.folder_id.in_(tree))
                    .values(folder_id=None)
                )
            conn.execute(sa.delete(F).where(F.c.owner == owner.username, F.c.id.in_(tree[1:])))
            conn.execute(sa.delete(F).where(F.c.owner == owner.username, F.c.id == folder_id))
            return len(inside)

    def move(self, owner: Owner, conversation_ids: Collection[str], folder_id: str | None) -> int:
        """Put the member's conversations in `folder_id` (None: no folder);
        returns how many moved. FolderNotFound for a folder not theirs."""
        with self.db.write() as conn:
            if folder_id is not None:
                _folder_row(conn, owner, folder_id)
            return _update_many(conn, owner, conversation_ids, folder_id=folder_id)

    # ----------------------------------------------------------- tags

    def set_tags(self, owner: Owner, conversation_id: str, tags: Sequence[str]) -> list[str]:
        """A conversation's tags become `tags` (cleaned); returns them.
        ValueError past `MAX_TAGS_PER_CONVERSATION`; ConversationNotFound."""
        clean = names.clean_tags(tags)
        with self.db.write() as conn:
            conversation_row(conn, owner, conversation_id)
            conn.execute(sa.delete(T).where(T.c.conversation_id == conversation_id))
            if clean:
                conn.execute(
                    sa.insert(T),
                    [
                        {"conversation_id": conversation_id, "owner": owner.username, "tag": t}
                        for t in clean
                    ],
                )
        return clean

    def add_tags(self, owner: Owner, conversation_ids: Collection[str], tags: Sequence[str]) -> int:
        """Add `tags` to each of the member's `conversation_ids` (kept tags
        stay); returns how many conversations were tagged."""
        clean = names.clean_tags(tags)
        with self.db.write() as conn:
            ids = _own_ids(conn, owner, conversation_ids)
            if not clean or not ids:
                return len(ids)
            have = {
                (str(i), str(t))
                for i, t in conn.execute(
                    sa.select(T.c.conversation_id, T.c.tag).where(T.c.conversation_id.in_(ids))
                )
            }
            rows = [
                {"conversation_id": i, "owner": owner.username, "tag": t}
                for i in ids
                for t in clean
                if (i, t) not in have
            ]
            if rows:
                conn.execute(sa.insert(T), rows)
            return len(ids)

    def member_tags(self, owner: Owner) -> list[str]:
        """Every tag the member uses, sorted (the autocomplete's choices)."""
        stmt = sa.select(T.c.tag).where(T.c.owner == owner.username).distinct().order_by(T.c.tag)
        with self.db.read() as conn:
            return [str(t) for t in conn.execute(stmt).scalars()]

    def tags_for(self, owner: Owner, conversation_ids: Collection[str]) -> dict[str, list[str]]:
        """The tags of each of `conversation_ids` (the rows shown), sorted;
        one query. Ids without tags are left out."""
        if not conversation_ids:
            return {}
        # By the primary key (conversation_id, tag); the owner is checked on
        # each row rather than in the WHERE, where SQLite would pick the
        # (owner, tag) index and read all of the member's tags.
        stmt = (
            sa.select(T.c.conversation_id, T.c.tag, T.c.owner)
            .where(T.c.conversation_id.in_(list(conversation_ids)))
            .order_by(T.c.tag)
        )
        found: dict[str, list[str]] = {}
        with self.db.read() as conn:
            for conversation_id, tag, tag_owner in conn.execute(stmt):
                if tag_owner == owner.username:
                    found.setdefault(conversation_id, []).append(tag)
        return found

    # ----------------------------------------------------------- archive

    def archive(self, owner: Owner, conversation_ids: Collection[str]) -> int:
        """Take the member's conversations out of History (kept whole)."""
        with self.db.write() as conn:
            return _update_many(
                conn, owner, conversation_ids, archived_at=self.db.now(), only_in_history=True
            )

    def archive_folder(self, owner: Owner, folder_id: str) -> int:
        """Archive everything in a folder and its subfolders; FolderNotFound."""
        with self.db.write() as conn:
            _folder_row(conn, owner, folder_id)
            subfolders = sa.select(F.c.id).where(
                F.c.owner == owner.username, F.c.parent_id == folder_id
            )
            stmt = (
                sa.update(C)
                .where(
                    C.c.owner == owner.username,
                    C.c.archived_at.is_(None),
                    C.c.temporary.is_(False),
                    sa.or_(C.c.folder_id == folder_id, C.c.folder_id.in_(subfolders)),
                )
                .values(archived_at=self.db.now())
            )
            return int(conn.execute(stmt).rowcount)

    def archive_older_than(self, owner: Owner, before: datetime) -> int:
        """Archive every conversation of the member's last active before `before`."""
        stmt = (
            sa.update(C)
            .where(
                C.c.owner == owner.username,
                C.c.parent_id.is_(None),
                C.c.archived_at.is_(None),
                C.c.temporary.is_(False),
                C.c.updated_at < before,
            )
            .values(archived_at=self.db.now())
        )
        with self.db.write() as conn:
            return int(conn.execute(stmt).rowcount)

    def restore(self, owner: Owner, conversation_ids: Collection[str]) -> int:
        """Bring archived conversations back to History."""
        with self.db.write() as conn:
            return _update_many(conn, owner, conversation_ids, archived_at=None)

    def delete_many(self, owner: Owner, conversation_ids: Collection[str]) -> int:
        """Delete several of the member's conversations at once; how many went."""
        with self.db.write() as conn:
            return delete_owned(conn, owner, _own_ids(conn, owner, conversation_ids))

    # ----------------------------------------------------------- temporary chats

    def keep(self, owner: Owner, conversation_id: str) -> Conversation:
        """ "Keep this conversation": a temporary chat becomes an ordinary one,
        listed in History from now on. ConversationNotFound."""
        with self.db.write() as conn:
            conn.execute(sa.update(C).where(owned(owner, conversation_id)).values(temporary=False))
            return to_conversation(conversation_row(conn, owner, conversation_id))

    def discard_temporary(self, owner: Owner, conversation_id: str) -> bool:
        """Delete the conversation if it is still a temporary chat of the
        member's (left, not kept); True when it was."""
        with self.db.write() as conn:
            temporary = conn.execute(
                sa.select(C.c.id).where(owned(owner, conversation_id), C.c.temporary.is_(True))
            ).first()
            return temporary is not None and delete_owned(conn, owner, [conversation_id]) == 1

    def delete_temporaries(self, owner: Owner) -> int:
        """Delete all the member's temporary chats (they log out)."""
        with self.db.write() as conn:
            doomed = conn.execute(
                sa.select(C.c.id).where(C.c.owner == owner.username, C.c.temporary.is_(True))
            ).scalars()
            return delete_owned(conn, owner, [str(i) for i in doomed])

    def sweep_temporaries(self, max_age: timedelta = TEMPORARY_MAX_AGE) -> int:
        """Delete every member's temporary chats with no activity for
        `max_age` (their session vanished without leaving or logging out)."""
        cutoff = self.db.now() - max_age
        with self.db.write() as conn:
            stale = conn.execute(
                sa.select(C.c.owner, C.c.id).where(C.c.temporary.is_(True), C.c.updated_at < cutoff)
            )
            by_owner: dict[str, list[str]] = {}
            for username, conversation_id in stale:
                by_owner.setdefault(username, []).append(conversation_id)
            return sum(
                delete_owned(conn, _Named(username), ids) for username, ids in by_owner.items()
            )


@dataclass(frozen=True, slots=True)
class _Named:
    """An owner known by name only (the sweep acts for every member)."""

    username: str
    user_id: int = 0


def _folder_row(conn: Connection, owner: Owner, folder_id: str) -> sa.RowMapping:
    row = (
        conn.execute(sa.select(F).where(F.c.id == folder_id, F.c.owner == owner.username))
        .mappings()
        .first()
    )
    if row is None:
        raise FolderNotFound()
    return row


def _own_ids(conn: Connection, owner: Owner, conversation_ids: Collection[str]) -> list[str]:
    """Those of `conversation_ids` that are the member's History rows (no
    comparison columns, no temporary chats)."""
    if not conversation_ids:
        return []
    stmt = sa.select(C.c.id).where(
        C.c.owner == owner.username,
        C.c.id.in_(list(conversation_ids)),
        C.c.parent_id.is_(None),
        C.c.temporary.is_(False),
    )
    return [str(i) for i in conn.execute(stmt).scalars()]


def _update_many(
    conn: Connection,
    owner: Owner,
    conversation_ids: Collection[str],
    *,
    only_in_history: bool = False,
    **values: object,
) -> int:
    ids = _own_ids(conn, owner, conversation_ids)
    if not ids:
        return 0
    stmt = sa.update(C).where(C.c.owner == owner.username, C.c.id.in_(ids))
    if only_in_history:
        stmt = stmt.where(C.c.archived_at.is_(None))
    return int(conn.execute(stmt.values(**values)).rowcount)


def _in_tree_order(found: list[Folder]) -> list[Folder]:
    """Top-level folders by name, each followed by its subfolders by name."""

    def by_name(folder: Folder) -> tuple[str, str]:
        return (folder.name.casefold(), folder.id)

    children: dict[str, list[Folder]] = {}
    for folder in found:
        if folder.parent_id is not None:
            children.setdefault(folder.parent_id, []).append(folder)
    ordered: list[Folder] = []
    for top in sorted((f for f in found if f.parent_id is None), key=by_name):
        ordered.append(top)
        ordered.extend(sorted(children.get(top.id, []), key=by_name))
    return ordered


__all__ = ["TEMPORARY_MAX_AGE", "Folder", "FolderNotFound", "OrganiseRepository"]
