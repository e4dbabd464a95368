"""Where the team comes from on the first start: `open_team`.

The first time any process (or the CLI) opens the team on a database, it
takes the team from, in order: an existing `ABLT_AUTH_FILE` (imported once,
hand-written streamlit-authenticator files included), the demo team in demo
mode, or nothing (then the app explains how to add the first admin). The
import and its mark are one transaction, so it happens once across processes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Final

from sqlalchemy.engine import Engine

from webapp.team import yaml_file
from webapp.team.members import MemberStore
from webapp.team.model import TeamError
from webapp.ui.i18n import N_, _

log = logging.getLogger(__name__)

ADD_FIRST_ADMIN: Final = N_(
    "`python -m webapp.team add USER --name NAME --email EMAIL --role admin`"
)


def open_team(
    engine: Engine,
    auth_file: str | os.PathLike[str],
    demo_mode: bool,
    *,
    require_members: bool = True,
) -> MemberStore:
    """The team on `engine` (a migrated store's), set up on first use.

    Raises TeamError when there is no team and none can be made (no file, not
    demo mode; `require_members=False` for the CLI, which adds the first one),
    or when the file to import is broken (not YAML, not a mapping).
    """
    members = MemberStore(engine)
    if members.source() is None:
        path = Path(auth_file)
        if path.exists():
            added = members.import_entries(
                yaml_file.entries(yaml_file.load_team(path)), f"file:{path}"
            )
            if added is not None:
                log.info("Imported %d members from %s into the database", added, path)
        elif demo_mode and members.seed_demo():
            log.info("Demo mode: the demo team is in the database")
    if require_members and not demo_mode and not members.has_members():
        raise TeamError(
            _(
                "The team has no members yet (and there is no team file at "
                "{auth_file} to import). Add the first admin with "
                "{add_first_admin}."
            ).format(auth_file=auth_file, add_first_admin=ADD_FIRST_ADMIN)
        )
    return members
