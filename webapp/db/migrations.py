"""Schema upgrades on Alembic: the revisions in `webapp/db/revisions/versions/`.

Each revision is a file `NNNN_what.py` whose revision id is its number
("0013"), one after another (no branches), and which spells out its own DDL
instead of reading the current table definitions (`webapp.db.schema`), so it
stays exactly what it was when released and an old database upgrades the same
way years later.

`upgrade()` runs the missing revisions inside the caller's transaction under
a lock (PostgreSQL advisory lock; SQLite: the caller began with the write
lock), so two processes starting at once neither race nor double-apply.
Alembic records the revision in its own `alembic_version` table.

A database made before Alembic (schema versions 1-12 in our own
`schema_version` table) is recognised: it is stamped at its version and goes
on from there, no data touched. `schema_version` keeps getting a row per
revision applied, so an app from before the move, opened on a newer
database, still refuses it ("newer than this app understands") instead of
writing to tables it does not know.

To change the schema: `alembic -c webapp/db/alembic.ini revision -m "what"`,
name the file `NNNN_what.py` with `revision = "NNNN"`, write its DDL, and
update the current `Table` objects in `webapp.db.schema` to match.
By hand: `python -m webapp.db upgrade` / `python -m webapp.db current`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from webapp.db.schema import schema_version

REVISIONS_DIR: Final = Path(__file__).resolve().parent / "revisions"
VERSION_TABLE: Final = "alembic_version"


@cache
def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(REVISIONS_DIR))
    return ScriptDirectory.from_config(config)


def revision_id(version: int) -> str:
    """The Alembic revision id of schema version `version` (13 -> "0013")."""
    return f"{version:04d}"


def _latest() -> int:
    heads = _scripts().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"The schema revisions must form one line; heads: {heads}")
    return int(heads[0])


LATEST_VERSION: Final = _latest()

# Any constant works; it only has to be the same in every process.
_PG_LOCK_KEY: Final = 0x61B17C4A7


def _lock(conn: Connection) -> None:
    """Serialise migrations across processes for the rest of this transaction."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    # SQLite: the caller's transaction began with BEGIN IMMEDIATE (the write lock).


def _legacy_version(conn: Connection) -> int:
    """The version in our pre-Alembic `schema_version` table, 0 when absent."""
    if not sa.inspect(conn).has_table(schema_version.name):
        return 0
    found = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
    return int(found or 0)


def current_version(conn: Connection) -> int:
    """The schema version of the database behind `conn`, 0 when empty: the
    newer of Alembic's revision and the pre-Alembic `schema_version` (an app
    from before the move may have gone on writing there)."""
    return max(_alembic_version(conn), _legacy_version(conn))


def _alembic_version(conn: Connection) -> int:
    """Alembic's recorded revision as a number, 0 when none; raises RuntimeError
    for a revision that is not one of ours (not a number)."""
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        return 0
    if not revision.isdigit():
        raise RuntimeError(f"The database is at schema revision {revision!r}, unknown to this app.")
    return int(revision)


def upgrade(conn: Connection, target: int = LATEST_VERSION) -> int:
    """Bring the database to `target` inside the caller's transaction; returns
    the version it was at.

    Raises RuntimeError for a database newer than this code (upgrade the app
    instead) and whatever the database raises for a failing revision (the
    caller's transaction then rolls back: nothing half-applied).
    """
    _lock(conn)
    found = current_version(conn)
    if found > LATEST_VERSION:
        raise RuntimeError(
            f"The database schema is version {found}, newer than this app "
            f"understands ({LATEST_VERSION}). Upgrade the app instead."
        )
    if not sa.inspect(conn).has_table(schema_version.name):
        schema_version.create(conn)
    context = MigrationContext.configure(conn)
    if found and _alembic_version(conn) < found:
        # Made before Alembic: continue from where it is.
        context.stamp(_scripts(), revision_id(found))
    if target > found:
        _run_revisions(conn, revision_id(target))
        now = datetime.now(UTC)
        for version in range(found + 1, target + 1):
            conn.execute(schema_version.insert().values(version=version, applied_at=now))
    return found


def _run_revisions(conn: Connection, destination: str) -> None:
    scripts = _scripts()

    def steps(revision: Any, _context: MigrationContext) -> Any:
        return scripts._upgrade_revs(destination, revision)

    config = Config()
    config.set_main_option("script_location", str(REVISIONS_DIR))
    with EnvironmentContext(config, scripts, fn=steps, destination_rev=destination) as env:
        env.configure(connection=conn, version_table=VERSION_TABLE)
        with env.begin_transaction():  # the caller's: Alembic sees it and adds none
            env.run_migrations()
