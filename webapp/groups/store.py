"""Groups in the database (schema revision 0015): reading, changing (each change in
the audit log), and placing a member by an identity provider's groups claim.

Every function takes the store's engine (`ConversationStore.engine`, migrated
to revision 0015), so every app process reads the same groups: a change made on one
process holds on every other at the member's next answer. Changes raise
`GroupError` (plain words) for what cannot be done, `GroupNotFound` for a
group that is gone, and the database's errors.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webapp.audit import AuditLog
from webapp.db.engine import CountedWrites, reading
from webapp.db.schema import group_bots as GB
from webapp.db.schema import group_members as GM
from webapp.db.schema import members as MT
from webapp.db.schema import team_groups as G
from webapp.db.schema import team_settings as TS
from webapp.groups.model import (
    BotAccess,
    Group,
    GroupChange,
    GroupError,
    TeamBots,
    access_of,
    check_bots,
    check_description,
    check_name,
    claim_keys,
    name_key,
)
from webapp.team.model import Member as TeamMember
from webapp.ui.i18n import _, format_number

# team_settings key of the bots for members in no group: {"all": bool, "bots": [...]}
UNGROUPED_BOTS: Final = "bots_for_members_in_no_group"
UNITS: Final = ("words", "tokens")
MAX_LIMIT: Final = 10**12  # as webapp.budgets.book.MAX_LIMIT


class GroupNotFound(GroupError, LookupError):
    """The group no longer exists (another admin removed it)."""

    def __init__(self) -> None:
        super().__init__("That group no longer exists.")


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _read(engine: Engine) -> Iterator[Connection]:
    with reading(engine) as conn:
        yield conn


_writes = CountedWrites()  # this process's group writes (`writes_so_far`)
_write = _writes.write


def writes_so_far() -> int:
    """How many times this process began or ended a group write: a reader that
    keeps what it read (the budget line's recent limit, `BudgetBook.limit_for`;
    the bot rule's recheck) compares it."""
    return _writes.count


def _audit(engine: Engine, actor: object, action: str, target: object, detail: str) -> None:
    AuditLog(engine).record_change(actor, action, target, detail)


# ------------------------------------------------------------------ reading


def _groups(conn: Connection, where: sa.ColumnElement[bool] | None = None) -> list[Group]:
    query = sa.select(G).order_by(G.c.name_key)
    if where is not None:
        query = query.where(where)
    rows = list(conn.execute(query).mappings())
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    bots: dict[str, set[str]] = defaultdict(set)
    for gid, slug in conn.execute(
        sa.select(GB.c.group_id, GB.c.bot_slug).where(GB.c.group_id.in_(ids))
    ):
        bots[gid].add(slug)
    members: dict[str, set[str]] = defaultdict(set)
    # Only members still in the team (a removed member's rows are ignored).
    joined = sa.select(GM.c.group_id, GM.c.username).join(MT, MT.c.username == GM.c.username)
    for gid, username in conn.execute(joined.where(GM.c.group_id.in_(ids))):
        members[gid].add(username)
    return [
        Group(
            id=r["id"],
            name=r["name"],
            description=r["description"],
            managed_by_idp=bool(r["managed_by_idp"]),
            all_bots=bool(r["all_bots"]),
            bots=frozenset(bots[r["id"]]),
            members=frozenset(members[r["id"]]),
            monthly_limit=None if r["monthly_limit"] is None else int(r["monthly_limit"]),
            unit="tokens" if r["unit"] == "tokens" else "words",
            created_at=r["created_at"],
        )
        for r in rows
    ]


def list_groups(engine: Engine) -> list[Group]:
    """Every group of the team, by name."""
    with _read(engine) as conn:
        return _groups(conn)


def get_group(engine: Engine, group_id: str) -> Group:
    """One group; `GroupNotFound` when it is gone."""
    with _read(engine) as conn:
        found = _groups(conn, G.c.id == group_id)
    if not found:
        raise GroupNotFound()
    return found[0]


def groups_of(engine: Engine, username: str) -> list[Group]:
    """The groups `username` is in, by name."""
    key = username.strip().lower()
    with _read(engine) as conn:
        mine = sa.select(GM.c.group_id).where(GM.c.username == key)
        return _groups(conn, G.c.id.in_(mine))


def _team_bots(conn: Connection) -> TeamBots:
    row = conn.execute(sa.select(TS.c.value).where(TS.c.key == UNGROUPED_BOTS)).first()
    if row is None:
        return TeamBots()
    try:
        value = json.loads(row[0])
        return TeamBots(bool(value.get("all", True)), check_bots(value.get("bots") or ()))
    except (ValueError, TypeError, AttributeError):
        return TeamBots()  # an unreadable setting allows what a new team allows


def team_bots(engine: Engine) -> TeamBots:
    """The bots for members in no group (every bot until an admin chooses)."""
    with _read(engine) as conn:
        return _team_bots(conn)


def access_for(engine: Engine, username: str) -> BotAccess:
    """Which bots `username` may use now (one read of their groups and the
    team's setting): see `webapp.groups.model.access_of`."""
    key = username.strip().lower()
    with _read(engine) as conn:
        mine = sa.select(GM.c.group_id).where(GM.c.username == key)
        return access_of(_groups(conn, G.c.id.in_(mine)), _team_bots(conn))


def may_use(engine: Engine, username: str, bot_slug: str) -> bool:
    """Whether `username` may use the bot `bot_slug` now."""
    return access_for(engine, username).allows(bot_slug)


def group_limits(engine: Engine, username: str) -> list[tuple[str, int, str]]:
    """(group name, monthly limit, unit) of each of `username`'s groups that
    has a limit, by name (one read: the budget asks on every page run)."""
    query = (
        sa.select(G.c.name, G.c.monthly_limit, G.c.unit)
        .join(GM, GM.c.group_id == G.c.id)
        .where(GM.c.username == username.strip().lower(), G.c.monthly_limit.is_not(None))
        .order_by(G.c.name_key)
    )
    with _read(engine) as conn:
        return [
            (str(name), int(amount), "tokens" if unit == "tokens" else "words")
            for name, amount, unit in conn.execute(query)
        ]


def members_by_group(engine: Engine) -> dict[str, list[tuple[str, int]]]:
    """Each group's name -> its members as (username, user_id), for statistics."""
    query = (
        sa.select(G.c.name, MT.c.username, MT.c.user_id)
        .join(GM, GM.c.group_id == G.c.id)
        .join(MT, MT.c.username == GM.c.username)
        .order_by(G.c.name_key, MT.c.user_id)
    )
    result: dict[str, list[tuple[str, int]]] = {}
    with _read(engine) as conn:
        for name in conn.execute(sa.select(G.c.name).order_by(G.c.name_key)).scalars():
            result[name] = []
        for name, username, user_id in conn.execute(query):
            result[name].append((username, int(user_id)))
    return result


# ------------------------------------------------------------------ changing


def _exists(conn: Connection, group_id: str) -> sa.RowMapping:
    row = conn.execute(sa.select(G).where(G.c.id == group_id)).mappings().first()
    if row is None:
        raise GroupNotFound()
    return row


def _name_free(conn: Connection, name: str, but: str | None = None) -> None:
    query = sa.select(G.c.id).where(G.c.name_key == name_key(name))
    if but is not None:
        query = query.where(G.c.id != but)
    if conn.execute(query).first() is not None:
        raise GroupError(_("A group of that name exists already."))


def create_group(
    engine: Engine,
    name: str,
    description: str = "",
    *,
    actor: object,
    managed_by_idp: bool = False,
) -> Group:
    """A new group allowed every bot, without members or limit; `GroupError`
    for a bad or taken name."""
    clean = check_name(name)
    text = check_description(description)
    group_id = str(uuid.uuid4())
    with _write(engine) as conn:
        _name_free(conn, clean)
        conn.execute(
            G.insert().values(
                id=group_id,
                name=clean,
                name_key=name_key(clean),
                description=text,
                managed_by_idp=managed_by_idp,
                all_bots=True,
                created_at=_now(),
                created_by=str(getattr(actor, "username", actor) or "")[:128] or None,
            )
        )
    _audit(engine, actor, "create group", None, clean)
    return get_group(engine, group_id)


def update_group(
    engine: Engine,
    group_id: str,
    *,
    actor: object,
    name: str | None = None,
    description: str | None = None,
    managed_by_idp: bool | None = None,
) -> Group:
    """Rename, describe, or set who decides the group's members (None: unchanged)."""
    values: dict[str, object] = {}
    said = []
    with _write(engine) as conn:
        row = _exists(conn, group_id)
        if name is not None:
            clean = check_name(name)
            if clean != row["name"]:
                _name_free(conn, clean, group_id)
                values.update(name=clean, name_key=name_key(clean))
                said.append(f"renamed {row['name']} -> {clean}")
        if description is not None:
            text = check_description(description)
            if text != row["description"]:
                values["description"] = text
                said.append("description changed")
        if managed_by_idp is not None and managed_by_idp != bool(row["managed_by_idp"]):
            values["managed_by_idp"] = managed_by_idp
            said.append(
                "members from the identity provider" if managed_by_idp else "members by hand"
            )
        if values:
            conn.execute(G.update().where(G.c.id == group_id).values(**values))
    if said:
        _audit(engine, actor, "change group", None, f"{row['name']}: {'; '.join(said)}")
    return get_group(engine, group_id)


def delete_group(engine: Engine, group_id: str, *, actor: object) -> None:
    """Remove a group (its members and bots go with it; no conversation is
    touched: a member who could use a bot only through it keeps their
    conversations with that bot, readable and exportable)."""
    with _write(engine) as conn:
        row = _exists(conn, group_id)
        conn.execute(GM.delete().where(GM.c.group_id == group_id))
        conn.execute(GB.delete().where(GB.c.group_id == group_id))
        conn.execute(G.delete().where(G.c.id == group_id))
    _audit(engine, actor, "delete group", None, str(row["name"]))


def set_group_bots(
    engine: Engine, group_id: str, all_bots: bool, bots: Iterable[str] = (), *, actor: object
) -> Group:
    """The bots the group may use: every bot, or exactly `bots` (slugs)."""
    chosen = frozenset() if all_bots else check_bots(bots)
    with _write(engine) as conn:
        row = _exists(conn, group_id)
        conn.execute(G.update().where(G.c.id == group_id).values(all_bots=all_bots))
        conn.execute(GB.delete().where(GB.c.group_id == group_id))
        if chosen:
            conn.execute(
                GB.insert(), [{"group_id": group_id, "bot_slug": s} for s in sorted(chosen)]
            )
    said = "every bot" if all_bots else (", ".join(sorted(chosen)) or "no bot")
    _audit(engine, actor, "set group bots", None, f"{row['name']}: {said}")
    return get_group(engine, group_id)


def set_group_budget(
    engine: Engine, group_id: str, amount: int | None, unit: str = "words", *, actor: object
) -> Group:
    """The group's monthly limit (None: no group limit); `GroupError` for a
    negative or huge amount or an unknown unit."""
    if unit not in UNITS:
        raise GroupError(_("The unit must be words or tokens, not {unit!r}.").format(unit=unit))
    if amount is not None and not 0 <= amount <= MAX_LIMIT:
        raise GroupError(
            _("A monthly limit must be between 0 and {max_limit}.").format(
                max_limit=format_number(MAX_LIMIT)
            )
        )
    with _write(engine) as conn:
        row = _exists(conn, group_id)
        conn.execute(G.update().where(G.c.id == group_id).values(monthly_limit=amount, unit=unit))
    said = "no group limit" if amount is None else f"{amount:,} {unit} a month"
    _audit(engine, actor, "set group budget", None, f"{row['name']}: {said}")
    return get_group(engine, group_id)


def add_member(engine: Engine, group_id: str, username: str, *, actor: object) -> bool:
    """Put a member in the group by hand; False when they were in it already.
    `GroupError` for someone not in the team."""
    key = username.strip().lower()
    with _write(engine) as conn:
        row = _exists(conn, group_id)
        if conn.execute(sa.select(MT.c.username).where(MT.c.username == key)).first() is None:
            raise GroupError(_("No member of the team has that username."))
        there = sa.select(GM.c.username).where(GM.c.group_id == group_id, GM.c.username == key)
        if conn.execute(there).first() is not None:
            return False
        conn.execute(GM.insert().values(group_id=group_id, username=key, added_at=_now()))
    _audit(engine, actor, "add to group", key, str(row["name"]))
    return True


def remove_member(engine: Engine, group_id: str, username: str, *, actor: object) -> bool:
    """Take a member out of the group; False when they were not in it."""
    key = username.strip().lower()
    with _write(engine) as conn:
        row = _exists(conn, group_id)
        done = conn.execute(GM.delete().where(GM.c.group_id == group_id, GM.c.username == key))
    if done.rowcount:
        _audit(engine, actor, "remove from group", key, str(row["name"]))
    return bool(done.rowcount)


def set_team_bots(
    engine: Engine, all_bots: bool, bots: Iterable[str] = (), *, actor: object
) -> TeamBots:
    """The bots for members in no group: every bot, or exactly `bots`."""
    chosen = sorted(check_bots(bots)) if not all_bots else []
    value = json.dumps({"all": all_bots, "bots": chosen})
    by = str(getattr(actor, "username", actor) or "")[:128] or None
    with _write(engine) as conn:
        updated = conn.execute(
            TS.update()
            .where(TS.c.key == UNGROUPED_BOTS)
            .values(value=value, updated_at=_now(), updated_by=by)
        )
        if not updated.rowcount:
            conn.execute(
                TS.insert().values(
                    key=UNGROUPED_BOTS, value=value, updated_at=_now(), updated_by=by
                )
            )
    said = "every bot" if all_bots else (", ".join(chosen) or "no bot")
    _audit(engine, actor, "set bots for no group", None, said)
    return team_bots(engine)


# ------------------------------------------------------------ identity provider


def _username_of(conn: Connection, member_id: str | int) -> str | None:
    if isinstance(member_id, int):
        found = conn.execute(sa.select(MT.c.username).where(MT.c.user_id == member_id)).first()
    else:
        key = member_id.strip().lower()
        found = conn.execute(sa.select(MT.c.username).where(MT.c.username == key)).first()
    return None if found is None else str(found[0])


def place_by_claim(
    engine: Engine, member_id: str | int, group_names: Sequence[object]
) -> GroupChange:
    """Put the member in exactly the groups managed by the identity provider
    that the claim `group_names` names (matched by `name_key`, so case and
    spacing do not matter), out of the other ones; hand-managed groups and
    unknown names are left alone. `member_id`: the member's username, or
    their user id (an int).

    The claim is capped (`webapp.groups.model.claim_keys`: the first 1,000
    names, none longer than a group name), and the names are never shown:
    only the groups' own names are (in the audit log, once per change).
    Raises `GroupError` for a member not in the team; database errors."""
    keys = claim_keys(group_names)
    with _write(engine) as conn:
        username = _username_of(conn, member_id)
        if username is None:
            raise GroupError(_("No member of the team has that id."))
        managed = {
            r["name_key"]: (r["id"], r["name"])
            for r in conn.execute(
                sa.select(G.c.id, G.c.name, G.c.name_key).where(G.c.managed_by_idp.is_(True))
            ).mappings()
        }
        wanted = {managed[k][0] for k in keys if k in managed}
        current = set(
            conn.execute(
                sa.select(GM.c.group_id).where(
                    GM.c.username == username,
                    GM.c.group_id.in_([gid for gid, _ in managed.values()]),
                )
            ).scalars()
        )
        joining, leaving = wanted - current, current - wanted
        if leaving:
            conn.execute(GM.delete().where(GM.c.username == username, GM.c.group_id.in_(leaving)))
        now = _now()
        if joining:
            conn.execute(
                GM.insert(),
                [{"group_id": g, "username": username, "added_at": now} for g in sorted(joining)],
            )
    names = {gid: name for gid, name in managed.values()}
    change = GroupChange(
        joined=tuple(sorted(names[g] for g in joining)),
        left=tuple(sorted(names[g] for g in leaving)),
        ignored=len(group_names) - len(wanted),
        groups=tuple(sorted(names[g] for g in wanted)),
    )
    if change.changed:
        detail = "; ".join(
            part
            for part in (
                "joined " + ", ".join(change.joined) if change.joined else "",
                "left " + ", ".join(change.left) if change.left else "",
            )
            if part
        )
        _audit(engine, "identity provider", "groups from sign-in", username, detail)
    return change


def place_by_sso_claim(engine: Engine, member: TeamMember, group_names: list[str]) -> None:
    """The single sign-on groups hook (`webapp.auth.sso.set_groups_hook`): place
    `member` by the provider's groups claim (`place_by_claim`, which audits each
    change itself, so nothing is returned for the hook to audit again)."""
    place_by_claim(engine, member.username, group_names)
