"""The team in the database (issue 9): the v7 migration from a v6 database with data,
the one-time import of a hand-written streamlit-authenticator file, two processes
(two engines) sharing one team, the admin rules, revocation. SQLite files, and
PostgreSQL when ABLT_TEST_PG_URL is set."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.pg import backend_fixtures
from tests.webapp.team.team_files import hand_written
from webapp.audit import TEAM_CHANGE, AuditLog
from webapp.auth import passwords
from webapp.conversations.store import ConversationStore
from webapp.db import migrations
from webapp.team import Member, MemberStore, TeamError, actions, open_team, yaml_file
from webapp.team.members import LAST_ADMIN


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


db_url, store = backend_fixtures("members")


@pytest.fixture
def team(store: ConversationStore) -> MemberStore:
    return MemberStore(store.engine)


def test_v7_upgrades_a_v6_database_with_data_and_imports_the_file(
    db_url: str, tmp_path: Path
) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        migrations.upgrade(conn, target=6)
        conn.exec_driver_sql(
            "INSERT INTO conversations (id, owner, owner_user_id, bot_slug, bot_name, title, "
            "options, created_at, updated_at, pinned) VALUES ('c-1', 'jsmith', 1, 'b', 'B', "
            "'Old', '{}', '2026-05-01 09:00:00', '2026-05-01 09:00:00', false)"
        )
        conn.exec_driver_sql(
            "INSERT INTO login_events (at, event, username) "
            "VALUES ('2026-05-01 09:00:00', 'success', 'jsmith')"
        )
    engine.dispose()
    with ConversationStore(db_url) as store:
        with store.transaction() as conn:
            assert migrations.current_version(conn) == migrations.LATEST_VERSION >= 7
        jsmith = Member("jsmith", "John Smith", "", "admin", 1)
        assert store.get_conversation(jsmith, "c-1").title == "Old"  # data kept
        team = MemberStore(store.engine)
        assert team.members() == [] and team.source() is None
        opened = open_team(store.engine, hand_written(tmp_path / "auth.yaml"), False)
        assert [m.username for m in opened.members()] == ["jsmith", "rbriggs"]
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM login_events").scalar() == 1


def test_a_hand_written_file_is_imported_once(store: ConversationStore, tmp_path: Path) -> None:
    path = hand_written(tmp_path / "auth.yaml")
    team = open_team(store.engine, path, False)
    members = {m.username: m for m in team.members()}
    # Lower-cased like the authenticator; ids in file order; any non-admin role is a member.
    assert {u: (m.user_id, m.role) for u, m in members.items()} == {
        "jsmith": (1, "admin"),
        "rbriggs": (2, "member"),
    }
    assert members["jsmith"].name == "John Smith" and not members["jsmith"].must_change_password
    assert team.check_password("JSmith", "john-password")
    assert not team.check_password("jsmith", "rebecca-password")
    assert team.source() == f"file:{path}"

    # Once: a later change of the file (or a second process opening) imports nothing.
    team.remove("rbriggs")
    path.write_text(path.read_text().replace("John Smith", "Changed"))
    again = open_team(store.engine, path, False)
    assert [m.name for m in again.members()] == ["John Smith"]

    # The library's extra keys and roles survive into the export.
    exported = team.export_entries()["jsmith"]
    assert exported["roles"] == ["admin", "editor"]
    assert exported["failed_login_attempts"] == 0 and exported["user_id"] == 1


def test_the_export_reads_back_as_the_same_team(team: MemberStore, tmp_path: Path) -> None:
    team.add("ann", name="Ann", email="ann@example.com", password="ann-password", role="admin")
    team.add("bob", name="Bob", email="bob@example.com", password="bob-password")
    team.set_disabled("bob", True)
    path = tmp_path / "export.yaml"
    path.write_text(yaml_file.dump(team.export_entries()))
    back = yaml_file.load_team(path)
    assert [(m.username, m.role, m.user_id) for m in back.members()] == [
        ("ann", "admin", 1),
        ("bob", "member", 2),
    ]
    assert back.check_password("ann", "ann-password")
    assert yaml.safe_load(path.read_text())["credentials"]["usernames"]["bob"]["disabled"]


def test_two_processes_see_one_team(db_url: str) -> None:
    # Two stores (two engines, two pools) on one database stand for two app processes.
    with ConversationStore(db_url) as first, ConversationStore(db_url) as second:
        one, other = MemberStore(first.engine), MemberStore(second.engine)
        one.add("ann", name="Ann", email="a@example.com", password="ann-password", role="admin")
        assert other.get("ann") is not None and other.check_password("ann", "ann-password")
        other.add("bob", name="Bob", email="b@example.com", password="bob-password")
        assert [m.username for m in one.members()] == ["ann", "bob"]
        one.set_role("bob", "admin")
        assert other.get("bob").is_admin
        other.set_disabled("bob", True)
        assert not one.check_password("bob", "bob-password")
        assert "bob" not in one.credentials()["usernames"]
        one.remove("bob")
        assert other.get("bob") is None


def test_members_added_at_once_on_two_processes_get_distinct_user_ids(db_url: str) -> None:
    with ConversationStore(db_url) as first, ConversationStore(db_url) as second:
        stores = [MemberStore(first.engine), MemberStore(second.engine)]
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def add(n: int) -> None:
            barrier.wait()
            try:
                stores[n % 2].add(f"m{n}", name=f"M{n}", email="", password="member-password")
            except BaseException as err:  # reported below
                errors.append(err)

        threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sorted(m.user_id for m in stores[0].members()) == [1, 2, 3, 4]


def test_the_last_admin_cannot_be_removed_demoted_or_disabled(team: MemberStore) -> None:
    team.add("ann", name="Ann", email="", password="ann-password", role="admin")
    team.add("bob", name="Bob", email="", password="bob-password")
    for change in (
        lambda: team.remove("ann"),
        lambda: team.set_role("ann", "member"),
        lambda: team.set_disabled("ann", True),
    ):
        with pytest.raises(TeamError, match=LAST_ADMIN):
            change()
    assert team.get("ann").is_admin and not team.get("ann").disabled
    # With a second admin, the first may go.
    team.set_role("bob", "admin")
    team.set_role("ann", "member")
    with pytest.raises(TeamError, match=LAST_ADMIN):
        team.set_role("bob", "member")


def admin_and_member(team: MemberStore) -> tuple[Member, Member]:
    ann = team.add("ann", name="Ann", email="", password="ann-password", role="admin")
    bob = team.add("bob", name="Bob", email="", password="bob-password")
    return ann, bob


def test_an_admin_cannot_remove_demote_or_disable_themself(team: MemberStore) -> None:
    ann, _ = admin_and_member(team)
    team.add("cat", name="Cat", email="", password="cat-password", role="admin")  # not the last
    with pytest.raises(TeamError, match="yourself"):
        actions.remove_member(team, ann, "ann", "ann")
    with pytest.raises(TeamError, match="yourself"):
        actions.change_role(team, ann, "ANN", "member")
    with pytest.raises(TeamError, match="yourself"):
        actions.set_enabled(team, ann, "ann", False)
    assert team.get("ann").is_admin and not team.get("ann").disabled


def test_a_member_cannot_change_the_team(team: MemberStore) -> None:
    _, bob = admin_and_member(team)
    with pytest.raises(TeamError, match="Only an admin"):
        actions.add_member(team, bob, "eve", name="Eve", email="", role="admin")
    with pytest.raises(TeamError, match="Only an admin"):
        actions.change_role(team, bob, "bob", "admin")


def test_removal_needs_the_username_typed(team: MemberStore) -> None:
    ann, _ = admin_and_member(team)
    with pytest.raises(TeamError, match="Type bob to confirm"):
        actions.remove_member(team, ann, "bob", "yes")
    assert team.get("bob") is not None
    actions.remove_member(team, ann, "bob", "Bob ")
    assert team.get("bob") is None


def test_a_one_time_password_must_be_changed(
    team: MemberStore, caplog: pytest.LogCaptureFixture
) -> None:
    ann, _ = admin_and_member(team)
    caplog.set_level("INFO", logger="webapp.team.events")
    eve, password = actions.add_member(team, ann, "eve", name="Eve", email="e@x", role="member")
    assert eve.must_change_password and eve.user_id == 3
    assert team.check_password("eve", password) and passwords.password_problem(password) is None

    assert actions.change_own_password(team, eve, password, password, password) is not None
    assert actions.change_own_password(team, eve, password, "eve-own-pass", "eve-own-pass") is None
    assert not team.get("eve").must_change_password

    again = actions.reset_password(team, ann, "eve")
    assert again != password and team.get("eve").must_change_password
    assert team.check_password("eve", again) and not team.check_password("eve", "eve-own-pass")

    # Each change is in the audit log, with who, what and whom; no secret anywhere.
    changes = AuditLog(team.engine).entries(kinds=[TEAM_CHANGE])
    assert [(e.actor, e.action, e.target) for e in reversed(changes)] == [
        ("ann", "add member", "eve"),
        ("eve", "change password", "eve"),
        ("ann", "reset password", "eve"),
    ]
    recorded = caplog.text + " ".join(e.detail for e in changes)
    assert password not in recorded and again not in recorded and "eve-own-pass" not in recorded


def test_logins_before_a_logout_password_change_or_disabling_are_revoked(
    team: MemberStore,
) -> None:
    admin_and_member(team)
    earlier = team.now() - timedelta(seconds=1)
    assert team.login_still_valid("bob", earlier)
    team.revoke_logins("bob")  # Log out
    assert not team.login_still_valid("bob", earlier)
    later = team.now() + timedelta(seconds=1)
    assert team.login_still_valid("bob", later)

    team.set_password("bob", "bob-next-password")
    assert not team.login_still_valid("bob", later - timedelta(seconds=1))
    team.set_disabled("bob", True)
    assert not team.login_still_valid("bob", team.now() + timedelta(hours=1))
    team.set_disabled("bob", False)
    team.remove("bob")
    assert not team.login_still_valid("bob", team.now() + timedelta(hours=1))


def test_protected_accounts_keep_role_password_and_access(team: MemberStore) -> None:
    ann, bob = admin_and_member(team)
    keep = ["bob"]  # what the Team page passes for the demo accounts in demo mode
    for change in (
        lambda: actions.change_role(team, ann, "bob", "admin", keep),
        lambda: actions.reset_password(team, ann, "bob", keep),
        lambda: actions.set_enabled(team, ann, "bob", False, keep),
        lambda: actions.remove_member(team, ann, "bob", "bob", keep),
    ):
        with pytest.raises(TeamError, match="shared demo account"):
            change()
    assert team.get("bob") == bob and team.check_password("bob", "bob-password")
