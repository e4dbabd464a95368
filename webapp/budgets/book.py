"""`BudgetBook`: the team's monthly limits in the `budgets` table (migration v8).

One row per member who has a limit of their own (keyed by username, as the
team file and the store key members), and one row for the team default (the
subject `TEAM_DEFAULT`, '', which is never a username). A limit is a number of
words or tokens per calendar month (UTC, see `webapp.budgets.count`), or None:
no limit. Groups have limits too (`webapp.groups`, migration v13). Which one
binds: the member's own limit first (a member row with no limit exempts the
member); else the lowest of their groups' limits (tokens compared as words
at `CHARS_PER_TOKEN / CHARS_PER_WORD`); else the team default.

Every app process reads the same rows, so a limit raised on one process lets
the member send on every other at their next message.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from webapp.db.engine import CountedWrites, reading
from webapp.db.schema import budgets as B
from webapp.groups import store as groups_store
from webapp.groups.store import group_limits
from webapp.ui.i18n import N_, _, format_number

Unit = Literal["words", "tokens"]
UNITS: Final[tuple[Unit, ...]] = ("words", "tokens")
# The units as shown (what is stored and sent keeps the English values).
UNIT_NAMES: Final = {"words": N_("words"), "tokens": N_("tokens")}


def unit_name(unit: str) -> str:
    """A unit ("words"/"tokens") in the session's language (for `format_func`)."""
    return _(UNIT_NAMES[unit]) if unit in UNIT_NAMES else unit


TEAM_DEFAULT: Final = ""  # the subject of the team default's row
MAX_LIMIT: Final = 10**12  # a BIGINT holds it; larger is a typing slip
SOURCE_MEMBER: Final = "member"  # the member's own limit
SOURCE_TEAM: Final = "team"  # the team default
SOURCE_GROUP: Final = "group"  # the lowest limit of the member's groups
# Comparing a group limit in tokens with one in words: the ledger's tokens are
# characters / 4, a word with its space about 6 characters (as webapp.budgets.count).
CHARS_PER_TOKEN: Final = 4
CHARS_PER_WORD: Final = 6


class BudgetError(ValueError):
    """A limit that cannot be set; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class Limit:
    """A monthly limit: `amount` words or tokens (`unit`), or None for no limit.

    `source`: `SOURCE_MEMBER`, `SOURCE_GROUP` or `SOURCE_TEAM` (where it came
    from); `group`: the group's name when it is a group's; `updated_by` /
    `updated_at`: who set it last and when (UTC), None for the built-in "no
    team default" and for a group's.
    """

    amount: int | None
    unit: Unit
    source: str
    updated_by: str | None = None
    updated_at: datetime | None = None
    group: str | None = None

    @property
    def origin(self) -> str:
        """Which limit it is, for the member: "your own limit", "your group
        Sales' limit" (the name as typed: escape it where Markdown renders),
        "the team default"."""
        if self.source == SOURCE_MEMBER:
            return "your own limit"
        if self.source == SOURCE_GROUP:
            name = self.group or ""
            possessive = "'" if name.endswith(("s", "S")) else "'s"
            return f"your group {name}{possessive} limit"
        return "the team default"


NO_DEFAULT: Final = Limit(None, "words", SOURCE_TEAM)


def subject_key(username: str) -> str:
    """A username as the budgets table keys it: stripped, lower-cased (as the team file)."""
    return username.strip().lower()[:128]


def check_limit(amount: int | None, unit: str) -> Unit:
    """The unit, checked; raises `BudgetError` for a negative or huge amount or
    an unknown unit. 0 is allowed: it stops the member sending at all."""
    if unit not in UNITS:
        raise BudgetError(_("The unit must be words or tokens, not {unit!r}.").format(unit=unit))
    if amount is not None and not 0 <= amount <= MAX_LIMIT:
        raise BudgetError(
            _("A monthly limit must be between 0 and {max_limit}.").format(
                max_limit=format_number(MAX_LIMIT)
            )
        )
    return "words" if unit == "words" else "tokens"


def lowest_group_limit(limits: list[tuple[str, int, str]]) -> Limit | None:
    """The lowest of (group name, amount, unit) limits as a `Limit` of
    `SOURCE_GROUP`, tokens compared as words; None without any. A tie goes to
    the first (groups come by name)."""

    def in_words(limit: tuple[str, int, str]) -> float:
        _, amount, unit = limit
        return amount * CHARS_PER_TOKEN / CHARS_PER_WORD if unit == "tokens" else amount

    if not limits:
        return None
    name, amount, unit = min(limits, key=in_words)
    return Limit(amount, "tokens" if unit == "tokens" else "words", SOURCE_GROUP, group=name)


_budget_writes = CountedWrites()  # limits kept by `limit_for` lapse at each
_budget_write = _budget_writes.write


# Limits read lately in this process, for `limit_for(max_age=...)`:
# engine -> username -> (time.monotonic(), budget writes, group writes, limit). Weak:
# an engine disposed of takes its limits along (another may get its id).
_recent: weakref.WeakKeyDictionary[Engine, dict[str, tuple[float, int, int, Limit]]] = (
    weakref.WeakKeyDictionary()
)


class BudgetBook:
    """Reads and writes the team's limits over an engine the store has migrated.

    `engine`: a `ConversationStore.engine`. `clock`: UTC now (tests replace it).
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def _row(self, subject: str) -> sa.RowMapping | None:
        with reading(self.engine) as conn:
            return conn.execute(sa.select(B).where(B.c.subject == subject)).mappings().first()

    @staticmethod
    def _limit(row: sa.RowMapping, source: str) -> Limit:
        amount = row["monthly_limit"]
        return Limit(
            None if amount is None else int(amount),
            "tokens" if row["unit"] == "tokens" else "words",
            source,
            row["updated_by"],
            row["updated_at"],
        )

    def team_default(self) -> Limit:
        """The team default (`NO_DEFAULT` until an admin sets one)."""
        row = self._row(TEAM_DEFAULT)
        return NO_DEFAULT if row is None else self._limit(row, SOURCE_TEAM)

    def limit_for(self, username: str, *, max_age: float = 0.0) -> Limit:
        """The limit that applies to the member: their own, else the lowest of
        their groups', else the team default (two reads).

        `max_age` (s): a limit this process read less than that long ago is
        returned without reading, unless a budget or group was written here
        since. For what is only shown (the chat's budget line, drawn just after
        the send's admission read it); what admits an answer reads now (0)."""
        recent = _recent.setdefault(self.engine, {})
        kept = recent.get(username)
        if (
            max_age > 0
            and kept is not None
            and time.monotonic() - kept[0] < max_age
            and kept[1:3] == (_budget_writes.count, groups_store.writes_so_far())
        ):
            return kept[3]
        writes = (_budget_writes.count, groups_store.writes_so_far())
        limit = self._read_limit(username)
        recent[username] = (time.monotonic(), *writes, limit)
        return limit

    def _read_limit(self, username: str) -> Limit:
        subject = subject_key(username)
        with reading(self.engine) as conn:
            rows = {
                str(r["subject"]): r
                for r in conn.execute(
                    sa.select(B).where(B.c.subject.in_((subject, TEAM_DEFAULT)))
                ).mappings()
            }
        if subject and subject in rows:
            return self._limit(rows[subject], SOURCE_MEMBER)
        lowest = lowest_group_limit(group_limits(self.engine, subject)) if subject else None
        if lowest is not None:
            return lowest
        if TEAM_DEFAULT in rows:
            return self._limit(rows[TEAM_DEFAULT], SOURCE_TEAM)
        return NO_DEFAULT

    def own_limits(self) -> dict[str, Limit]:
        """Every member's own limit, by username (the team default not included)."""
        with reading(self.engine) as conn:
            rows = conn.execute(sa.select(B).where(B.c.subject != TEAM_DEFAULT)).mappings()
            return {str(r["subject"]): self._limit(r, SOURCE_MEMBER) for r in rows}

    def _put(self, subject: str, amount: int | None, unit: str, actor: str) -> None:
        checked = check_limit(amount, unit)
        values = {
            "monthly_limit": amount,
            "unit": checked,
            "updated_at": self._clock(),
            "updated_by": actor[:128],
        }
        insert = (
            postgresql.insert(B) if self.engine.dialect.name == "postgresql" else sqlite.insert(B)
        )
        # One statement, so two admins saving at once on two processes never clash.
        upsert = insert.values(subject=subject, **values).on_conflict_do_update(
            index_elements=[B.c.subject], set_=values
        )
        with _budget_write(self.engine) as conn:
            conn.execute(upsert)

    def set_team_default(self, amount: int | None, unit: str, *, actor: str) -> None:
        """Set the team default (None: no limit); `BudgetError` when invalid."""
        self._put(TEAM_DEFAULT, amount, unit, actor)

    def set_member_limit(self, username: str, amount: int | None, unit: str, *, actor: str) -> None:
        """Give the member a limit of their own (None: no limit, whatever the
        team default); `BudgetError` when invalid."""
        subject = subject_key(username)
        if not subject:
            raise BudgetError(_("Pick a member."))
        self._put(subject, amount, unit, actor)

    def clear_member_limit(self, username: str) -> bool:
        """The member follows the team default again; False when they already did."""
        with _budget_write(self.engine) as conn:
            done = conn.execute(sa.delete(B).where(B.c.subject == subject_key(username)))
            return done.rowcount > 0
