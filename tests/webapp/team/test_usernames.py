"""A new member's username (issue 28, item 3): ASCII letters, digits and `. _ - @`,
refused in plain words by the store, so by the Team page and the CLI alike; a
member imported from a team file with another username keeps working."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.drawn_text import ISSUE_USERNAME, active_markdown
from webapp.auth import passwords
from webapp.conversations.store import ConversationStore
from webapp.team import MemberStore, TeamError, create_demo_team, main
from webapp.team import members as team_members
from webapp.team.members import check_username
from webapp.team.source import open_team

PASSWORD = "a fine long password"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


@pytest.mark.parametrize(
    "username",
    ["ann", "Ann.Lee", "ann_lee-2", "ann@example.com", "007", "a" * 128],
)
def test_usual_usernames_are_accepted_lower_cased(username: str) -> None:
    assert check_username(f" {username} ") == username.lower()


@pytest.mark.parametrize(
    "username",
    [
        ISSUE_USERNAME,
        "bob!",
        "[bob](http://x)",
        "bob<b>",
        "bob`x`",
        "bob*",
        "bob:red[x]",
        "bob#1",
        "bob\\x",
        "two words",
        "tab\there",
        "-rf",
        ".hidden",
        "_bob",
        "zoë",  # Unicode letters: look-alikes and case rules differ
        "аdmin",  # a Cyrillic "а"
        "straße",
        "ann\u200bb",  # a zero-width space
    ],
)
def test_other_usernames_are_refused_in_plain_words(username: str) -> None:
    with pytest.raises(TeamError) as refused:
        check_username(username)
    assert str(refused.value) == team_members.USERNAME_RULE
    assert not active_markdown(team_members.USERNAME_RULE)


def test_empty_and_long_usernames_say_so() -> None:
    with pytest.raises(TeamError, match="cannot be empty"):
        check_username("   ")
    with pytest.raises(TeamError, match="at most 128"):
        check_username("a" * 129)


def test_the_store_refuses_a_new_member_with_such_a_name(tmp_path: Path) -> None:
    with ConversationStore(f"sqlite:///{tmp_path / 'app.db'}") as store:
        members = MemberStore(store.engine)
        with pytest.raises(TeamError, match="only the letters a to z"):
            members.add(ISSUE_USERNAME, name="M", email="", password=PASSWORD)
        assert members.members() == []


def test_a_member_imported_with_an_odd_username_keeps_working(tmp_path: Path) -> None:
    """Existing members are not renamed or locked out: the alphabet is for new ones."""
    path = tmp_path / "auth.yaml"
    team = create_demo_team(path)
    team.add(ISSUE_USERNAME, name="Mallory", email="m@example.com", password=PASSWORD)
    team.add("zoë", name="Zoë", email="z@example.com", password=PASSWORD)
    team.save()
    with ConversationStore(f"sqlite:///{tmp_path / 'app.db'}") as store:
        members = open_team(store.engine, path, False)
        odd = ISSUE_USERNAME.lower()
        assert odd in [m.username for m in members.members()]
        assert members.check_password(odd, PASSWORD)
        assert members.check_password("zoë", PASSWORD)
        assert members.set_role(odd, "admin").is_admin
        members.set_disabled("zoë", True)
        assert not members.check_password("zoë", PASSWORD)


def test_the_cli_refuses_such_a_name_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("ABLT_DB_URL", url)
    path = tmp_path / "auth.yaml"
    add = ("add", ISSUE_USERNAME, "--name", "M", "--email", "m@example.com", "--password-stdin")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    assert main(["--file", str(path), *add]) == 1
    assert capsys.readouterr().err == f"error: {team_members.USERNAME_RULE}\n"

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    ann = ("add", "Ann.Lee@example.com", "--name", "Ann", "--email", "a@example.com")
    assert main(["--file", str(path), *ann, "--password-stdin"]) == 0
    assert "Added ann.lee@example.com" in capsys.readouterr().out
    with ConversationStore(url) as store:
        assert [m.username for m in MemberStore(store.engine).members()] == ["ann.lee@example.com"]
