"""webapp.auth.gate's logic without a browser: team loading, demo accounts, passwords."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from webapp.auth import gate as auth
from webapp.auth import passwords
from webapp.settings import load_settings
from webapp.team import DEMO_PASSWORD, Member, TeamError

COOKIE_KEY = "c" * 40


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


def _env(path: Path) -> dict[str, str]:
    # The team lives in the database beside the (maybe absent) team file.
    return {"ABLT_AUTH_FILE": str(path), "ABLT_DB_URL": f"sqlite:///{path.parent / 'app.db'}"}


def demo_settings(path: Path):
    return load_settings(_env(path))


def real_settings(path: Path, cookie_key: str | None = COOKIE_KEY):
    env = {**_env(path), "ABLT_BEARER_TOKEN": "real-token"}
    if cookie_key is not None:
        env["ABLT_COOKIE_KEY"] = cookie_key
    return load_settings(env)


def test_demo_mode_seeds_the_demo_team_in_the_database_once(tmp_path: Path) -> None:
    path = tmp_path / "team" / "auth.yaml"
    team = auth.load_team_for(demo_settings(path))
    assert not path.exists()  # the database holds the team, no file is written
    assert [m.username for m in team.members()] == ["demo-admin", "demo-member"]
    team.remove("demo-member")
    again = auth.load_team_for(demo_settings(path))
    assert [m.username for m in again.members()] == ["demo-admin"]  # not seeded twice


def test_the_login_page_shows_demo_credentials_only_in_demo_mode(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    team = auth.load_team_for(demo_settings(path))
    assert auth.demo_credentials(demo_settings(path), team) == [
        ("demo-admin", DEMO_PASSWORD),
        ("demo-member", DEMO_PASSWORD),
    ]
    assert auth.demo_credentials(real_settings(path), team) == []


def test_with_a_token_a_missing_team_file_is_explained_not_created(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    with pytest.raises(TeamError, match=r"python -m webapp\.team add"):
        auth.load_team_for(real_settings(path))
    assert not path.exists()


def test_demo_passwords_are_refused_only_with_a_real_token(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    team = auth.load_team_for(demo_settings(path))
    assert auth.refused_usernames(demo_settings(path), team) == []
    assert auth.refused_usernames(real_settings(path), team) == ["demo-admin", "demo-member"]

    # A member who picked a real password may log in again: the check follows the database.
    team.set_password("demo-admin", "a-real-password")
    team = auth.load_team_for(real_settings(path))
    assert auth.refused_usernames(real_settings(path), team) == ["demo-member"]


def test_cookie_key_checks(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    assert auth.configuration_problem(demo_settings(path)) is None
    assert "not set" in auth.configuration_problem(real_settings(path, None))
    assert "too short" in auth.configuration_problem(real_settings(path, "x" * 16))
    assert auth.configuration_problem(real_settings(path)) is None
    # Demo mode signs cookies with a per-process random key when none is set.
    generated = auth.cookie_key(demo_settings(path))
    assert len(generated) >= 32 and generated == auth.cookie_key(demo_settings(path))
    assert auth.cookie_key(real_settings(path)) == COOKIE_KEY


def test_change_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "auth.yaml"
    for name, value in _env(path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ABLT_BEARER_TOKEN", raising=False)
    team = auth.load_team_for(demo_settings(path))
    member = team.add("carol", name="Carol", email="c@example.com", password="carol-password")

    assert auth.change_password(member, "wrong", "new-password", "new-password") == (
        "The current password is not correct."
    )
    assert "do not match" in auth.change_password(member, "carol-password", "new-password", "no")
    assert "at least 8" in auth.change_password(member, "carol-password", "short", "short")
    assert auth.change_password(member, "carol-password", "new-password", "new-password") is None

    assert team.check_password("carol", "new-password")
    assert not team.check_password("carol", "carol-password")
    # Her logins from before the change no longer count (the current one is moved past it).
    assert not team.login_still_valid("carol", team.now() - timedelta(seconds=1))

    # A demo account keeps the password the login page shows, in demo mode.
    demo: Member = team.get("demo-member")
    problem = auth.change_password(demo, DEMO_PASSWORD, "new-password", "new-password")
    assert problem == auth.DEMO_PASSWORD_FIXED
    assert team.check_password("demo-member", DEMO_PASSWORD)
    assert team.get("carol").user_id == member.user_id


def test_only_a_login_cookie_signed_with_our_key_is_taken_and_none_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import jwt

    key, other = "k" * 32, "o" * 32
    ours = jwt.encode({"username": "ann", "exp_date": 2e9}, key, algorithm="HS256")
    assert auth.login_cookie_verifies(ours, key)
    assert not auth.login_cookie_verifies(ours, other)  # e.g. a demo server since restarted
    for junk in (None, "", "not-a-token", object(), b"bytes"):
        assert not auth.login_cookie_verifies(junk, key)
    assert capsys.readouterr() == ("", "")
