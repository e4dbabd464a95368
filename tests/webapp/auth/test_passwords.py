"""Passwords on every path that sets or checks one (issue 12 "Logins", issue 13 item 11):
bcrypt's 72-byte limit gets a plain message, whitespace is kept, Unicode is NFKC."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
import yaml

from tests.reliability import row
from webapp.auth import gate as auth
from webapp.auth import passwords
from webapp.auth.passwords import (
    MAX_PASSWORD_BYTES,
    check_or_dummy,
    hash_password,
    password_problem,
)
from webapp.auth.throttle import WRONG_CREDENTIALS, authenticate
from webapp.auth.throttle_store import LoginLog
from webapp.conversations.store import ConversationStore
from webapp.team import Member, MemberStore, Team, TeamError, load_team, main, open_team

# The passphrase from the attack run: 87 characters, all ASCII.
PASSPHRASE_87 = (
    "correct horse battery staple is a famous passphrase but this one is longer than bcrypt!"
)
TOO_LONG = "A password can be at most 72 bytes long; this one is 87 bytes"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def team_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A team file with bob, imported into the app's database (tmp_path/app.db) on first use."""
    team = Team(tmp_path / "auth.yaml", {"credentials": {"usernames": {}}})
    team.add("bob", name="Bob", email="bob@example.com", password="bob-old-password")
    team.save()
    monkeypatch.setenv("ABLT_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("ABLT_AUTH_FILE", str(team.path))
    return team.path


@pytest.fixture
def log(tmp_path: Path, team_path: Path) -> Iterator[LoginLog]:
    with ConversationStore(f"sqlite:///{tmp_path / 'app.db'}") as store:
        yield LoginLog(store.engine)


@pytest.fixture
def members(log: LoginLog, team_path: Path) -> MemberStore:
    """The team in the database (the file imported once)."""
    return open_team(log.engine, team_path, False)


@pytest.fixture
def bob_settings(monkeypatch: pytest.MonkeyPatch, members: MemberStore) -> Member:
    """auth.change_password reads the team of the settings' database."""
    for name in ("ABLT_BEARER_TOKEN", "ABLT_COOKIE_KEY"):
        monkeypatch.delenv(name, raising=False)
    member = members.get("bob")
    assert member is not None
    return member


def run_cli(monkeypatch: pytest.MonkeyPatch, path: Path, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--file", str(path), *args])


def test_the_passphrase_is_87_bytes() -> None:
    assert len(PASSPHRASE_87) == 87 and len(PASSPHRASE_87.encode()) == 87


def test_an_87_character_passphrase_gets_a_plain_message_on_every_path(
    team_path: Path,
    bob_settings: Member,
    log: LoginLog,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The rule itself.
    assert str(password_problem(PASSPHRASE_87)).startswith(TOO_LONG)
    # The Account page's change-password form (it crashed with ValueError).
    problem = auth.change_password(bob_settings, "bob-old-password", PASSPHRASE_87, PASSPHRASE_87)
    assert str(problem).startswith(TOO_LONG)
    capsys.readouterr()  # what the app's side printed so far
    # python -m webapp.team add / passwd --password-stdin (a traceback before).
    for args in (
        ("add", "carol", "--name", "Carol", "--email", "c@example.com", "--password-stdin"),
        ("passwd", "bob", "--password-stdin"),
    ):
        assert run_cli(monkeypatch, team_path, *args, stdin=PASSPHRASE_87 + "\n") == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: {TOO_LONG}") and "Traceback" not in err
    # MemberStore.add / set_password (the CLI's and the Team page's calls).
    team = open_team(log.engine, team_path, False)
    with pytest.raises(TeamError, match=TOO_LONG):
        team.set_password("bob", PASSPHRASE_87)
    # The login form says the same, without a crash.
    result = authenticate(team, "bob", PASSPHRASE_87, "203.0.113.7", log)
    assert result.member is None and str(result.problem).startswith(TOO_LONG)
    # The current-password field of the Account page with it: a plain "not correct".
    assert auth.change_password(
        bob_settings, PASSPHRASE_87, "new-password-1", "new-password-1"
    ) == ("The current password is not correct.")
    # Nothing was written.
    assert team.check_password("bob", "bob-old-password") and team.get("carol") is None


def test_the_72_byte_limit_counts_bytes_not_characters() -> None:
    assert password_problem("a" * MAX_PASSWORD_BYTES) is None
    assert "73 bytes" in str(password_problem("a" * 73))
    # Cyrillic letters take 2 bytes: 36 fit, 37 do not.
    assert password_problem("пароль" * 6) is None
    assert "74 bytes (37 characters" in str(password_problem("пароль" * 6 + "я"))
    # A character NFKC expands counts as what is hashed: "ﬃ" (U+FB03) is "ffi".
    assert "73 bytes" in str(password_problem("a" * 70 + "\ufb03"))
    ok = hash_password("a" * MAX_PASSWORD_BYTES)
    assert check_or_dummy("a" * MAX_PASSWORD_BYTES, ok)
    with pytest.raises(ValueError, match="at most 72 bytes"):
        hash_password("a" * 73)


def test_a_plaintext_password_too_long_for_bcrypt_in_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text(
        yaml.safe_dump(
            {"credentials": {"usernames": {"dan": {"name": "Dan", "password": PASSPHRASE_87}}}}
        )
    )
    with pytest.raises(TeamError, match="plaintext password of dan is longer than bcrypt's 72"):
        load_team(path)


@pytest.mark.parametrize(
    ("password", "other_form"),
    [
        ("bob new pass ", "bob new pass"),  # issue 13 item 11
        ("\tbob tab pass", "bob tab pass"),  # a tab pasted in front
        ("  bob two spaces  ", "bob two spaces"),
    ],
)
@row(
    'A password with a space at either end ("bob new pass ")',
    happens="Spaces are kept alike where a password is set and where it is checked.",
    sees="The forms say that leading and trailing spaces are kept; the password logs in.",
    kept="The member's access (no lock-out by whitespace).",
)
def test_whitespace_at_either_end_is_kept_where_set_and_where_checked(
    password: str,
    other_form: str,
    bob_settings: Member,
    members: MemberStore,
    log: LoginLog,
) -> None:
    assert auth.change_password(bob_settings, "bob-old-password", password, password) is None
    team = members
    logged = authenticate(team, "bob", password, "203.0.113.7", log)
    assert logged.member is not None and logged.member.username == "bob"
    assert authenticate(team, "bob", other_form, "203.0.113.7", log).problem == (WRONG_CREDENTIALS)
    # The CLI keeps it too: --password-stdin drops only the line ending.
    assert team.check_password("bob", password)


def test_cli_password_stdin_keeps_spaces(
    team_path: Path, members: MemberStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        run_cli(
            monkeypatch, team_path, "passwd", "bob", "--password-stdin", stdin="bob new pass \r\n"
        )
        == 0
    )
    team = members
    assert team.check_password("bob", "bob new pass ")
    assert not team.check_password("bob", "bob new pass")


def test_a_no_break_space_matches_a_plain_space(
    bob_settings: Member, members: MemberStore, log: LoginLog
) -> None:
    # Option+Space on a Mac types U+00A0; NFKC makes it a plain space.
    nbsp = "bob\u00a0new\u00a0pass"
    assert auth.change_password(bob_settings, "bob-old-password", nbsp, nbsp) is None
    team = members
    assert authenticate(team, "bob", "bob new pass", "203.0.113.7", log).member is not None
    assert authenticate(team, "bob", nbsp, "203.0.113.8", log).member is not None


def test_a_hash_made_before_normalising_still_matches(team_path: Path) -> None:
    # "é" as e + combining accent, hashed raw (as the app did before NFKC).
    raw = "cafe\u0301-password"
    team = load_team(team_path)
    team.config["credentials"]["usernames"]["bob"]["password"] = bcrypt.hashpw(
        raw.encode(), bcrypt.gensalt(4)
    ).decode()
    assert team.check_password("bob", raw)  # the member typing it as before still gets in
    assert not team.check_password("bob", "cafe-password")
