"""Alembic's environment for the `alembic` command line (`alembic -c webapp/db/alembic.ini ...`).

The app itself does not go through this file: `webapp.db.migrations.upgrade`
runs the revisions on its own connection, inside its own transaction and lock.
This one serves the command line: `ABLT_DB_URL` (or the default SQLite file)
is the database.
"""

from __future__ import annotations

from alembic import context

from webapp.db.engine import db_url_from_env, make_engine

with make_engine(db_url_from_env()).connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
