"""What the admin's Team page (and a member's own password forms) do, without Streamlit.

Each change goes through `record_change` (`webapp.team.events`). The rules
that keep the team manageable are here and in the store: an admin cannot
remove, demote or disable themself, the team keeps at least one enabled
admin (checked in the store's write transaction, `MemberStore`), and the
`protected` accounts (the shared demo accounts in demo mode, issue 11) keep
their role, password and access.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Final

from webapp.auth.passwords import password_problem
from webapp.team.events import record_change
from webapp.team.members import MemberStore
from webapp.team.model import Member, TeamError, username_key
from webapp.ui.i18n import N_, _

# Letters and digits that cannot be mistaken for one another when read aloud or copied.
_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_GROUPS: Final = 4
ONE_TIME_GROUP_SIZE: Final = 4
NOT_YOURSELF: Final = N_("You cannot {what} yourself: ask another admin.")
PROTECTED: Final = N_(
    "{username} is a shared demo account: in demo mode it keeps its "
    "role and the password the login page shows, so nobody can lock "
    "the others out of the demo."
)

# words used this month per username, for the members list; the budgets
# feature supplies the real one (`words_this_month=` of `member_rows`).
WordsThisMonth = Callable[[Sequence[Member]], Mapping[str, int]]


def no_words(members: Sequence[Member]) -> Mapping[str, int]:
    """The default `WordsThisMonth`: nothing known (the column stays empty)."""
    return {}


def one_time_password() -> str:
    """A random password to hand over once, e.g. "k7mq-xr2p-9hfd-wc3t" (16 symbols
    from 31: about 79 bits), which passes `password_problem`."""
    groups = (
        "".join(secrets.choice(_ALPHABET) for _ in range(ONE_TIME_GROUP_SIZE))
        for _ in range(ONE_TIME_GROUPS)
    )
    return "-".join(groups)


def _not_self(actor: Member, username: str, what: str) -> None:
    if username_key(username) == actor.username:
        raise TeamError(NOT_YOURSELF.format(what=what))


def _not_protected(username: str, protected: Collection[str]) -> None:
    if username_key(username) in protected:
        raise TeamError(PROTECTED.format(username=username_key(username)))


def _admin(actor: Member) -> None:
    if not actor.is_admin:
        raise TeamError(_("Only an admin can change the team."))


def add_member(
    members: MemberStore, actor: Member, username: str, *, name: str, email: str, role: str
) -> tuple[Member, str]:
    """Add a member with a one-time password; returns (member, that password),
    to show once. The member must change it at the first login."""
    _admin(actor)
    password = one_time_password()
    member = members.add(
        username, name=name, email=email, password=password, role=role, must_change_password=True
    )
    record_change(
        actor.username, "add member", member.username, f"as {member.role}", engine=members.engine
    )
    return member, password


def change_role(
    members: MemberStore,
    actor: Member,
    username: str,
    role: str,
    protected: Collection[str] = (),
) -> Member:
    """Set a member's role; not one's own, and never the last admin's away.

    `protected`: usernames no admin may change (the demo accounts in demo mode)."""
    _admin(actor)
    _not_self(actor, username, "change the role of")
    _not_protected(username, protected)
    before = members.get(username)
    member = members.set_role(username, role)
    was = before.role if before is not None else "?"
    record_change(
        actor.username,
        "set role",
        member.username,
        f"{was} -> {member.role}",
        engine=members.engine,
    )
    return member


def reset_password(
    members: MemberStore, actor: Member, username: str, protected: Collection[str] = ()
) -> str:
    """A new one-time password for a member (returned, to show once); their
    logins end at once and they must change it at the next login."""
    _admin(actor)
    _not_self(actor, username, "reset the password of")
    _not_protected(username, protected)
    password = one_time_password()
    members.set_password(username, password, must_change=True)
    record_change(actor.username, "reset password", username_key(username), engine=members.engine)
    return password


def set_enabled(
    members: MemberStore,
    actor: Member,
    username: str,
    enabled: bool,
    protected: Collection[str] = (),
) -> Member:
    """Enable or disable a member (a disabled one's open sessions end on their
    next action); not oneself, never the last admin."""
    _admin(actor)
    _not_self(actor, username, "disable")
    _not_protected(username, protected)
    member = members.set_disabled(username, not enabled)
    action = "enable member" if enabled else "disable member"
    record_change(actor.username, action, member.username, engine=members.engine)
    return member


def check_removal(
    actor: Member, username: str, confirm: str, protected: Collection[str] = ()
) -> None:
    """Raise TeamError unless `actor` may remove `username` with this `confirm`."""
    _admin(actor)
    _not_self(actor, username, "remove")
    _not_protected(username, protected)
    if username_key(confirm) != username_key(username):
        raise TeamError(
            _("Type {username} to confirm the removal.").format(username=username_key(username))
        )


def remove_member(
    members: MemberStore,
    actor: Member,
    username: str,
    confirm: str,
    protected: Collection[str] = (),
) -> None:
    """Remove a member once `confirm` repeats their username; not oneself, never
    the last admin. Their conversations stay in the database (the Team page
    erases them first when the admin chose so)."""
    check_removal(actor, username, confirm, protected)
    members.remove(username)
    record_change(actor.username, "remove member", username_key(username), engine=members.engine)


def change_own_password(
    members: MemberStore, member: Member, current: str, new: str, repeat: str
) -> str | None:
    """A member changes their own password: a problem in plain words, or None
    when done. Clears `must_change_password`; ends the member's other logins."""
    if not members.check_password(member.username, current):
        return "The current password is not correct."
    problem = password_problem(new, repeat)
    if problem:
        return problem
    if new == current:
        return "Choose a password different from the current one."
    try:
        members.set_password(member.username, new)
    except TeamError as err:
        return str(err)
    record_change(member.username, "change password", member.username, engine=members.engine)
    return None


def member_rows(
    team: Sequence[Member], words_this_month: WordsThisMonth = no_words
) -> list[dict[str, Any]]:
    """The members list as table rows: name, username, email, role, status,
    last login (UTC), words this month (None when unknown)."""
    words = words_this_month(team)
    return [
        {
            "name": m.name,
            "username": m.username,
            "email": m.email,
            "role": m.role,
            "status": "disabled"
            if m.disabled
            else ("must change password" if m.must_change_password else "active"),
            "last login": m.last_login.strftime("%Y-%m-%d %H:%M UTC") if m.last_login else "never",
            "words this month": words.get(m.username),
        }
        for m in team
    ]
