"""`MemberStore`: the team in the conversation store's database, shared by every process.

    members = MemberStore(store.engine)        # a migrated ConversationStore's engine
    members.add("ann", name="Ann", email="ann@example.com", password="...", role="admin")
    members.get("ann")                         # a Member, read from the database each call

Every call is one short transaction and nothing is cached in the process, so
an edit made by one app process (or the CLI) is what every other one reads on
its next script run. Writers queue (SQLite: BEGIN IMMEDIATE; PostgreSQL: an
advisory transaction lock), so two processes adding members at once never
hand out one user_id twice, and the last-admin rule is checked in the same
transaction that would break it.

Revocation: `sessions_valid_after` is moved to now by a logout, a password
change and disabling; a login cookie issued before it, or an open session
that logged in before it, no longer counts (`login_still_valid`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from webapp.auth.passwords import (
    DEMO_PASSWORD,
    check_or_dummy,
    hash_password,
    is_bcrypt_hash,
    password_problem,
)
from webapp.db.engine import reading, serialised_write
from webapp.db.schema import group_members
from webapp.db.schema import members as MT
from webapp.db.schema import team_state as TS
from webapp.team.model import ADMIN, DEMO_MEMBERS, ROLES, Member, TeamError, username_key
from webapp.ui.i18n import N_, _

# Any constant works; the same in every process, unlike the store's other locks.
_PG_LOCK_KEY: Final = 0x61B17EA3
MAX_USERNAME: Final = 128
# A new member's username (see `check_username`): checked after lower-casing.
_USERNAME: Final = re.compile(r"[a-z0-9][a-z0-9._@-]*")
USERNAME_RULE: Final = N_(
    "A username can use only the letters a to z, digits, dots, "
    "hyphens, underscores and @, and must start with a letter or a "
    "digit."
)
# An imported entry's keys that have columns of their own (the rest go to `extra`).
_OWN_KEYS: Final = frozenset({"name", "email", "password", "roles", "user_id"})
LAST_ADMIN: Final = N_("The team must keep at least one admin who can log in.")


def _to_member(row: RowMapping) -> Member:
    return Member(
        username=row["username"],
        name=row["name"],
        email=row["email"],
        role=row["role"],
        user_id=int(row["user_id"]),
        disabled=bool(row["disabled"]),
        must_change_password=bool(row["must_change_password"]),
        created=row["created_at"],
        last_login=row["last_login_at"],
        sessions_valid_after=row["sessions_valid_after"],
        language=row["language"],
    )


def check_username(username: str) -> str:
    """The key for a NEW member's username; raises TeamError (`USERNAME_RULE`)
    when it cannot be one.

    The alphabet is ASCII letters (lower-cased, as every username is), digits
    and `.`, `_`, `-`, `@` (so an email address works), starting with a letter
    or a digit, at most MAX_USERNAME characters. Why so narrow:

    - A username is drawn in notices, labels and confirmations. Every page
      escapes it (`webapp.text.literal`), and the alphabet is the second
      line: no brackets, parentheses, `!`, `<`, backticks, `*` or `:` means no
      link, image, HTML or Streamlit directive however it is drawn, in the app
      or in a terminal, a log line or a spreadsheet.
    - No Unicode letters: look-alikes ("аdmin" with a Cyrillic "а"), letters
      whose cases do not map one to one ("ß" and "SS"; "İ", which lower-cases
      to two code points) and the two spellings of "é" (one code point or two)
      would give two members the same-looking name, or one member two keys.
      Names (`Member.name`) may be any text.
    - Starting with a letter or digit: no name that reads as a command-line
      option (`-x`) or a hidden file (`.x`).

    Only new members are checked (the Team page's add form and
    `python -m webapp.team add` both come here): a member imported from a team
    file with another username keeps it, logs in and is managed as before.
    """
    key = username_key(username)
    if not key:
        raise TeamError(_("A username cannot be empty."))
    if len(key) > MAX_USERNAME:
        raise TeamError(
            _("A username can be at most {max_username} characters.").format(
                max_username=MAX_USERNAME
            )
        )
    if not _USERNAME.fullmatch(key):
        raise TeamError(USERNAME_RULE)
    return key


def check_role(role: str) -> str:
    """`role` if it is one of ROLES; raises TeamError otherwise."""
    if role not in ROLES:
        raise TeamError(_("The role must be one of {roles}.").format(roles=", ".join(ROLES)))
    return role


class MemberStore:
    """The `members` and `team_state` tables over a migrated store's engine.

    `clock`: UTC now, replaceable in tests. Raises TeamError (plain words)
    for what cannot be done; database errors propagate.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """The store's idea of now (UTC, aware)."""
        return self._clock()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with reading(self.engine) as conn:
            yield conn

    def _write(self) -> AbstractContextManager[Connection]:
        return serialised_write(self.engine, _PG_LOCK_KEY)

    # -- reading ----------------------------------------------------------------

    def members(self) -> list[Member]:
        """Every member, by user_id."""
        with self._read() as conn:
            rows = conn.execute(sa.select(MT).order_by(MT.c.user_id)).mappings()
            return [_to_member(r) for r in rows]

    def has_members(self) -> bool:
        """Whether the team has at least one member."""
        with self._read() as conn:
            return conn.execute(sa.select(MT.c.username).limit(1)).first() is not None

    def get(self, username: str) -> Member | None:
        """The member with this username (any case), or None."""
        with self._read() as conn:
            row = (
                conn.execute(sa.select(MT).where(MT.c.username == username_key(username)))
                .mappings()
                .first()
            )
        return None if row is None else _to_member(row)

    def check_password(self, username: str, password: str) -> bool:
        """Whether `password` is the enabled member `username`'s. bcrypt runs once
        even for an unknown or disabled username (against a dummy hash), so the
        time taken does not tell members from strangers."""
        with self._read() as conn:
            row = conn.execute(
                sa.select(MT.c.password_hash, MT.c.disabled).where(
                    MT.c.username == username_key(username)
                )
            ).first()
        usable = row is not None and not row.disabled
        stored = row.password_hash if row is not None and usable else None
        return check_or_dummy(password, stored) and usable

    def credentials(self, exclude: Collection[str] = ()) -> dict[str, Any]:
        """streamlit-authenticator's credentials dict: enabled members with a
        bcrypt hash, minus `exclude`. A fresh dict per call (the library writes
        into it)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(MT).where(MT.c.disabled.is_(False)).order_by(MT.c.user_id)
            ).mappings()
            users = {
                r["username"]: {
                    "name": r["name"],
                    "email": r["email"],
                    "password": r["password_hash"],
                    "roles": [r["role"]],
                    "user_id": int(r["user_id"]),
                }
                for r in rows
                if r["username"] not in exclude and is_bcrypt_hash(r["password_hash"])
            }
        return {"usernames": users}

    def password_hashes(self) -> dict[str, str | None]:
        """username -> stored bcrypt hash (for the demo-password check; never shown)."""
        with self._read() as conn:
            rows = conn.execute(sa.select(MT.c.username, MT.c.password_hash))
            return {r.username: r.password_hash for r in rows}

    def source(self) -> str | None:
        """Where the team came from ("file:PATH", "demo", "database"), None before that."""
        with self._read() as conn:
            return conn.execute(sa.select(TS.c.source).where(TS.c.id == 1)).scalar()

    def login_still_valid(self, username: str, logged_in_at: datetime) -> bool:
        """Whether a login made at `logged_in_at` (a cookie's issue time, a
        session's login) still counts: the member exists, is enabled, and has
        not logged out, changed password or been disabled since."""
        member = self.get(username)
        if member is None or member.disabled:
            return False
        after = member.sessions_valid_after
        return after is None or logged_in_at > after

    # -- changing ---------------------------------------------------------------

    def _row(self, conn: Connection, username: str) -> RowMapping:
        row = (
            conn.execute(
                sa.select(MT).where(MT.c.username == username_key(username)).with_for_update()
            )
            .mappings()
            .first()
        )
        if row is None:
            raise TeamError(
                _("{username} is not a member.").format(username=username_key(username))
            )
        return row

    @staticmethod
    def _mark_started(conn: Connection, source: str, now: datetime) -> None:
        if conn.execute(sa.select(TS.c.id).where(TS.c.id == 1)).first() is None:
            conn.execute(TS.insert().values(id=1, source=source, started_at=now))

    @staticmethod
    def _next_user_id(conn: Connection) -> int:
        return int(conn.execute(sa.select(sa.func.max(MT.c.user_id))).scalar() or 0) + 1

    def _insert(
        self,
        conn: Connection,
        username: str,
        *,
        name: str,
        email: str,
        password_hash: str | None,
        role: str,
        user_id: int | None = None,
        must_change_password: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        taken = user_id is not None and (
            conn.execute(sa.select(MT.c.username).where(MT.c.user_id == user_id)).first()
            is not None
        )
        conn.execute(
            MT.insert().values(
                username=username,
                user_id=user_id if user_id is not None and not taken else self._next_user_id(conn),
                name=name,
                email=email,
                role=role,
                password_hash=password_hash,
                disabled=False,
                must_change_password=must_change_password,
                created_at=self.now(),
                last_login_at=None,
                sessions_valid_after=None,
                extra=json.dumps(extra or {}, default=str),
            )
        )

    def add(
        self,
        username: str,
        *,
        name: str,
        email: str,
        password: str,
        role: str = "member",
        must_change_password: bool = False,
    ) -> Member:
        """A new member with the next free user_id; raises TeamError for a taken
        or bad username, an unknown role, or a password `password_problem` refuses."""
        key = check_username(username)
        check_role(role)
        problem = password_problem(password)
        if problem:
            raise TeamError(problem)
        password_hash = hash_password(password)  # slow: outside the transaction
        with self._write() as conn:
            if conn.execute(sa.select(MT.c.username).where(MT.c.username == key)).first():
                raise TeamError(_("{key} is already a member.").format(key=key))
            self._insert(
                conn,
                key,
                name=name.strip() or key,
                email=email.strip(),
                password_hash=password_hash,
                role=role,
                must_change_password=must_change_password,
            )
            self._mark_started(conn, "database", self.now())
        member = self.get(key)
        assert member is not None
        return member

    def add_without_password(self, username: str, *, name: str, email: str) -> Member:
        """A new member (role "member") who has no password: they log in through
        single sign-on only (`webapp.auth.sso`, a domain's self-join). A taken
        or bad username raises TeamError."""
        key = check_username(username)
        with self._write() as conn:
            if conn.execute(sa.select(MT.c.username).where(MT.c.username == key)).first():
                raise TeamError(_("{key} is already a member.").format(key=key))
            self._insert(
                conn,
                key,
                name=name.strip() or key,
                email=email.strip(),
                password_hash=None,
                role="member",
            )
            self._mark_started(conn, "database", self.now())
        return self._existing(key)

    def _admins_left(self, conn: Connection, without: str) -> int:
        """Enabled admins other than `without`."""
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(MT)
                .where(MT.c.role == ADMIN, MT.c.disabled.is_(False), MT.c.username != without)
            ).scalar_one()
        )

    def _is_last_admin(self, conn: Connection, row: RowMapping) -> bool:
        """Whether `row` is an enabled admin and no other enabled admin exists."""
        if row["role"] != ADMIN or row["disabled"]:
            return False
        return self._admins_left(conn, row["username"]) == 0

    def set_role(self, username: str, role: str) -> Member:
        """Change a member's role; demoting the last enabled admin raises TeamError."""
        check_role(role)
        with self._write() as conn:
            row = self._row(conn, username)
            if role != ADMIN and self._is_last_admin(conn, row):
                raise TeamError(LAST_ADMIN)
            conn.execute(MT.update().where(MT.c.username == row["username"]).values(role=role))
        return self._existing(username)

    def set_password(self, username: str, password: str, *, must_change: bool = False) -> None:
        """Set a password (rules: `webapp.auth.passwords`); ends every login made before
        (`sessions_valid_after`). `must_change`: a one-time password the member
        must replace at the next login."""
        problem = password_problem(password)
        if problem:
            raise TeamError(problem)
        password_hash = hash_password(password)
        with self._write() as conn:
            row = self._row(conn, username)
            conn.execute(
                MT.update()
                .where(MT.c.username == row["username"])
                .values(
                    password_hash=password_hash,
                    must_change_password=must_change,
                    sessions_valid_after=self.now(),
                )
            )

    def set_disabled(self, username: str, disabled: bool) -> Member:
        """Disable (ends every login at once) or enable a member; disabling the
        last enabled admin raises TeamError."""
        with self._write() as conn:
            row = self._row(conn, username)
            values: dict[str, Any] = {"disabled": disabled}
            if disabled:
                if self._is_last_admin(conn, row):
                    raise TeamError(LAST_ADMIN)
                values["sessions_valid_after"] = self.now()
            conn.execute(MT.update().where(MT.c.username == row["username"]).values(**values))
        return self._existing(username)

    def set_language(self, username: str, language: str | None) -> Member:
        """Store the member's interface language (a locale such as "de"; None:
        follow the browser's). The caller checks it is a shipped language."""
        with self._write() as conn:
            row = self._row(conn, username)
            conn.execute(
                MT.update().where(MT.c.username == row["username"]).values(language=language)
            )
        return self._existing(username)

    def remove(self, username: str) -> None:
        """Remove a member (and their places in groups); removing the last enabled
        admin raises TeamError. Their conversations stay in the store under
        their username."""
        with self._write() as conn:
            row = self._row(conn, username)
            if self._is_last_admin(conn, row):
                raise TeamError(LAST_ADMIN)
            conn.execute(MT.delete().where(MT.c.username == row["username"]))
            # Out of every group too: a later member of that name starts in none.
            conn.execute(group_members.delete().where(group_members.c.username == row["username"]))

    def revoke_logins(self, username: str) -> None:
        """Log out everywhere: every login cookie and session made before now stops
        counting (the Log out button calls this). An unknown username is ignored."""
        with self._write() as conn:
            conn.execute(
                MT.update()
                .where(MT.c.username == username_key(username))
                .values(sessions_valid_after=self.now())
            )

    def record_login(self, username: str, at: datetime | None = None) -> None:
        """Remember when the member last logged in (the Team page shows it)."""
        with self._write() as conn:
            conn.execute(
                MT.update()
                .where(MT.c.username == username_key(username))
                .values(last_login_at=at or self.now())
            )

    def _existing(self, username: str) -> Member:
        member = self.get(username)
        if member is None:
            raise TeamError(
                _("{username} is not a member.").format(username=username_key(username))
            )
        return member

    # -- where the team comes from ---------------------------------------------

    def import_entries(self, entries: list[tuple[str, dict[str, Any]]], source: str) -> int | None:
        """Import streamlit-authenticator entries once: None when the team already
        has a source (nothing done), else how many members were added.

        `entries`: (username, entry) as `webapp.team.yaml_file.entries` gives
        them (bcrypt hashes, user_ids assigned). A username already in the
        database keeps its row. All in one transaction with the mark, so two
        processes starting together import once.
        """
        with self._write() as conn:
            if conn.execute(sa.select(TS.c.id).where(TS.c.id == 1)).first() is not None:
                return None
            added = 0
            for username, entry in entries:
                key = username_key(username)
                if (
                    not key
                    or conn.execute(sa.select(MT.c.username).where(MT.c.username == key)).first()
                ):
                    continue
                roles = entry.get("roles") or []
                roles = [roles] if isinstance(roles, str) else list(roles)
                extra = {k: v for k, v in entry.items() if k not in _OWN_KEYS}
                other_roles = [r for r in roles if r not in ROLES]
                if other_roles:
                    extra["roles"] = other_roles
                uid = entry.get("user_id")
                password = entry.get("password")
                self._insert(
                    conn,
                    key[:MAX_USERNAME],
                    name=str(entry.get("name") or key),
                    email=str(entry.get("email") or ""),
                    password_hash=password if is_bcrypt_hash(password) else None,
                    role=ADMIN if ADMIN in roles else "member",
                    user_id=uid if isinstance(uid, int) and not isinstance(uid, bool) else None,
                    extra=extra,
                )
                added += 1
            self._mark_started(conn, source, self.now())
            return added

    def seed_demo(self) -> bool:
        """The demo team (one admin, one member, the public demo password), once;
        False when the team already had a source."""
        entries = [
            (
                username,
                {
                    "name": name,
                    "email": email,
                    "password": hash_password(DEMO_PASSWORD),
                    "roles": [role],
                },
            )
            for username, name, email, role in DEMO_MEMBERS
        ]
        return self.import_entries(entries, "demo") is not None

    def export_entries(self) -> dict[str, dict[str, Any]]:
        """Every member as a streamlit-authenticator entry (for `export`): name,
        email, password (the bcrypt hash), roles, user_id, the imported extra
        keys, and `disabled: true` for a disabled member."""
        with self._read() as conn:
            rows = list(conn.execute(sa.select(MT).order_by(MT.c.user_id)).mappings())
        found: dict[str, dict[str, Any]] = {}
        for r in rows:
            extra = json.loads(r["extra"] or "{}")
            roles = [r["role"], *[x for x in extra.pop("roles", []) if x != r["role"]]]
            entry: dict[str, Any] = {
                "name": r["name"],
                "email": r["email"],
                "password": r["password_hash"],
                "roles": roles,
                "user_id": int(r["user_id"]),
            }
            if r["disabled"]:
                entry["disabled"] = True
            entry.update({k: v for k, v in extra.items() if k not in entry})
            found[r["username"]] = entry
        return found
