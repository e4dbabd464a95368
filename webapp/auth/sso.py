"""Who gets in through single sign-on (OpenID Connect): `admit(claims, ...)`.

`claims` are the ID token's claims as Streamlit keeps them in `st.user`
after `st.login()` (Authlib checked the token's signature, `iss`, `aud`,
`exp` and nonce at the callback). The rules (issue 22):

1. An identity is its issuer and subject (`iss` + `sub`, OpenID Connect
   Core 1.0 section 2: unique and never reassigned within an issuer). Once
   linked to a member it always means that member (`SsoStore`).
2. An identity not linked yet links, at its first login, to the member
   whose email is the same, only when the provider says the address is
   verified (`email_verified`, or no such claim from a provider configured
   with `trust_email`): an unverified address is anybody's.
3. An identity matching no member is refused ("No member of this team uses
   alice@other.org; ask an admin"), unless its verified email's domain is one
   the admin let join by itself (the Team page): then it becomes a new member
   with the role "member" and no password. Nothing about a refused identity is
   written but an audit entry.
4. A linked member who is disabled or removed is refused; so is a login at
   the provider (the token's `iat`) not later than the member's
   `sessions_valid_after` (a Log out, a disable, a password reset): the
   30-day cookie of `st.login` never outlives them.
5. At each new login at the provider (a newer `iat`): the groups claim
   (capped: `groups_from_claims`) goes to the groups hook (`set_groups_hook`,
   wired to the Groups feature, e.g. `set_groups_hook(lambda engine, member,
   names: place_by_claim(engine, member.user_id, names))`), and membership of the configured admin
   group makes the member an admin (never the reverse: demoting stays an
   admin's decision, and the team must keep an admin).

Every login, refusal (with its reason), link, self-join and role or group
change is written to the audit log (`AuditLog.record_sso`); a refusal of the
same login is written once per process, not at every page load.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy.engine import Engine

from webapp.audit.log import AuditLog
from webapp.auth.sso_config import SsoConfig
from webapp.auth.sso_store import MAX_ISSUER, MAX_SUBJECT, SsoStore
from webapp.team.members import MAX_USERNAME, MemberStore, check_username
from webapp.team.model import ADMIN, Member, TeamError
from webapp.ui.i18n import N_, _

log = logging.getLogger(__name__)

MAX_GROUPS: Final = 200  # names taken from a groups claim; the rest are ignored
MAX_GROUP_NAME: Final = 200  # longer names are ignored (a cut name could match another group)
MAX_EMAIL: Final = 320

# Why a login is refused (the audit log's detail says the same).
UNKNOWN: Final = N_("unknown identity")
UNVERIFIED: Final = N_("unverified email")
DISABLED: Final = "disabled"
REMOVED: Final = N_("removed member")
ENDED: Final = N_("logged out or disabled since")
INCOMPLETE: Final = N_("incomplete identity")

GroupsHook = Callable[[Engine, Member, list[str]], Iterable[str] | None]
"""(engine, member, group names from the claim) -> descriptions of the changes
made (each written to the audit log as a group change), or None."""

_groups_hook: GroupsHook | None = None
_reported: dict[tuple[str, str, int, str], None] = {}
_reported_lock = threading.Lock()
_MAX_REPORTED: Final = 10_000


def set_groups_hook(hook: GroupsHook | None) -> None:
    """Install the function that places a member in groups by the provider's
    groups claim at each login (None: nobody; the claim is still audited)."""
    global _groups_hook
    _groups_hook = hook


@dataclass(frozen=True, slots=True)
class Claims:
    """The parts of an ID token the rules use. `email` lower-cased ('' when
    none); `iat`: issue time, seconds since the epoch (0 when missing)."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    iat: int
    groups: tuple[str, ...]
    groups_sent: bool = False  # the token has the groups claim at all (even empty)


@dataclass(frozen=True, slots=True)
class Admission:
    """The outcome: `member` let in, or `problem` to show (plain words) and
    `reason` (one of the constants above) for the audit log."""

    member: Member | None = None
    problem: str = ""
    reason: str = ""


def groups_from_claims(claims: Mapping[str, Any], claim: str) -> tuple[str, ...]:
    """The group names in `claims[claim]`: a list of strings (or one string),
    stripped, empty and over-long names dropped, duplicates dropped, at most
    MAX_GROUPS. Anything else (a number, a mapping) gives ()."""
    value = claims.get(claim)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    found: dict[str, None] = {}
    for item in value[: MAX_GROUPS * 5]:
        if isinstance(item, str) and 0 < len(item.strip()) <= MAX_GROUP_NAME:
            found.setdefault(item.strip(), None)
            if len(found) >= MAX_GROUPS:
                break
    return tuple(found)


def _verified(value: object) -> bool:
    # Some providers (e.g. Amazon Cognito) send the string "true".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def read_claims(claims: Mapping[str, Any], config: SsoConfig) -> Claims:
    """The ID token's claims as `Claims` (missing or odd values become ''/0)."""
    email = claims.get("email")
    name = claims.get("name")
    iat = claims.get("iat")
    return Claims(
        issuer=str(claims.get("iss") or "")[: MAX_ISSUER + 1],
        subject=str(claims.get("sub") or "")[: MAX_SUBJECT + 1],
        email=email.strip().lower()[:MAX_EMAIL] if isinstance(email, str) else "",
        email_verified=_verified(claims.get("email_verified"))
        or (
            "email_verified" not in claims
            and str(claims.get("provider") or "") in config.trusted_email
        ),
        name=name.strip()[:200] if isinstance(name, str) else "",
        iat=int(iat) if isinstance(iat, (int, float)) and not isinstance(iat, bool) else 0,
        groups=groups_from_claims(claims, config.groups_claim),
        groups_sent=config.groups_claim in claims,
    )


def unknown_message(email: str) -> str:
    """The refusal for an identity that is no member's."""
    who = email or "this account"
    return f"No member of this team uses {who}; ask an admin."


def _problem(reason: str, c: Claims) -> str:
    if reason == UNKNOWN:
        return unknown_message(c.email)
    if reason == UNVERIFIED:
        return (
            f"The identity provider has not verified {c.email or 'your email address'}, so it "
            "cannot be matched to a member of this team. Verify it there, or ask an admin."
        )
    if reason == DISABLED:
        return "This account is disabled; ask an admin."
    if reason == REMOVED:
        return unknown_message(c.email)
    if reason == ENDED:
        return (
            "Your single sign-on login has ended (you logged out, or an admin disabled "
            "your account since). Continue with single sign-on to log in again."
        )
    return "The identity provider's answer names no account (no issuer or subject)."


def login_time(iat: int) -> datetime:
    """The ID token's issue time as an aware UTC datetime."""
    return datetime.fromtimestamp(iat, UTC)


def _still_valid(member: Member, iat: int) -> bool:
    """A login at the provider at `iat` (whole seconds, rounded down) is
    later than the member's `sessions_valid_after` for sure; a login in the
    same second as a logout counts as before it (refused: log in again)."""
    after = member.sessions_valid_after
    return after is None or iat > after.timestamp()


def _refuse(audit: AuditLog, reason: str, c: Claims, target: str | None = None) -> Admission:
    key = (c.issuer, c.subject, c.iat, reason)
    with _reported_lock:
        first = key not in _reported
        if first:
            if len(_reported) >= _MAX_REPORTED:
                _reported.clear()
            _reported[key] = None
    if first:
        actor = c.email or f"{c.issuer} {c.subject}".strip()
        audit.record_sso(actor[:128], "login refused", target, reason)
        log.info("single sign-on refused: %s", reason)
    return Admission(problem=_problem(reason, c), reason=reason)


def _member_by_email(team: MemberStore, email: str) -> list[Member]:
    return [m for m in team.members() if email and m.email.strip().lower() == email]


def _new_username(team: MemberStore, email: str) -> str:
    """A free username for a self-joining member: the email address (the
    username alphabet allows it), else its local part; "-2", "-3"... if taken."""
    local = email.split("@", 1)[0]
    for base in (email, local, "member"):
        try:
            key = check_username(base[: MAX_USERNAME - 4])
        except TeamError:
            continue
        for n in range(1, 100):
            candidate = key if n == 1 else f"{key}-{n}"
            if team.get(candidate) is None:
                return candidate
    raise TeamError(_("No free username for a new member."))


def admit(
    claims: Mapping[str, Any],
    *,
    team: MemberStore,
    store: SsoStore,
    audit: AuditLog,
    config: SsoConfig,
) -> Admission:
    """Apply the rules of this module to an identity; see the module's docstring.

    Writes the link, a self-joined member, the last audited login and the
    audit entries; database errors propagate (the caller says "try again").
    """
    c = read_claims(claims, config)
    if not c.issuer or not c.subject or len(c.issuer) > MAX_ISSUER or len(c.subject) > MAX_SUBJECT:
        return _refuse(audit, INCOMPLETE, c)
    identity = store.identity(c.issuer, c.subject)
    if identity is None:
        matches = _member_by_email(team, c.email)
        domain = c.email.rsplit("@", 1)[-1] if "@" in c.email else ""
        may_join = bool(domain) and domain in store.settings().self_join_domains
        if len(matches) > 1:
            return _refuse(audit, UNKNOWN, c)  # two members share it: an admin must link
        if (matches or may_join) and not c.email_verified:
            return _refuse(audit, UNVERIFIED, c, matches[0].username if matches else None)
        if matches:
            member = matches[0]
            if member.disabled:
                return _refuse(audit, DISABLED, c, member.username)
            store.link(c.issuer, c.subject, member.username, c.email)
            audit.record_sso(member, "identity linked", member, f"{c.email} ({c.issuer})")
        elif may_join:
            member = team.add_without_password(
                _new_username(team, c.email), name=c.name or c.email, email=c.email
            )
            store.link(c.issuer, c.subject, member.username, c.email)
            audit.record_sso(member, "joined by email domain", member, f"{c.email} as member")
        else:
            return _refuse(audit, UNKNOWN, c)
        identity = store.identity(c.issuer, c.subject)
        if identity is None:  # pragma: no cover - the row was just written
            return _refuse(audit, UNKNOWN, c)
    found = team.get(identity.username)
    if found is None:
        return _refuse(audit, REMOVED, c, identity.username)
    if found.disabled:
        return _refuse(audit, DISABLED, c, found.username)
    if not _still_valid(found, c.iat):
        return _refuse(audit, ENDED, c, found.username)
    if store.note_login(c.issuer, c.subject, c.iat):
        audit.record_sso(found, "logged in", None, c.issuer)
        found = _apply_claims(found, c, team=team, audit=audit, config=config)
    return Admission(member=found)


def _apply_claims(
    member: Member, c: Claims, *, team: MemberStore, audit: AuditLog, config: SsoConfig
) -> Member:
    """The groups claim to the hook, and the admin group's promotion."""
    names = list(c.groups)
    if names:
        audit.record_sso(member, "groups claim", member, ", ".join(names)[:2000])
    hook = _groups_hook
    # No claim at all says nothing about groups (a provider not set up to send
    # them): the hook is called only when the token has the claim, even empty.
    if hook is not None and c.groups_sent:
        try:
            for change in hook(team.engine, member, names) or ():
                audit.record_sso(member, "group change", member, str(change)[:2000])
        except Exception:  # a groups fault must not stop the login itself
            log.warning("The groups claim could not be applied", exc_info=True)
    if config.admin_group and config.admin_group in c.groups and member.role != ADMIN:
        member = team.set_role(member.username, ADMIN)
        audit.record_sso(member, "role from provider", member, f"admin ({config.admin_group})")
    return member
