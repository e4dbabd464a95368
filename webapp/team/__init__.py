"""The team: members in the database, their YAML import/export, the Team page's logic.

    webapp.team.model      Member, roles, the demo team, TeamError
    webapp.team.members    MemberStore: the `members` table (every process sees one team)
    webapp.team.source     open_team: import ABLT_AUTH_FILE once, or seed the demo team
    webapp.team.yaml_file  streamlit-authenticator's YAML format (import, export)
    webapp.team.actions    the Team page's changes, with the admin rules
    webapp.team.events     record_change: the one seam every Team-page change goes through
    webapp.team.cli        `python -m webapp.team` (add, role, passwd, ..., export)

No Streamlit import in the package (the page side is `webapp.team.view`).
"""

from webapp.auth.passwords import DEMO_PASSWORD
from webapp.team.cli import main
from webapp.team.members import MemberStore
from webapp.team.model import DEMO_MEMBERS, ROLES, Member, TeamError
from webapp.team.source import open_team
from webapp.team.yaml_file import Team, create_demo_team, load_team

__all__ = [
    "DEMO_MEMBERS",
    "DEMO_PASSWORD",
    "ROLES",
    "Member",
    "MemberStore",
    "Team",
    "TeamError",
    "create_demo_team",
    "load_team",
    "main",
    "open_team",
]
