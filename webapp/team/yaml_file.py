"""The team's YAML file in streamlit-authenticator's format: read it to import, write it to export.

The file is streamlit-authenticator's usual YAML format, so a file written by
hand for that library works as it is::

    credentials:
      usernames:
        jsmith:
          name: John Smith
          email: jsmith@example.com
          password: $2b$12$...        # a bcrypt hash, never the password
          roles: [admin]              # or [member]
          user_id: 1                  # ours: splits usage statistics per member

Since issue 9 the team lives in the database (`webapp.team.members`); this
file is read once, on the first start, to import it (`ABLT_AUTH_FILE`), and
written by `python -m webapp.team export`. A member without `user_id` gets
the next free one, in file order, and a plaintext password is hashed; the
file is rewritten to keep both (when it is writable). Other keys (`cookie:`,
`failed_login_attempts`...) are kept as they are. No Streamlit import here.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from webapp.auth.passwords import (
    DEMO_PASSWORD,
    check_or_dummy,
    hash_password,
    is_bcrypt_hash,
    password_matches,
    password_problem,
    too_long_problem,
)
from webapp.team.model import DEMO_MEMBERS, ROLES, Member, TeamError
from webapp.ui.i18n import _

log = logging.getLogger(__name__)

_write_lock = threading.Lock()


def _key(username: str) -> str:
    """A username as the file keys it (streamlit-authenticator lower-cases them)."""
    return username.lower().strip()


def _role_of(entry: dict[str, Any]) -> str:
    roles = entry.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    return "admin" if "admin" in roles else "member"


class Team:
    """One credentials file in memory. Change it, then `save()`."""

    def __init__(self, path: str | os.PathLike[str], config: dict[str, Any]) -> None:
        self.path = Path(path)
        self.config = config
        self.config.setdefault("credentials", {})
        if not isinstance(self.config["credentials"], dict):
            raise TeamError(_("{path}: 'credentials' must be a mapping.").format(path=self.path))
        users = self.config["credentials"].get("usernames") or {}
        if not isinstance(users, dict):
            raise TeamError(
                _("{path}: 'credentials: usernames:' must be a mapping.").format(path=self.path)
            )
        # streamlit-authenticator lower-cases usernames; so do we, to agree with it.
        self.config["credentials"]["usernames"] = {
            str(name).lower(): (entry if isinstance(entry, dict) else {})
            for name, entry in users.items()
        }

    # -- reading --------------------------------------------------------------

    @property
    def _users(self) -> dict[str, dict[str, Any]]:
        users: dict[str, dict[str, Any]] = self.config["credentials"]["usernames"]
        return users

    def _next_user_id(self) -> int:
        """One more than the highest user_id in the file (1 for an empty team)."""
        taken = [e.get("user_id") for e in self._users.values()]
        return max((u for u in taken if isinstance(u, int)), default=0) + 1

    def assign_missing(self) -> bool:
        """Give user_ids to members without one, hash plaintext passwords. True if changed."""
        changed = False
        next_id = self._next_user_id()
        seen: set[int] = set()
        for username, entry in self._users.items():
            uid = entry.get("user_id")
            if not isinstance(uid, int) or isinstance(uid, bool) or uid in seen:
                # File order makes the choice deterministic even when it cannot be saved.
                entry["user_id"] = next_id
                next_id += 1
                changed = True
            seen.add(entry["user_id"])
            password = entry.get("password")
            if isinstance(password, str) and password and not is_bcrypt_hash(password):
                # Same as streamlit-authenticator's auto_hash: a plaintext password
                # never stays on disk once the app or the CLI has read the file.
                if too_long_problem(password):
                    raise TeamError(
                        _(
                            "{path}: the plaintext password of {username} is longer than "
                            "bcrypt's 72 bytes. Replace it with a shorter one."
                        ).format(path=self.path, username=username)
                    )
                log.warning("Hashing the plaintext password of %s in %s", username, self.path)
                entry["password"] = hash_password(password)
                changed = True
        return changed

    def members(self) -> list[Member]:
        return [self._member(username) for username in self._users]

    def _member(self, username: str) -> Member:
        entry = self._users[username]
        return Member(
            username=username,
            name=str(entry.get("name") or username),
            email=str(entry.get("email") or ""),
            role=_role_of(entry),
            user_id=int(entry["user_id"]),
        )

    def get(self, username: str) -> Member | None:
        username = _key(username)
        return self._member(username) if username in self._users else None

    def check_password(self, username: str, password: str) -> bool:
        """Whether `password` is `username`'s; bcrypt runs once even for an unknown username
        (against a dummy hash), so the time taken does not tell members from strangers."""
        entry = self._users.get(_key(username))
        stored = entry.get("password") if entry is not None else None
        return check_or_dummy(password, stored) and entry is not None

    def credentials(self, exclude: Sequence[str] = ()) -> dict[str, Any]:
        """A copy in the shape streamlit-authenticator takes, minus `exclude`."""
        users = {
            name: copy.deepcopy(entry)
            for name, entry in self._users.items()
            if name not in exclude and is_bcrypt_hash(entry.get("password"))
        }
        return {"usernames": users}

    def demo_password_users(self) -> list[str]:
        """Members whose password is the public demo password (a bcrypt check each)."""
        return [
            name
            for name, entry in self._users.items()
            if password_matches(DEMO_PASSWORD, entry.get("password"))
        ]

    # -- changing -------------------------------------------------------------

    def add(
        self, username: str, *, name: str, email: str, password: str, role: str = "member"
    ) -> Member:
        username = _key(username)
        if not username or any(c.isspace() for c in username):
            raise TeamError(_("A username cannot be empty or contain spaces."))
        if username in self._users:
            raise TeamError(_("{username} is already a member.").format(username=username))
        if role not in ROLES:
            raise TeamError(_("The role must be one of {roles}.").format(roles=", ".join(ROLES)))
        problem = password_problem(password)
        if problem:
            raise TeamError(problem)
        self._users[username] = {
            "name": name,
            "email": email,
            "password": hash_password(password),
            "roles": [role],
            "user_id": self._next_user_id(),
        }
        return self._member(username)

    def _existing(self, username: str) -> dict[str, Any]:
        username = _key(username)
        if username not in self._users:
            raise TeamError(_("{username} is not a member.").format(username=username))
        return self._users[username]

    def set_role(self, username: str, role: str) -> Member:
        if role not in ROLES:
            raise TeamError(_("The role must be one of {roles}.").format(roles=", ".join(ROLES)))
        entry = self._existing(username)
        entry["roles"] = [role]
        return self._member(_key(username))

    def set_password(self, username: str, password: str) -> None:
        problem = password_problem(password)
        if problem:
            raise TeamError(problem)
        self._existing(username)["password"] = hash_password(password)

    def remove(self, username: str) -> None:
        self._existing(username)
        del self._users[_key(username)]

    def save(self) -> None:
        """Write atomically (temp file + rename), readable by the owner only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(self.config, sort_keys=False, allow_unicode=True)
        with _write_lock:
            fd, tmp = tempfile.mkstemp(prefix=".auth-", suffix=".yaml", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


# resolved path -> (file version, parsed YAML). Every script run of every session
# loads the team (app.py's login gate); PyYAML takes 10-20 ms to parse a file of
# 20 members, so each version of the file is parsed once per process.
_parsed: dict[str, tuple[tuple[int, int, int], Any]] = {}
_parsed_lock = threading.Lock()


def _read_config(path: Path) -> Any:
    """The file's YAML, parsed once per file version (inode, mtime, size); a deep
    copy each call, so a caller's changes never reach another's Team."""
    stat = path.stat()
    version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    key = str(path.resolve())
    with _parsed_lock:
        cached = _parsed.get(key)
    if cached is None or cached[0] != version:
        text = path.read_text(encoding="utf-8")
        cached = (version, yaml.safe_load(text))
        with _parsed_lock:
            _parsed[key] = cached
    return copy.deepcopy(cached[1])


def load_team(path: str | os.PathLike[str], *, create: bool = False) -> Team:
    """Read the credentials file; persist any user_ids it was missing if possible.

    Raises TeamError when the file is missing (unless `create`), not YAML or not a
    mapping. Parsed once per version of the file (see `_read_config`).
    """
    path = Path(path)
    if not path.exists():
        if create:
            return Team(path, {"credentials": {"usernames": {}}})
        raise TeamError(_("The team file {path} does not exist.").format(path=path))
    try:
        config = _read_config(path) or {}
    except yaml.YAMLError as err:
        raise TeamError(
            _("The team file {path} is not valid YAML: {err}").format(path=path, err=err)
        ) from None
    if not isinstance(config, dict):
        raise TeamError(_("The team file {path} must hold a YAML mapping.").format(path=path))
    team = Team(path, config)
    if team.assign_missing():
        try:
            team.save()
        except OSError as err:
            # A read-only file still works: ids follow file order.
            log.warning("Could not save user ids to %s: %s", path, err)
    return team


def create_demo_team(path: str | os.PathLike[str]) -> Team:
    """The demo team: one admin and one member, both with the demo password."""
    team = Team(path, {"credentials": {"usernames": {}}})
    for username, name, email, role in DEMO_MEMBERS:
        # Bypass `add`'s password rules: the demo password is refused for real members.
        team._users[username] = {
            "name": name,
            "email": email,
            "password": hash_password(DEMO_PASSWORD),
            "roles": [role],
            "user_id": len(team._users) + 1,
        }
    team.save()
    return team


def entries(team: Team) -> list[tuple[str, dict[str, Any]]]:
    """The file's members in file order: (lower-cased username, a copy of its entry)."""
    return [(name, copy.deepcopy(entry)) for name, entry in team._users.items()]


def dump(usernames: dict[str, dict[str, Any]]) -> str:
    """A team file's text (streamlit-authenticator's format) for these entries."""
    config = {"credentials": {"usernames": usernames}}
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
