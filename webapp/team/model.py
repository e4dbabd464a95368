"""The team's shapes: `Member`, the roles, the demo team, and `TeamError`.

No Streamlit and no database here: the store (`webapp.team.members`), the
YAML file (`webapp.team.yaml_file`), the CLI and the pages share these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

ROLES: Final = ("admin", "member")
ADMIN: Final = "admin"
MEMBER: Final = "member"
# (username, name, email, role) of the demo team; all use the public demo password.
DEMO_MEMBERS: Final = (
    ("demo-admin", "Demo Admin", "demo-admin@example.com", "admin"),
    ("demo-member", "Demo Member", "demo-member@example.com", "member"),
)
# The demo team is the first a demo database gets, so its members hold user ids
# 1..n; the embedded emulator gives them (and no one else) a usage history.
DEMO_USER_IDS: Final = tuple(range(1, len(DEMO_MEMBERS) + 1))


class TeamError(Exception):
    """A team operation that cannot be done; the message says why, in plain words."""


def username_key(username: str) -> str:
    """A username as the team keys it: stripped and lower-cased (as
    streamlit-authenticator lower-cases the usernames it is given)."""
    return username.lower().strip()


@dataclass(frozen=True)
class Member:
    """One member of the team.

    `user_id` is stable (sent with every chat so usage splits per member);
    `role` is "admin" or "member". The rest is the database's bookkeeping
    (UTC times): `disabled` members cannot log in; `must_change_password`
    after an admin set a one-time password; a login from before
    `sessions_valid_after` (a logout, a password change, disabling) is revoked.
    """

    username: str
    name: str
    email: str
    role: str  # "admin" | "member"
    user_id: int
    disabled: bool = False
    must_change_password: bool = False
    created: datetime | None = None
    last_login: datetime | None = None
    sessions_valid_after: datetime | None = None
    language: str | None = None  # the interface language chosen (a locale); None: browser's

    @property
    def is_admin(self) -> bool:
        """Whether the member may manage the team."""
        return self.role == ADMIN
