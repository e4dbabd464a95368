"""Backups of the default SQLite database while the app runs (SQLite's online backup API).

PostgreSQL deployments use `pg_dump` / `pg_restore` instead (docs/deploy.md).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa


class BackupError(Exception):
    """The backup could not be made; the message says why in plain words."""


def backup_sqlite(url: str, destination: str | Path) -> int:
    """Copy the SQLite database at `url` to the file `destination` (which must
    not exist) with SQLite's online backup, consistent even while the app
    writes (https://www.sqlite.org/backup.html). Returns the copy's size in
    bytes. Raises BackupError for a non-SQLite URL, an existing destination,
    or a database that cannot be read."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise BackupError(
            "Only a SQLite database is backed up this way; use pg_dump for PostgreSQL."
        )
    source_path = Path(parsed.database)
    target = Path(destination)
    if not source_path.exists():
        raise BackupError(f"There is no database file at {source_path}.")
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            sqlite3.connect(f"file:{source_path}?mode=ro", uri=True) as source,
            sqlite3.connect(target) as copy,
        ):
            source.backup(copy)
    except sqlite3.Error as err:
        target.unlink(missing_ok=True)
        raise BackupError(f"The backup failed: {err}") from err
    return target.stat().st_size
