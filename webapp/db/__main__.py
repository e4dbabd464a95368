"""`python -m webapp.db upgrade | current | backup FILE`: the schema and backups by hand.

The database is `ABLT_DB_URL` (else the SQLite file under `data/`), as for
the app. `upgrade` brings it to the newest revision (the app also does this
on start, under the same lock); `current` prints its version; `backup FILE`
copies a SQLite database while the app runs (SQLite's online backup; for
PostgreSQL use `pg_dump`, see docs/deploy.md).
"""

from __future__ import annotations

import sys

from webapp.db.backup import BackupError, backup_sqlite
from webapp.db.engine import db_url_from_env, make_engine
from webapp.db.migrations import LATEST_VERSION, current_version, upgrade

USAGE = "usage: python -m webapp.db upgrade | current | backup FILE"


def main(argv: list[str]) -> int:
    """Run one command; returns the process exit status (2: bad usage, 1: failed)."""
    if not argv or argv[0] not in {"upgrade", "current", "backup"}:
        print(USAGE, file=sys.stderr)
        return 2
    url = db_url_from_env()
    if argv[0] == "backup":
        if len(argv) != 2:
            print(USAGE, file=sys.stderr)
            return 2
        try:
            size = backup_sqlite(url, argv[1])
        except BackupError as err:
            print(err, file=sys.stderr)
            return 1
        print(f"Backed up to {argv[1]} ({size:,} bytes).")
        return 0
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execution_options(ablt_write=True)
            with conn.begin():
                if argv[0] == "current":
                    found = current_version(conn)
                    state = "current" if found == LATEST_VERSION else f"newest is {LATEST_VERSION}"
                    print(f"Schema version {found} ({state}).")
                    return 0
                was = upgrade(conn)
        print(f"Schema version {was} -> {LATEST_VERSION}.")
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
