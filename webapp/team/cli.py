"""`python -m webapp.team`: manage the team in the app's database from a terminal.

    python -m webapp.team add USER --name NAME --email EMAIL [--role admin|member]
    python -m webapp.team role USER admin|member
    python -m webapp.team passwd USER
    python -m webapp.team disable USER | enable USER
    python -m webapp.team remove USER
    python -m webapp.team list
    python -m webapp.team export [PATH]           # streamlit-authenticator YAML
    python -m webapp.team unlock USER            # lift a login lock-out
    python -m webapp.team unlock --address ADDR  # the same for a network address
    python -m webapp.team password-login on|off  # the password form (single sign-on teams)

The database is the app's (`ABLT_DB_URL`, else `data/ablt-chat.db`). On the
first use an existing team file (`--file`, default `ABLT_AUTH_FILE`) is
imported once, as the app does. Passwords follow `webapp.auth.passwords`
(whitespace kept, at most 72 bytes); `--password-stdin` takes the first line
of stdin without its line ending. The export holds bcrypt hashes: it is
written readable by its owner only.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from webapp.auth import throttle as logins
from webapp.auth.throttle_store import LoginLog
from webapp.conversations.store import DEFAULT_DB_URL, ConversationStore
from webapp.settings import get_settings
from webapp.team import yaml_file
from webapp.team.events import record_change
from webapp.team.members import MemberStore
from webapp.team.model import ROLES, TeamError, username_key
from webapp.team.source import open_team


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Repeat password: ")
    if first != second:
        raise TeamError("The two passwords do not match.")
    return first


def _parser(default_file: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m webapp.team",
        description="Manage the aBLT Chat team (members in the app's database).",
    )
    parser.add_argument(
        "--file",
        default=default_file,
        help=f"team file imported once on first use (default: {default_file})",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    add = sub.add_parser("add", help="add a member (asks for the password)")
    add.add_argument("username")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", choices=ROLES, default="member")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    role = sub.add_parser("role", help="set a member's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)

    passwd = sub.add_parser("passwd", help="set a member's password (asks for it)")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")

    for name, text in (("disable", "stop a member logging in"), ("enable", "let them again")):
        sub.add_parser(name, help=text).add_argument("username")

    remove = sub.add_parser("remove", help="remove a member")
    remove.add_argument("username")

    sub.add_parser("list", help="list the members (never shows password hashes)")

    export = sub.add_parser("export", help="write the team as streamlit-authenticator YAML")
    export.add_argument("path", nargs="?", help="a file (default: standard output)")

    unlock = sub.add_parser(
        "unlock", help="lift the login lock-out of a username (or of an address)"
    )
    unlock.add_argument("username", nargs="?")
    unlock.add_argument("--address", help="a client network address to unlock instead/too")

    switch = sub.add_parser(
        "password-login", help="offer the password form on the login page, or not"
    )
    switch.add_argument("state", choices=("on", "off"))
    return parser


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _export(members: MemberStore, path: str | None) -> str | None:
    text = yaml_file.dump(members.export_entries())
    if path is None:
        return text
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return None


def _run(args: argparse.Namespace, members: MemberStore) -> str:
    """One command against the database; returns what to print."""
    command = args.command
    if command == "list":
        team = members.members()
        if not team:
            return "No members yet. Add one with: python -m webapp.team add USER ..."
        return "\n".join(
            f"{m.user_id:>4}  {m.username:<20} {m.role:<7} {m.name} <{m.email}>"
            + ("  (disabled)" if m.disabled else "")
            for m in team
        )
    if command == "export":
        text = _export(members, args.path)
        return text.rstrip("\n") if text is not None else f"Wrote the team to {args.path}."
    if command == "password-login":
        return _password_login(members, args.state == "on")
    username = username_key(args.username)
    engine = members.engine
    if command == "add":
        password = _read_new_password(args.password_stdin)
        member = members.add(
            args.username, name=args.name, email=args.email, password=password, role=args.role
        )
        record_change(_actor(), "add member", member.username, f"as {member.role}", engine=engine)
        return f"Added {member.username} ({member.role}, user_id {member.user_id})."
    if command == "role":
        member = members.set_role(username, args.role)
        record_change(_actor(), "set role", username, f"now {member.role}", engine=engine)
        return f"{member.username} is now {member.role}."
    if command == "passwd":
        if members.get(username) is None:
            raise TeamError(f"{username} is not a member.")
        members.set_password(username, _read_new_password(args.password_stdin))
        record_change(_actor(), "set password", username, engine=engine)
        return f"Password of {username} changed."
    if command in ("disable", "enable"):
        members.set_disabled(username, command == "disable")
        record_change(_actor(), f"{command} member", username, engine=engine)
        return f"{username} is {command}d."
    members.remove(username)
    record_change(_actor(), "remove member", username, engine=engine)
    return f"Removed {username}."


def _password_login(members: MemberStore, enabled: bool) -> str:
    """Switch the password form (the way back in when single sign-on fails)."""
    from webapp.auth.sso_store import SsoStore

    SsoStore(members.engine).set_password_login(enabled, actor=_actor())
    state = "on" if enabled else "off"
    record_change(_actor(), "password login", None, state, engine=members.engine)
    if enabled:
        return "Password login is on: the login page shows the password form again."
    return "Password login is off: members log in with single sign-on only."


def _unlock(engine_url: str, username: str | None, address: str | None) -> str:
    if not username and not address:
        raise TeamError("Name a username to unlock, or give --address.")
    with ConversationStore(engine_url) as store:
        logins.unlock(LoginLog(store.engine), actor=_actor(), username=username, address=address)
    what = " and ".join(
        part for part in (username and username.lower(), address and f"address {address}") if part
    )
    return f"Unlocked {what}: the next login is checked at once."


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 1 with a plain `error:` line on stderr."""
    settings = get_settings()
    args = _parser(settings.auth_file).parse_args(argv)
    url = settings.db_url or DEFAULT_DB_URL
    try:
        if args.command == "unlock":
            print(_unlock(url, args.username, args.address))
            return 0
        with ConversationStore(url) as store:
            members = open_team(store.engine, Path(args.file), False, require_members=False)
            print(_run(args, members))
        return 0
    except TeamError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\ncancelled", file=sys.stderr)
        return 1
