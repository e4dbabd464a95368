"""Groups of the team: who may use which bot, and a monthly budget per group.

- `webapp.groups.model`: the shapes (`Group`, `BotAccess`, `TeamBots`,
  `GroupChange`) and the rules for names and groups claims.
- `webapp.groups.store`: the groups in the database (migration v13), every
  change audited, and `place_by_claim` for single sign-on.
- `webapp.groups.admission`: `BotAccessRule`, the answer service's rule that
  refuses an answer from a bot none of the member's groups may use.
- `webapp.groups.view` / `admin_view`: what the pages show (greyed bots, the
  Team page's Groups section).
"""

from __future__ import annotations

from webapp.groups.model import (
    ALL_BOTS,
    BotAccess,
    Group,
    GroupChange,
    GroupError,
    TeamBots,
)
from webapp.groups.store import (
    GroupNotFound,
    access_for,
    may_use,
    place_by_claim,
)

__all__ = [
    "ALL_BOTS",
    "BotAccess",
    "Group",
    "GroupChange",
    "GroupError",
    "GroupNotFound",
    "TeamBots",
    "access_for",
    "may_use",
    "place_by_claim",
]
