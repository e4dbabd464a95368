"""The shapes of groups: `Group`, `BotAccess`, `TeamBots`, `GroupChange`, and
the rules for names and groups claims.

No Streamlit and no database here (`webapp.groups.store` reads and writes).

Who may use which bot: a member may use a bot when any of their groups
allows it (a group allows every bot, or the bots listed for it); a member in
no group follows the team's setting for members in no group (`TeamBots`:
every bot unless an admin chose a list).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from webapp.ui.i18n import _, format_number

MAX_NAME: Final = 200  # characters of a group's name (the column's size)
MAX_DESCRIPTION: Final = 2000  # characters of a group's description
MAX_BOT_SLUG: Final = 200  # characters of a bot slug (as conversations keep it)
# A groups claim from an identity provider is capped: the first names only,
# each cut to a group name's size (a longer name matches no group anyway).
MAX_CLAIM_NAMES: Final = 1000
MAX_CLAIM_NAME_CHARS: Final = MAX_NAME


class GroupError(ValueError):
    """A group change that cannot be made; the message says why in plain words."""


def name_key(name: str) -> str:
    """A group name as the team keys it: spaces collapsed, NFKC, case-folded.
    Two names with one key are one group (and a groups claim matches it)."""
    text = unicodedata.normalize("NFKC", " ".join(name.split()))
    return text.casefold()[:MAX_NAME]


def check_name(name: str) -> str:
    """`name` tidied (spaces collapsed, no control characters); raises
    `GroupError` when empty or longer than `MAX_NAME` characters."""
    text = " ".join("".join(ch for ch in name if unicodedata.category(ch) != "Cc").split())
    if not text:
        raise GroupError(_("A group needs a name."))
    if len(text) > MAX_NAME:
        raise GroupError(
            _("A group's name has at most {max_name} characters.").format(max_name=MAX_NAME)
        )
    return text


def check_description(description: str) -> str:
    """`description` stripped; `GroupError` past `MAX_DESCRIPTION` characters."""
    text = description.strip()
    if len(text) > MAX_DESCRIPTION:
        raise GroupError(
            _("A description has at most {max_description} characters.").format(
                max_description=format_number(MAX_DESCRIPTION)
            )
        )
    return text


def check_bots(bots: Iterable[str]) -> frozenset[str]:
    """Bot slugs as stored: stripped, non-empty, at most `MAX_BOT_SLUG` characters."""
    return frozenset(s.strip()[:MAX_BOT_SLUG] for s in bots if s and s.strip())


def claim_keys(names: Iterable[object]) -> list[str]:
    """The group keys a groups claim names, in order, each once: only strings,
    at most `MAX_CLAIM_NAMES` of them read, each cut to
    `MAX_CLAIM_NAME_CHARS` characters before it is keyed. An identity
    provider's claim is untrusted input: a list of 10,000 names or one of
    5,000 characters costs no more than the caps."""
    keys: list[str] = []
    seen: set[str] = set()
    for count, name in enumerate(names):
        if count >= MAX_CLAIM_NAMES:
            break
        # Longer than a group name: it can match no group, so it is not even keyed.
        if not isinstance(name, str) or len(name.strip()) > MAX_CLAIM_NAME_CHARS:
            continue
        key = name_key(name)
        if key and key not in seen:
            seen.add(key)
            keys.append(key)
    return keys


@dataclass(frozen=True, slots=True)
class Group:
    """One group of the team.

    `members`: usernames (as `webapp.team` keys them); `bots`: the bot slugs it
    may use when not `all_bots`; `monthly_limit` / `unit`: its monthly budget
    ("words" | "tokens"), None for no group limit. `managed_by_idp`: the
    identity provider's groups claim decides its members at each login (by
    hand otherwise).
    """

    id: str
    name: str
    description: str = ""
    managed_by_idp: bool = False
    all_bots: bool = True
    bots: frozenset[str] = frozenset()
    members: frozenset[str] = frozenset()
    monthly_limit: int | None = None
    unit: str = "words"
    created_at: datetime | None = None

    def allows(self, bot_slug: str) -> bool:
        """Whether the group's members may use `bot_slug`."""
        return self.all_bots or bot_slug in self.bots


@dataclass(frozen=True, slots=True)
class TeamBots:
    """The bots for members in no group: every bot (`all_bots`), or `bots`."""

    all_bots: bool = True
    bots: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class BotAccess:
    """Which bots one member may use.

    `all_bots`: every bot; else `bots` (slugs). `groups`: the names of the
    member's groups (empty: the team's setting for members in no group
    applies).
    """

    all_bots: bool = True
    bots: frozenset[str] = frozenset()
    groups: tuple[str, ...] = ()

    def allows(self, bot_slug: str) -> bool:
        """Whether the member may use `bot_slug`."""
        return self.all_bots or bot_slug in self.bots

    def why_not(self, bot_name: str) -> str:
        """Why the member may not use the bot named `bot_name` (Markdown-escape
        it where shown), in plain words; ask `allows` first."""
        if self.groups:
            return _(
                "None of your groups may use {bot}. Ask an admin to add it to one of your groups."
            ).format(bot=bot_name)
        return _("Members in no group may not use {bot}. Ask an admin for access.").format(
            bot=bot_name
        )


ALL_BOTS: Final = BotAccess()


def access_of(groups: Iterable[Group], default: TeamBots) -> BotAccess:
    """The member's access from their `groups` (any one allowing a bot is
    enough), or `default` when they are in none."""
    mine = list(groups)
    if not mine:
        return BotAccess(default.all_bots, default.bots, ())
    names = tuple(g.name for g in mine)
    if any(g.all_bots for g in mine):
        return BotAccess(True, frozenset(), names)
    return BotAccess(False, frozenset().union(*(g.bots for g in mine)), names)


@dataclass(frozen=True, slots=True)
class GroupChange:
    """What `place_by_claim` did: the names of the groups the member joined and
    left; `ignored`: how many claimed names placed the member in no group
    (unknown, hand-managed, repeated, or past the caps); `groups`: the
    member's groups managed by the identity provider now."""

    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    ignored: int = 0
    groups: tuple[str, ...] = field(default=())  # the member's identity-provider groups now

    @property
    def changed(self) -> bool:
        """Whether the member's groups changed."""
        return bool(self.joined or self.left)
