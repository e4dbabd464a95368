"""The admin's Team page through the real app (issue 9): add a member with a one-time
password that must be changed at the first login, change a role, disable (the open
session is refused on its next action), remove with confirmation, the last admin
kept, and a member kept out of the page."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from webapp.arena.blind import Contender
from webapp.arena.store import Arena
from webapp.audit import TEAM_CHANGE, AuditLog
from webapp.auth import gate as auth
from webapp.conversations.store import ConversationStore
from webapp.lifecycle.judgements import Judgements, count_judgements
from webapp.team import Member, MemberStore, TeamError
from webapp.team.view import ADMINS_ONLY
from webapp.ui.state import Keys

from .conftest import APP_PATH, APP_TIMEOUT, log_in

pytestmark = pytest.mark.usefixtures("demo_env")
TEAM_PAGE = "views/team.py"
OMNI, CHEF = Contender("omni", "Omni"), Contender("chef", "Chef")


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def team_page(logged_in: Callable[[str], AppTest]) -> AppTest:
    at = logged_in("demo-admin")
    at.switch_page(TEAM_PAGE).run()
    assert not at.exception, at.exception
    return at


BOB_PASSWORD = "bob-password-1"


def bob_session(app_team: MemberStore, new_app: Callable[[], AppTest]) -> AppTest:
    """Bob, a member beside the demo accounts (those are fixed in demo mode), logged in."""
    app_team.add("bob", name="Bob Jones", email="bob@example.com", password=BOB_PASSWORD)
    at = log_in(new_app().run(), "bob", BOB_PASSWORD)
    assert at.chat_input, "bob should be logged in"
    return at


def add_member(
    at: AppTest, username: str, name: str, role: str = "member", user_id: int = 3
) -> str:
    """Fill in the add form; returns the one-time password the page shows."""
    at.text_input(key=Keys.TEAM_ADD_USERNAME).input(username)
    at.text_input(key=Keys.TEAM_ADD_NAME).input(name)
    at.text_input(key=Keys.TEAM_ADD_EMAIL).input(f"{username}@example.com")
    at.selectbox(key=Keys.TEAM_ADD_ROLE).select(role)
    click(at, "Add member")
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == [f"Added {username} ({role}, user id {user_id})."]
    assert len(at.code) == 1
    return str(at.code[0].value)


def pick(at: AppTest, username: str) -> AppTest:
    at.run()  # the page as it is now (a member may have been added since)
    at.selectbox(key=Keys.TEAM_PICK).select(username)
    return at.run()


def test_an_added_member_logs_in_with_the_one_time_password_and_must_change_it(
    logged_in: Callable[[str], AppTest], new_app: Callable[[], AppTest], app_team: MemberStore
) -> None:
    admin = team_page(logged_in)
    password = add_member(admin, "eve", "Eve Example")
    rows = admin.dataframe[0].value
    assert list(rows["username"]) == ["demo-admin", "demo-member", "eve"]
    assert "must change password" in list(rows["status"])
    assert "words this month" in rows.columns  # the budgets feature fills it
    admin.run()
    assert not admin.code  # shown once

    eve = log_in(new_app().run(), "eve", password)
    assert not eve.exception, eve.exception
    # Nothing but the forced change: no chat, no other page.
    assert [t.value for t in eve.title] == ["Choose your password"]
    assert not eve.chat_input
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        eve.switch_page("views/chat.py")
    labels = [t.label for t in eve.text_input]
    assert labels == ["One-time password", "New password", "Repeat new password"]
    # One way out, in the page (it is in sight on a phone), not a second in the sidebar.
    assert [b.label for b in eve.button if b.label == "Log out"] == ["Log out"]

    eve.text_input(key=Keys.FORCED_CURRENT).input(password)
    eve.text_input(key=Keys.FORCED_NEW).input("eve-own-password")
    eve.text_input(key=Keys.FORCED_REPEAT).input("eve-other-password")
    click(eve, "Set password")
    assert "do not match" in eve.error[0].value and not eve.chat_input

    eve.text_input(key=Keys.FORCED_CURRENT).input(password)
    eve.text_input(key=Keys.FORCED_NEW).input("eve-own-password")
    eve.text_input(key=Keys.FORCED_REPEAT).input("eve-own-password")
    click(eve, "Set password")
    assert not eve.exception, eve.exception
    assert eve.chat_input  # on to the app, still logged in
    assert not app_team.get("eve").must_change_password

    fresh = log_in(new_app().run(), "eve", password)
    assert fresh.error and not fresh.chat_input  # the one-time password is spent
    assert log_in(new_app().run(), "eve", "eve-own-password").chat_input


def test_a_role_change_applies_to_the_open_session(
    logged_in: Callable[[str], AppTest], new_app: Callable[[], AppTest], app_team: MemberStore
) -> None:
    admin = team_page(logged_in)
    member = bob_session(app_team, new_app)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        member.switch_page(TEAM_PAGE)

    pick(admin, "bob")
    admin.selectbox(key=Keys.TEAM_ROLE).select("admin")
    click(admin, "Change role")
    assert [s.value for s in admin.success] == ["bob is now admin."]
    assert app_team.get("bob").is_admin

    member.run()  # the member's next action: now an admin, with the Team page
    member.switch_page(TEAM_PAGE).run()
    assert not member.exception and member.dataframe


def test_a_disabled_members_open_session_is_refused_on_its_next_action(
    logged_in: Callable[[str], AppTest], new_app: Callable[[], AppTest], app_team: MemberStore
) -> None:
    admin = team_page(logged_in)
    member = bob_session(app_team, new_app)
    pick(admin, "bob")
    click(admin, "Disable")
    assert [s.value for s in admin.success] == ["bob is disabled."]
    assert "disabled" in list(admin.dataframe[0].value["status"])

    member.chat_input[0].set_value("Still there?").run()
    assert not member.exception
    assert not member.chat_input and Keys.MEMBER not in member.session_state
    assert auth.SESSION_ENDED in [e.value for e in member.error]
    again = log_in(new_app().run(), "bob", BOB_PASSWORD)
    assert not again.chat_input  # cannot log in while disabled

    click(admin, "Enable")
    assert log_in(new_app().run(), "bob", BOB_PASSWORD).chat_input


def test_removal_needs_confirmation_and_ends_the_session(
    logged_in: Callable[[str], AppTest], new_app: Callable[[], AppTest], app_team: MemberStore
) -> None:
    admin = team_page(logged_in)
    member = bob_session(app_team, new_app)
    pick(admin, "bob")
    click(admin, "Remove")
    assert admin.warning and "Remove Bob Jones" in admin.warning[0].value
    admin.text_input(key=Keys.TEAM_CONFIRM).input("someone-else")
    click(admin, "Remove for good")
    assert "Type bob to confirm" in admin.error[0].value
    assert app_team.get("bob") is not None

    admin.text_input(key=Keys.TEAM_CONFIRM).input("bob")
    click(admin, "Remove for good")
    assert not admin.exception, admin.exception
    assert app_team.get("bob") is None
    assert list(admin.dataframe[0].value["username"]) == ["demo-admin", "demo-member"]
    changes = AuditLog(app_team.engine).entries(kinds=[TEAM_CHANGE])
    assert [(e.actor, e.action, e.target) for e in changes] == [
        ("demo-admin", "remove member", "bob")
    ]

    member.run()
    assert not member.chat_input and auth.SESSION_ENDED in [e.value for e in member.error]


def test_the_last_admin_cannot_be_removed_or_demoted(
    logged_in: Callable[[str], AppTest], app_team: MemberStore
) -> None:
    admin = team_page(logged_in)
    pick(admin, "demo-admin")  # themself, and the only admin
    assert any("This is you" in i.value for i in admin.info)
    labels = {b.label for b in admin.button}
    assert not labels & {"Remove", "Change role", "Disable", "Reset password"}

    # A second admin, demoted in another session meanwhile: the store still refuses.
    password = add_member(admin, "ann", "Ann", role="admin")
    assert password
    app_team.set_role("demo-admin", "member")  # ann is now the last admin
    with pytest.raises(TeamError, match="at least one admin"):
        app_team.remove("ann")
    with pytest.raises(TeamError, match="at least one admin"):
        app_team.set_role("ann", "member")
    admin.run()  # demo-admin's next action: a member now, the Team page is gone
    assert not admin.exception and admin.chat_input
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        admin.switch_page(TEAM_PAGE)
    assert app_team.get("ann").is_admin


def test_a_member_gets_no_team_page_even_by_its_file(
    logged_in: Callable[[str], AppTest], app_db_url: str
) -> None:
    logged_in("demo-member")  # the team exists
    # The page file run on its own with a member's session (what a URL could reach
    # if the page were ever registered for everyone): refused before any content.
    page = AppTest.from_file(str(APP_PATH.parent / TEAM_PAGE), default_timeout=APP_TIMEOUT)
    page.session_state["authentication_status"] = True
    page.session_state[Keys.MEMBER] = member_from(app_db_url, "demo-member")
    page.run()
    assert not page.exception, page.exception
    assert [e.value for e in page.error] == [ADMINS_ONLY]
    assert not page.dataframe and not page.text_input


def member_from(url: str, username: str) -> Member | None:
    from webapp.conversations.store import ConversationStore

    with ConversationStore(url) as store:
        return MemberStore(store.engine).get(username)


def test_a_password_reset_shows_a_new_one_time_password_and_ends_the_open_session(
    logged_in: Callable[[str], AppTest], new_app: Callable[[], AppTest], app_team: MemberStore
) -> None:
    admin = team_page(logged_in)
    member = bob_session(app_team, new_app)
    pick(admin, "bob")
    click(admin, "Reset password")
    assert not admin.exception, admin.exception
    password = str(admin.code[0].value)
    member.run()
    assert not member.chat_input and auth.SESSION_ENDED in [e.value for e in member.error]
    assert not log_in(new_app().run(), "bob", BOB_PASSWORD).chat_input
    again = log_in(new_app().run(), "bob", password)
    assert [t.value for t in again.title] == ["Choose your password"]


def test_in_demo_mode_the_demo_accounts_cannot_be_locked_out_from_the_team_page(
    logged_in: Callable[[str], AppTest], app_team: MemberStore
) -> None:
    admin = team_page(logged_in)
    pick(admin, "demo-member")
    assert any("shared demo account" in i.value for i in admin.info)
    assert not {b.label for b in admin.button} & {"Remove", "Disable", "Reset password"}
    assert app_team.check_password("demo-member", "ablt-demo")


def test_an_admin_sees_who_is_locked_out_and_unlocks_them(
    logged_in: Callable[[str], AppTest],
    new_app: Callable[[], AppTest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What `python -m webapp.team unlock` does, from the browser: the Team page
    lists a username held back by failed logins, and Unlock lets it in again."""
    from webapp.auth import throttle
    from webapp.auth.passwords import DEMO_PASSWORD

    # A wait of minutes, not seconds: on a busy machine the seconds' wait after
    # four failures could run out before the Team page is drawn.
    monkeypatch.setattr(
        throttle,
        "USERNAME_POLICY",
        dataclasses.replace(throttle.USERNAME_POLICY, first_delay=600.0),
    )

    locked = new_app().run()
    for attempt in range(4):
        log_in(locked, "demo-member", f"wrong-password-{attempt}")
    log_in(locked, "demo-member", DEMO_PASSWORD)
    assert not locked.chat_input  # refused while the wait lasts

    at = team_page(logged_in)
    rows = [m.value for m in at.markdown if "after failed logins" in m.value]
    assert len(rows) == 1 and "**demo\\-member**" in rows[0], rows  # as Markdown text
    click(at, "Unlock")
    assert [s.value for s in at.success] == ["demo\\-member can log in again."]  # as text
    assert not [m.value for m in at.markdown if "after failed logins" in m.value]

    log_in(locked, "demo-member", DEMO_PASSWORD)
    assert not locked.exception and locked.chat_input


def test_a_flood_of_lock_outs_is_listed_a_window_at_a_time(
    logged_in: Callable[[str], AppTest], app_team: MemberStore
) -> None:
    """Issue 28 item 7, the Team page's kind: failed logins under many made-up
    names lock out many keys; the page draws a window of rows, "Show more" adds."""
    from webapp.auth import throttle
    from webapp.auth.throttle_store import LoginLog
    from webapp.team.view import LOCKOUTS_SHOWN

    log_book = LoginLog(app_team.engine)
    count = LOCKOUTS_SHOWN + 4
    for n in range(count):
        for _ in range(throttle.USERNAME_POLICY.lock_after):
            row_id, _refused = log_book.reserve(
                f"made-up-{n}", f"10.0.{n}.1", throttle.window(), lambda recent: None
            )
            assert row_id is not None
            log_book.resolve(row_id, ok=False)
    at = team_page(logged_in)
    assert len([b for b in at.button if b.label == "Unlock"]) == LOCKOUTS_SHOWN
    more = next(b for b in at.button if b.label.startswith("Show more"))
    assert more.label.startswith("Show more (") and more.label.endswith(" more)")
    more.click().run()
    assert not at.exception
    assert len([b for b in at.button if b.label == "Unlock"]) >= count


@pytest.mark.parametrize("delete_votes", [False, True])
def test_removal_says_votes_and_ratings_stay_unless_the_admin_deletes_them(
    logged_in: Callable[[str], AppTest],
    app_team: MemberStore,
    app_store: ConversationStore,
    delete_votes: bool,
) -> None:
    admin = team_page(logged_in)
    bob = app_team.add("bob", name="Bob Jones", email="bob@example.com", password=BOB_PASSWORD)
    battle = Arena(app_store).create(bob, (OMNI, CHEF), "Soup?")
    Arena(app_store).vote(bob, battle.id, "a", complete=True)
    pick(admin, "bob")
    click(admin, "Remove")
    said = " ".join(m.value for m in admin.markdown)
    assert "Their 1 arena vote and 0 evaluation ratings stay in the team's arena leaderboard" in (
        said
    )
    if delete_votes:
        admin.checkbox(key=Keys.TEAM_REMOVE_VOTES).check()
    admin.text_input(key=Keys.TEAM_CONFIRM).input("bob")
    click(admin, "Remove for good")
    assert not admin.exception, admin.exception
    assert app_team.get("bob") is None
    done = " ".join(s.value for s in admin.success)
    changes = AuditLog(app_team.engine).entries(kinds=[TEAM_CHANGE])
    actions = [(e.action, e.target) for e in changes]
    if delete_votes:
        assert "deleted their 1 arena vote and 0 evaluation ratings" in done
        assert count_judgements(app_store.engine, "bob") == Judgements(0, 0)
        assert Arena(app_store).votes() == []
        assert ("delete votes and ratings", "bob") in actions
    else:
        assert "their arena votes and evaluation ratings stay in the team's aggregates" in done
        assert [v.voter for v in Arena(app_store).votes()] == ["bob"]
        assert ("delete votes and ratings", "bob") not in actions
    assert ("remove member", "bob") in actions
