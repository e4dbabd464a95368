"""Groups of the team: who may use which bot, and a monthly budget per group.

- `webapp.groups.model`: the shapes (`Group`, `BotAccess`, `TeamBots`,
  `GroupChange`) and the rules for names and groups claims.
- `webapp.groups.store`: the groups in the database (schema revision 0015), every
  change audited, and `place_by_claim` for single sign-on.
- `webapp.groups.admission`: `BotAccessRule`, the answer service's rule that
  refuses an answer from a bot none of the member's groups may use.
- `webapp.groups.usage` / `usage_view`: usage per group (the sum of its
  members') on the Statistics page.
- `webapp.groups.view`: what pages show of bot access (the bots offered,
  greyed bots with why); `webapp.groups.admin_view`: the Team page's Groups tab.

Budgets per group are read by `webapp.budgets.book` (`group_limits`): the
member's own limit first, then the lowest of their groups', then the team
default.
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
