"""`SsoStore`: single sign-on's rows in the app's database (migration v14).

- `sso_identities`: an identity of the identity provider, keyed by its
  issuer and subject (`iss` + `sub`, the pair OpenID Connect guarantees
  unique and stable), linked to one member's username once. Only linked
  identities are stored: nothing about an unknown identity is written here.
- `sso_settings` (one row): whether the password form is offered, and the
  email domains whose verified addresses may join the team by themselves.

Every call is one short transaction; nothing is cached in the process, so
a change made in one app process (or by the CLI) holds in every other at
its next script run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webapp.db.engine import serialised_write
from webapp.db.schema import sso_identities as I
from webapp.db.schema import sso_settings as S
from webapp.text.lists import split_items
from webapp.ui.i18n import _

# Any constant works; the same in every process.
_PG_LOCK_KEY: Final = 0x5500A11D
MAX_ISSUER: Final = 512
MAX_SUBJECT: Final = 255
MAX_DOMAINS: Final = 50
# A DNS name: labels of letters, digits and hyphens, at least one dot.
_DOMAIN: Final = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


@dataclass(frozen=True, slots=True)
class Identity:
    """A linked identity: `issuer` + `subject` belong to member `username`.

    `email`: the address the provider gave when it was linked. `last_login_iat`:
    the ID token issue time (seconds since the epoch) of the last login
    written to the audit log, None before the first.
    """

    issuer: str
    subject: str
    username: str
    email: str
    linked_at: datetime
    last_login_iat: int | None


@dataclass(frozen=True, slots=True)
class SsoSettings:
    """The team's single sign-on settings. `password_login`: the password form
    is offered (default True). `self_join_domains`: lower-case email domains
    whose verified addresses may join as members by themselves."""

    password_login: bool = True
    self_join_domains: tuple[str, ...] = ()


class DomainError(ValueError):
    """A self-join domain that is not a domain name; the message says which."""


def parse_domains(text: str) -> tuple[str, ...]:
    """The domains in `text` (separated by commas, semicolons, spaces or new
    lines: `webapp.text.lists.split_items`, so "،" too),
    lower-cased, without a leading "@", duplicates dropped, in order.

    Raises `DomainError` for something that is not a domain name (e.g.
    "gmail" or "a b@c") or more than MAX_DOMAINS of them.
    """
    found: list[str] = []
    for raw in split_items(text, spaces=True):
        domain = raw.lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not _DOMAIN.fullmatch(domain):
            raise DomainError(
                _("{value!r} is not a domain name (e.g. example.com).").format(value=domain[:80])
            )
        if domain not in found:
            found.append(domain)
    if len(found) > MAX_DOMAINS:
        raise DomainError(_("At most {max_domains} domains.").format(max_domains=MAX_DOMAINS))
    return tuple(found)


class SsoStore:
    """`sso_identities` and `sso_settings` over a migrated store's engine.

    `clock`: UTC now, replaceable in tests. Database errors propagate.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- identities -------------------------------------------------------------

    def identity(self, issuer: str, subject: str) -> Identity | None:
        """The linked identity for `issuer` + `subject` (compared exactly), or None."""
        with self.engine.connect() as conn, conn.begin():
            row = (
                conn.execute(sa.select(I).where(I.c.issuer == issuer, I.c.subject == subject))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return Identity(
            issuer=row["issuer"],
            subject=row["subject"],
            username=row["username"],
            email=row["email"],
            linked_at=row["linked_at"],
            last_login_iat=row["last_login_iat"],
        )

    def link(self, issuer: str, subject: str, username: str, email: str) -> bool:
        """Link the identity to `username`; False (nothing changed) when it is
        linked already (the first link stands, even against a race)."""
        if len(issuer) > MAX_ISSUER or len(subject) > MAX_SUBJECT:
            raise ValueError(_("issuer or subject too long to link"))
        with serialised_write(self.engine, _PG_LOCK_KEY) as conn:
            taken = conn.execute(
                sa.select(I.c.username).where(I.c.issuer == issuer, I.c.subject == subject)
            ).first()
            if taken is not None:
                return False
            conn.execute(
                I.insert().values(
                    issuer=issuer,
                    subject=subject,
                    username=username,
                    email=email[:320],
                    linked_at=self._clock(),
                    last_login_iat=None,
                )
            )
        return True

    def note_login(self, issuer: str, subject: str, iat: int) -> bool:
        """Remember `iat` as the identity's last audited login; True when it is
        newer than the one before (a new login at the provider, to audit),
        False for the same login seen again (a reload, another tab)."""
        with serialised_write(self.engine, _PG_LOCK_KEY) as conn:
            result = conn.execute(
                I.update()
                .where(
                    I.c.issuer == issuer,
                    I.c.subject == subject,
                    sa.or_(I.c.last_login_iat.is_(None), I.c.last_login_iat < iat),
                )
                .values(last_login_iat=iat)
            )
            return bool(result.rowcount)

    def identities_of(self, username: str) -> list[Identity]:
        """Every identity linked to `username`, oldest link first."""
        with self.engine.connect() as conn, conn.begin():
            rows = conn.execute(
                sa.select(I).where(I.c.username == username).order_by(I.c.linked_at)
            ).mappings()
            return [
                Identity(
                    issuer=r["issuer"],
                    subject=r["subject"],
                    username=r["username"],
                    email=r["email"],
                    linked_at=r["linked_at"],
                    last_login_iat=r["last_login_iat"],
                )
                for r in rows
            ]

    # -- settings ---------------------------------------------------------------

    def settings(self) -> SsoSettings:
        """The team's settings (the defaults until an admin changed one)."""
        with self.engine.connect() as conn, conn.begin():
            row = conn.execute(sa.select(S).where(S.c.id == 1)).mappings().first()
        if row is None:
            return SsoSettings()
        domains = tuple(d for d in str(row["self_join_domains"]).split(",") if d)
        return SsoSettings(bool(row["password_login"]), domains)

    def _save(self, actor: str | None, **values: object) -> None:
        with serialised_write(self.engine, _PG_LOCK_KEY) as conn:
            exists = conn.execute(sa.select(S.c.id).where(S.c.id == 1)).first() is not None
            stamp = {"updated_at": self._clock(), "updated_by": (actor or "")[:128] or None}
            if exists:
                conn.execute(S.update().where(S.c.id == 1).values(**values, **stamp))
            else:
                base: dict[str, object] = {"password_login": True, "self_join_domains": ""}
                base.update(values)
                conn.execute(S.insert().values(id=1, **base, **stamp))

    def set_password_login(self, enabled: bool, *, actor: str | None = None) -> None:
        """Offer the password form (True) or not (False)."""
        self._save(actor, password_login=enabled)

    def set_self_join_domains(self, domains: Iterable[str], *, actor: str | None = None) -> None:
        """Replace the self-join domains (already checked by `parse_domains`)."""
        self._save(actor, self_join_domains=",".join(parse_domains(",".join(domains))))
