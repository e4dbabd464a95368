"""webapp.team: the YAML team file (import/export format) and `python -m webapp.team`
against a real SQLite database."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from tests.webapp.team.team_files import hand_written, quick_hash
from webapp.auth import passwords
from webapp.conversations.store import ConversationStore
from webapp.team import (
    DEMO_PASSWORD,
    MemberStore,
    Team,
    TeamError,
    create_demo_team,
    load_team,
    main,
)


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_a_hand_written_file_works_as_it_is(tmp_path: Path) -> None:
    path = hand_written(tmp_path / "auth.yaml")
    team = load_team(path)

    members = {m.username: m for m in team.members()}
    assert set(members) == {"jsmith", "rbriggs"}  # lower-cased, like the authenticator
    assert members["jsmith"].role == "admin"
    assert members["rbriggs"].role == "member"  # any non-admin role is a member
    assert members["jsmith"].name == "John Smith"
    assert team.check_password("JSmith", "john-password")
    assert not team.check_password("jsmith", "rebecca-password")


def test_user_ids_follow_file_order_and_are_saved(tmp_path: Path) -> None:
    path = hand_written(tmp_path / "auth.yaml")
    first = {m.username: m.user_id for m in load_team(path).members()}
    assert first == {"jsmith": 1, "rbriggs": 2}

    saved = read(path)
    assert saved["credentials"]["usernames"]["jsmith"]["user_id"] == 1
    assert saved["cookie"]["name"] == "some_cookie_name"  # other sections kept
    assert saved["credentials"]["usernames"]["jsmith"]["roles"] == ["admin", "editor"]
    # Stable from then on, even after a member is removed and another added.
    team = load_team(path)
    team.remove("jsmith")
    team.add("carol", name="Carol", email="c@example.com", password="carol-password")
    team.save()
    again = {m.username: m.user_id for m in load_team(path).members()}
    assert again == {"rbriggs": 2, "carol": 3}


def test_missing_and_duplicate_ids_get_the_next_free_ones(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "credentials": {
                    "usernames": {
                        "a": {"name": "A", "password": quick_hash("a-password"), "user_id": 7},
                        "b": {"name": "B", "password": quick_hash("b-password")},
                        "c": {"name": "C", "password": quick_hash("c-password"), "user_id": 7},
                    }
                }
            }
        )
    )
    ids = {m.username: m.user_id for m in load_team(path).members()}
    assert ids == {"a": 7, "b": 8, "c": 9}


def test_a_plaintext_password_is_hashed_on_first_read(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text(
        "credentials:\n  usernames:\n    dan:\n      name: Dan\n      password: dan-secret\n"
    )
    team = load_team(path)
    stored = read(path)["credentials"]["usernames"]["dan"]["password"]
    assert stored.startswith("$2") and "dan-secret" not in path.read_text()
    assert team.check_password("dan", "dan-secret")


def test_broken_files_give_plain_errors(tmp_path: Path) -> None:
    with pytest.raises(TeamError, match="does not exist"):
        load_team(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("credentials: [unclosed\n")
    with pytest.raises(TeamError, match="not valid YAML"):
        load_team(bad)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("credentials:\n  usernames: [a, b]\n")
    with pytest.raises(TeamError, match="must be a mapping"):
        load_team(wrong)


def test_add_role_password_and_remove(tmp_path: Path) -> None:
    team = Team(tmp_path / "auth.yaml", {})
    member = team.add("Eve", name="Eve", email="eve@example.com", password="eve-password")
    assert (member.username, member.role, member.user_id) == ("eve", "member", 1)
    with pytest.raises(TeamError, match="already a member"):
        team.add("eve", name="Eve", email="e", password="eve-password")
    with pytest.raises(TeamError, match="at least 8"):
        team.add("frank", name="F", email="f", password="short")
    with pytest.raises(TeamError, match="demo password"):
        team.add("frank", name="F", email="f", password=DEMO_PASSWORD)
    with pytest.raises(TeamError, match="role"):
        team.set_role("eve", "owner")

    assert team.set_role("eve", "admin").is_admin
    team.set_password("eve", "a-new-password")
    team.save()

    reloaded = load_team(tmp_path / "auth.yaml")
    assert reloaded.get("EVE") is not None and reloaded.get("eve").is_admin
    assert reloaded.check_password("eve", "a-new-password")
    reloaded.remove("eve")
    with pytest.raises(TeamError, match="not a member"):
        reloaded.remove("eve")


def test_the_file_is_private_to_its_owner(tmp_path: Path) -> None:
    team = Team(tmp_path / "sub" / "auth.yaml", {})
    team.add("eve", name="Eve", email="e", password="eve-password")
    team.save()
    assert (tmp_path / "sub" / "auth.yaml").stat().st_mode & 0o777 == 0o600


def test_demo_team_and_demo_password_detection(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    team = create_demo_team(path)
    members = {m.username: m for m in load_team(path).members()}
    assert members["demo-admin"].role == "admin"
    assert members["demo-member"].role == "member"
    assert sorted(team.demo_password_users()) == ["demo-admin", "demo-member"]

    team.set_password("demo-admin", "not-the-demo-one")
    assert team.demo_password_users() == ["demo-member"]


def test_credentials_for_the_authenticator_can_leave_members_out(tmp_path: Path) -> None:
    team = create_demo_team(tmp_path / "auth.yaml")
    creds = team.credentials(exclude=["demo-member"])
    assert list(creds["usernames"]) == ["demo-admin"]
    assert creds["usernames"]["demo-admin"]["user_id"] == 1
    creds["usernames"]["demo-admin"]["name"] = "changed"  # a copy: the team is untouched
    assert team.get("demo-admin").name == "Demo Admin"


# -- the command line (against the app's database) ----------------------------


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("ABLT_DB_URL", url)
    return url


def db_team(url: str) -> MemberStore:
    return MemberStore(ConversationStore(url).engine)


def run_cli(monkeypatch: pytest.MonkeyPatch, path: Path, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--file", str(path), *args])


def test_cli_add_list_role_passwd_disable_remove_export(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "auth.yaml"
    add = ("add", "alice", "--name", "Alice A", "--email", "a@example.com", "--role", "admin")
    assert run_cli(monkeypatch, path, *add, "--password-stdin", stdin="alice-password\n") == 0
    assert "Added alice (admin, user_id 1)" in capsys.readouterr().out
    add_bob = ("add", "bob", "--name", "Bob", "--email", "b@example.com", "--password-stdin")
    assert run_cli(monkeypatch, path, *add_bob, stdin="bob-password\n") == 0
    capsys.readouterr()
    assert not path.exists()  # the team is in the database, not in a file

    assert run_cli(monkeypatch, path, "list") == 0
    listing = capsys.readouterr().out
    assert "alice" in listing and "admin" in listing and "Bob" in listing
    assert "$2" not in listing  # never a hash

    team = db_team(db_url)
    assert run_cli(monkeypatch, path, "role", "bob", "admin") == 0
    assert team.get("bob").is_admin
    code = run_cli(monkeypatch, path, "passwd", "bob", "--password-stdin", stdin="bob-new-pass\n")
    assert code == 0
    assert team.check_password("bob", "bob-new-pass")
    assert run_cli(monkeypatch, path, "disable", "bob") == 0
    assert team.get("bob").disabled and not team.check_password("bob", "bob-new-pass")
    assert run_cli(monkeypatch, path, "enable", "bob") == 0
    assert team.check_password("bob", "bob-new-pass")
    assert run_cli(monkeypatch, path, "remove", "alice") == 0
    assert [m.username for m in team.members()] == ["bob"]

    # export: streamlit-authenticator's format, which imports back as the same team.
    exported = tmp_path / "exported.yaml"
    assert run_cli(monkeypatch, path, "export", str(exported)) == 0
    assert exported.stat().st_mode & 0o777 == 0o600  # it holds hashes
    saved = read(exported)["credentials"]["usernames"]
    assert list(saved) == ["bob"] and saved["bob"]["roles"] == ["admin"]
    assert saved["bob"]["user_id"] == 2 and saved["bob"]["password"].startswith("$2")
    reloaded = load_team(exported)
    assert reloaded.check_password("bob", "bob-new-pass")
    assert run_cli(monkeypatch, path, "export") == 0
    assert "bob-new-pass" not in capsys.readouterr().out


def test_cli_imports_the_team_file_once(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = hand_written(tmp_path / "auth.yaml")
    assert run_cli(monkeypatch, path, "list") == 0
    assert "jsmith" in capsys.readouterr().out
    assert run_cli(monkeypatch, path, "remove", "rbriggs") == 0
    capsys.readouterr()
    assert run_cli(monkeypatch, path, "list") == 0  # the file is not read again
    assert "rbriggs" not in capsys.readouterr().out


def test_cli_prompts_twice_and_refuses_a_mismatch(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "auth.yaml"
    answers = iter(["first-password", "other-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code = main(["--file", str(path), "add", "carl", "--name", "C", "--email", "c@example.com"])
    assert code == 1
    assert "do not match" in capsys.readouterr().err
    assert db_team(db_url).get("carl") is None

    answers = iter(["same-password", "same-password"])
    code = main(["--file", str(path), "add", "carl", "--name", "C", "--email", "c@example.com"])
    assert code == 0
    assert db_team(db_url).check_password("carl", "same-password")


def test_cli_errors_are_plain(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "auth.yaml"
    assert run_cli(monkeypatch, path, "list") == 0
    assert "No members yet" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("credentials: [unclosed\n")
    assert run_cli(monkeypatch, bad, "list") == 1  # nothing imported yet: the file is read
    assert "not valid YAML" in capsys.readouterr().err
    create_demo_team(path)
    assert run_cli(monkeypatch, path, "remove", "nobody") == 1
    assert "nobody is not a member" in capsys.readouterr().err
    assert run_cli(monkeypatch, path, "remove", "demo-admin") == 1  # the last admin
    assert "at least one admin" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse rejects an unknown role
        run_cli(monkeypatch, path, "role", "demo-admin", "owner")


def test_each_load_is_its_own_team_and_sees_every_saved_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "auth.yaml"
    first = Team(path, {})
    first.add("ann", name="Ann", email="ann@example.com", password="ann-password")
    first.save()
    parses = []
    real_safe_load = yaml.safe_load
    monkeypatch.setattr(yaml, "safe_load", lambda text: parses.append(1) or real_safe_load(text))

    one, two = load_team(path), load_team(path)
    assert len(parses) == 1, "an unchanged file is parsed once"
    # A change made on one loaded team, unsaved, is not seen by another load.
    one.add("bob", name="Bob", email="bob@example.com", password="bob-password")
    assert two.get("bob") is None and load_team(path).get("bob") is None

    one.save()  # saved (as the Account page or the CLI does): every later load has it
    assert load_team(path).get("bob") is not None
    # A hand edit in place (same inode) is a new version too.
    path.write_text(path.read_text().replace("Ann", "Annie"))
    assert load_team(path).get("ann").name == "Annie"
    assert len(parses) == 3


def test_cli_switches_password_login_back_on_and_audits_it(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from webapp.audit import AuditLog
    from webapp.auth.sso_store import SsoStore

    path = tmp_path / "auth.yaml"
    assert run_cli(monkeypatch, path, "password-login", "off") == 0
    assert "is off" in capsys.readouterr().out
    engine = ConversationStore(db_url).engine
    assert SsoStore(engine).settings().password_login is False
    # The way back in when single sign-on fails: on, then an admin's password.
    assert run_cli(monkeypatch, path, "password-login", "on") == 0
    assert "is on" in capsys.readouterr().out
    assert SsoStore(engine).settings().password_login is True
    changes = [(e.action, e.detail) for e in AuditLog(engine).entries()]
    assert ("password login", "on") in changes and ("password login", "off") in changes
