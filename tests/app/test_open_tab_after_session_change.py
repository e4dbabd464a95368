"""What an open tab can do after its member was demoted, disabled or had the
password reset from the terminal: nothing (issue 28, items 1 and 2).

Streamlit runs a button's callback before app.py re-reads the member, so each
test draws a page, changes the member from the terminal (`MemberStore`, as
`python -m webapp.team` does), then presses a button of the page as drawn. The
database must be exactly as it was (a dump of every table before and after),
no chat request may reach the emulator, and the page must say why: the login
page with "Your login has ended" for an ended session, the refusal for a lost
admin role. The guard itself is `webapp.auth.guard`; the test that every
callback uses it is tests/webapp/auth/test_guard.py.

Demo mode; the members who act are added with `MemberStore` (the demo accounts'
passwords are fixed in demo mode, and the Team page protects them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from webapp.audit import TEAM_CHANGE, AuditLog
from webapp.auth import gate as auth
from webapp.auth import throttle as logins
from webapp.auth.guard import NOT_ADMIN
from webapp.auth.throttle_store import LoginLog
from webapp.budgets.view import LIMIT, OWN_LIMIT
from webapp.chat import open_chat as chat
from webapp.compare import view as compare_view
from webapp.conversations.store import ConversationStore
from webapp.library import PromptLibrary
from webapp.sharing import SHARE_PARAM, ShareLinks
from webapp.team import Member, MemberStore
from webapp.ui.state import Keys

from .conftest import log_in
from .test_chat_page import chat_requests, send

pytestmark = pytest.mark.usefixtures("demo_env")

NewApp = Callable[[], AppTest]
ADA, ADA_PASSWORD = "ada", "ada-password-1"  # an admin
BOB, BOB_PASSWORD = "bob", "bob-password-1"  # a member
COMPARED_BOTS = ["omni", "chef"]
TEAM_PAGE = "views/team.py"


# ------------------------------------------------------------------ helpers


def dump(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: the database as a value to compare."""
    tables = sa.MetaData()
    tables.reflect(engine)
    with engine.connect() as conn:
        return {
            name: sorted((tuple(row) for row in conn.execute(table.select())), key=repr)
            for name, table in tables.tables.items()
        }


def changed_tables(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def click(at: AppTest, label: str) -> None:
    """Press the button labelled `label` (the run follows separately)."""
    next(b for b in at.button if b.label == label).click()


def member_session(new_app: NewApp, username: str, password: str, page: str) -> AppTest:
    at = log_in(new_app().run(), username, password)
    assert at.session_state[Keys.MEMBER].username == username, texts(at.error)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def team(app_team: MemberStore, new_app: NewApp) -> MemberStore:
    """The demo team (seeded on the app's first run), plus Ada (admin) and Bob."""
    new_app().run()
    app_team.add(
        ADA, name="Ada Admin", email="ada@example.com", password=ADA_PASSWORD, role="admin"
    )
    app_team.add(BOB, name="Bob Jones", email="bob@example.com", password=BOB_PASSWORD)
    return app_team


# What the terminal does to the member whose tab is open.
CHANGES: dict[str, Callable[[MemberStore, str], object]] = {
    "demoted": lambda team, username: team.set_role(username, "member"),
    "disabled": lambda team, username: team.set_disabled(username, True),
    "password reset": lambda team, username: team.set_password(
        username, "a-one-time-password", must_change=True
    ),
}


def assert_session_ended(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert Keys.MEMBER not in at.session_state, "the session is logged out"
    assert auth.SESSION_ENDED in texts(at.error), texts(at.error)


# ------------------------------------------------- the Team page (item 1)


def _pick_bob(at: AppTest) -> None:
    at.selectbox(key=Keys.TEAM_PICK).select(BOB)
    at.run()


def _lock_out_carol(team: MemberStore) -> None:
    """Ten failed logins for "carol" (from ten addresses): locked for 15 minutes."""
    log_book = LoginLog(team.engine)
    for attempt in range(10):
        event_id, _ = log_book.reserve(
            "carol", f"203.0.113.{attempt}", logins.window(), lambda recent: None
        )
        assert event_id is not None
        log_book.resolve(event_id, False)


@dataclass(frozen=True)
class TeamAction:
    """A Team page button: what is set up on the page before the terminal's
    change (`prepare`), then the press itself (`press`, run by the test)."""

    prepare: Callable[[AppTest], None]
    press: Callable[[AppTest], None]


def _prepare_role(at: AppTest) -> None:
    _pick_bob(at)
    at.selectbox(key=Keys.TEAM_ROLE).select("admin")


def _prepare_remove(at: AppTest) -> None:
    _pick_bob(at)
    click(at, "Remove")  # only opens the confirmation (a view action)
    at.run()
    at.text_input(key=Keys.TEAM_CONFIRM).input(BOB)


def _prepare_add(at: AppTest) -> None:
    at.text_input(key=Keys.TEAM_ADD_USERNAME).input("eve")
    at.text_input(key=Keys.TEAM_ADD_NAME).input("Eve")
    at.selectbox(key=Keys.TEAM_ADD_ROLE).select("admin")


def _prepare_team_budget(at: AppTest) -> None:
    at.radio(key=Keys.BUDGET_DEFAULT_MODE).set_value(LIMIT)
    at.number_input(key=Keys.BUDGET_DEFAULT_AMOUNT).set_value(5000)


def _prepare_member_budget(at: AppTest) -> None:
    at.selectbox(key=Keys.BUDGET_MEMBER).set_value(BOB)
    at.radio(key=Keys.BUDGET_MEMBER_MODE).set_value(OWN_LIMIT)
    at.number_input(key=Keys.BUDGET_MEMBER_AMOUNT).set_value(1_000_000)


def _prepare_slots(at: AppTest) -> None:
    at.checkbox(key=Keys.SLOTS_USE_SETTING).uncheck()
    at.number_input(key=Keys.SLOTS_VALUE).set_value(40)


def _press(label: str) -> Callable[[AppTest], None]:
    return lambda at: click(at, label)


def _press_key(key: str) -> Callable[[AppTest], None]:
    def press(at: AppTest) -> None:
        at.button(key=key).click()

    return press


TEAM_ACTIONS = {
    "Change role": TeamAction(_prepare_role, _press("Change role")),
    "Reset password": TeamAction(_pick_bob, _press("Reset password")),
    "Disable": TeamAction(_pick_bob, _press("Disable")),
    "Remove for good": TeamAction(_prepare_remove, _press("Remove for good")),
    "Add member": TeamAction(_prepare_add, _press("Add member")),
    "Unlock": TeamAction(lambda at: None, _press_key("team_unlock_u_carol")),
    "Save team default": TeamAction(_prepare_team_budget, _press_key("budget_default_save")),
    "Save member limit": TeamAction(_prepare_member_budget, _press_key("budget_member_save")),
    "Save limit": TeamAction(_prepare_slots, _press("Save limit")),
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("action", list(TEAM_ACTIONS))
def test_an_admins_open_team_page_changes_nothing_after_the_admin_lost_the_right(
    team: MemberStore, new_app: NewApp, change: str, action: str
) -> None:
    """The issue's example: Ada, an admin with the Team page open, is demoted
    (or disabled, or has her password reset) from the terminal, then presses
    Change role to make Bob an admin (or any other of the page's changes)."""
    _lock_out_carol(team)
    admin = member_session(new_app, ADA, ADA_PASSWORD, TEAM_PAGE)
    TEAM_ACTIONS[action].prepare(admin)
    CHANGES[change](team, ADA)
    before = dump(team.engine)

    TEAM_ACTIONS[action].press(admin)
    admin.run()

    assert not admin.exception, admin.exception
    assert changed_tables(before, dump(team.engine)) == []
    assert not team.get(BOB).is_admin and not team.get(BOB).disabled
    by_ada = AuditLog(team.engine).entries(member=ADA, kinds=[TEAM_CHANGE])
    assert [e for e in by_ada if e.actor == ADA] == []
    if change == "demoted":
        assert NOT_ADMIN in texts(admin.error), texts(admin.error)
        assert admin.session_state[Keys.MEMBER].role == "member"  # still logged in
    else:
        assert_session_ended(admin)


def test_a_demoted_admin_still_on_the_team_page_is_refused_before_the_page_changes(
    team: MemberStore, new_app: NewApp
) -> None:
    """The refusal is said on the page the member lands on (the Team page is
    gone for a member), and nothing else is: one error, that one."""
    admin = member_session(new_app, ADA, ADA_PASSWORD, TEAM_PAGE)
    _prepare_role(admin)
    team.set_role(ADA, "member")
    click(admin, "Change role")
    admin.run()
    assert texts(admin.error) == [NOT_ADMIN]
    admin.run()  # said once
    assert NOT_ADMIN not in texts(admin.error)


# ------------------------------- starting answers, saving things (item 2)


def disable_and_snapshot(team: MemberStore, username: str) -> tuple[dict[str, Any], int]:
    """The terminal disables the member; the database and the API's chat count as then."""
    team.set_disabled(username, True)
    return dump(team.engine), len(chat_requests())


def assert_nothing_done(
    at: AppTest, team: MemberStore, snapshot: tuple[dict[str, Any], int]
) -> None:
    before, requests = snapshot
    assert_session_ended(at)
    assert changed_tables(before, dump(team.engine)) == []
    assert len(chat_requests()) == requests, "no chat request for an ended session"


def test_compare_sends_nothing_once_the_member_is_disabled(
    team: MemberStore, new_app: NewApp
) -> None:
    """The issue's example: Compare open, bots picked, a prompt typed; the member
    is disabled from the terminal; Enter."""
    at = member_session(new_app, BOB, BOB_PASSWORD, "views/compare.py")
    at.multiselect(key=Keys.COMPARE_BOTS).set_value(["omni", "chef", "code-mentor"]).run()
    snapshot = disable_and_snapshot(team, BOB)
    at.chat_input(key=Keys.COMPARE_PROMPT).set_value("Three answers, please").run()
    assert_nothing_done(at, team, snapshot)


def test_a_follow_up_vote_or_continue_in_an_open_comparison_does_nothing_once_disabled(
    team: MemberStore, new_app: NewApp
) -> None:
    at = member_session(new_app, BOB, BOB_PASSWORD, "views/compare.py")
    at.multiselect(key=Keys.COMPARE_BOTS).set_value(COMPARED_BOTS).run()
    at.chat_input(key=Keys.COMPARE_PROMPT).set_value("First question").run()
    comparison_id = at.session_state[Keys.COMPARE].open_id
    assert comparison_id
    for press in (
        lambda a: a.chat_input(key=Keys.COMPARE_PROMPT).set_value("A follow-up"),
        lambda a: next(b for b in a.button if (b.key or "").startswith("compare_vote_")).click(),
        lambda a: next(
            b for b in a.button if (b.key or "").startswith("compare_continue_")
        ).click(),
    ):
        again = new_app()
        again.query_params[compare_view.OPEN_PARAM] = comparison_id
        again = log_in(again.run(), BOB, BOB_PASSWORD)
        again.switch_page("views/compare.py").run()
        assert again.session_state[Keys.COMPARE].open_id == comparison_id
        snapshot = disable_and_snapshot(team, BOB)
        press(again)
        again.run()
        assert_nothing_done(again, team, snapshot)
        team.set_disabled(BOB, False)


def _bob_entry(team: MemberStore, store: ConversationStore, starter: str = "") -> str:
    bob = team.get(BOB)
    assert bob is not None
    entry = PromptLibrary(store).create(
        bob, "Bob's notes", system_instruction="Be brief.", starter_prompt=starter
    )
    return entry.id


def test_the_prompt_library_saves_nothing_once_the_member_is_disabled(
    team: MemberStore, new_app: NewApp, app_store: ConversationStore
) -> None:
    entry_id = _bob_entry(team, app_store, starter="Tell me about {{topic}}")

    def new_entry(at: AppTest) -> None:
        at.text_input(key="library_new_name").input("New entry")
        at.text_area(key="library_new_system").input("Be kind.")
        click(at, "Save")

    def open_fields(at: AppTest) -> None:
        # The Prompts page draws an entry's fields once its Start is pressed
        # (issue 28 item 8): pressed while still enabled, with the field empty
        # it starts nothing and draws the field.
        at.button(key=f"library_start_page_{entry_id}").click().run()

    def start_chat(at: AppTest) -> None:
        at.text_input(key=f"library_var_page_{entry_id}_topic").input("tea")
        at.button(key=f"library_start_page_{entry_id}").click()

    def save_from_chat(at: AppTest) -> None:
        at.text_input(key="library_save_name").input("From the chat")
        at.text_area(key="library_save_starter").input("Hello {{name}}")
        click(at, "Save to library")

    def as_drawn(at: AppTest) -> None:
        pass

    presses: list[tuple[str, Callable[[AppTest], None], Callable[[AppTest], None]]] = [
        ("views/library.py", as_drawn, new_entry),
        ("views/library.py", open_fields, start_chat),
        ("views/library.py", as_drawn, _press_key(f"library_share_{entry_id}")),
        ("views/library.py", as_drawn, _press_key(f"library_delete_{entry_id}")),
        ("views/chat.py", as_drawn, save_from_chat),
    ]
    for page, prepare, press in presses:
        at = member_session(new_app, BOB, BOB_PASSWORD, page)
        prepare(at)
        snapshot = disable_and_snapshot(team, BOB)
        press(at)
        at.run()
        assert_nothing_done(at, team, snapshot)
        team.set_disabled(BOB, False)
    assert [e.id for e in PromptLibrary(app_store).visible(team.get(BOB))] == [entry_id]


def test_share_links_are_neither_made_copied_nor_revoked_once_the_member_is_disabled(
    team: MemberStore, new_app: NewApp, app_store: ConversationStore
) -> None:
    # Bob's chat (the share menu needs a saved one), and Ada's conversation shared with him.
    at = member_session(new_app, BOB, BOB_PASSWORD, "views/chat.py")
    send(at, "Something worth sharing")
    snapshot = disable_and_snapshot(team, BOB)
    at.button(key="share_create").click().run()
    assert_nothing_done(at, team, snapshot)
    team.set_disabled(BOB, False)
    bob = team.get(BOB)
    assert bob is not None and ShareLinks(app_store).owned(bob) == []

    ada = team.get(ADA)
    assert ada is not None
    theirs = app_store.create_conversation(ada, "omni", "Omni", title="Ada's plan")
    app_store.append_message(ada, theirs.id, "user", "A plan")
    token = ShareLinks(app_store).share(ada, theirs.id).token
    reader = new_app()
    reader.query_params[SHARE_PARAM] = token
    reader = log_in(reader.run(), BOB, BOB_PASSWORD)
    reader.switch_page("views/shared.py").run()
    snapshot = disable_and_snapshot(team, BOB)
    reader.button(key="share_copy").click().run()
    assert_nothing_done(reader, team, snapshot)
    team.set_disabled(BOB, False)
    assert [c.title for c in app_store.list_conversations(bob)] == ["Something worth sharing"]

    own = ShareLinks(app_store).share(bob, app_store.list_conversations(bob)[0].id).token
    owner = member_session(new_app, BOB, BOB_PASSWORD, "views/shared.py")
    snapshot = disable_and_snapshot(team, BOB)
    owner.button(key=f"share_revoke_{own}").click().run()
    assert_nothing_done(owner, team, snapshot)
    assert [link.active for link in ShareLinks(app_store).owned(bob)] == [True]


def test_the_account_page_changes_no_password_once_the_member_is_disabled(
    team: MemberStore, new_app: NewApp
) -> None:
    at = member_session(new_app, BOB, BOB_PASSWORD, "views/account.py")
    fields = {t.label: t for t in at.text_input}
    fields["Current password"].input(BOB_PASSWORD)
    fields["New password"].input("bob-new-password-2")
    fields["Repeat new password"].input("bob-new-password-2")
    snapshot = disable_and_snapshot(team, BOB)
    click(at, "Change password")
    at.run()
    assert_nothing_done(at, team, snapshot)
    team.set_disabled(BOB, False)
    assert team.check_password(BOB, BOB_PASSWORD)


def test_why_the_session_ended_stays_through_the_reruns_that_follow_until_the_next_login(
    team: MemberStore, new_app: NewApp
) -> None:
    # A logout is followed by reruns of its own (the login cookie component
    # reporting back): the reason must survive them, not vanish with the first.
    at = member_session(new_app, BOB, BOB_PASSWORD, "views/chat.py")
    team.revoke_logins(BOB)  # logged out in another browser
    at.run()
    assert_session_ended(at)
    at.run()
    at.run()
    assert auth.SESSION_ENDED in texts(at.error), "still said after two more runs"
    at = log_in(at, BOB, BOB_PASSWORD)
    assert at.session_state[Keys.MEMBER].username == BOB
    assert auth.SESSION_ENDED not in texts(at.error)
    click(at, "Log out")
    at.run()
    assert auth.SESSION_ENDED not in texts(at.error), "a later logout is not a revoked login"


# --------------------------------- every button of every page (items 1, 2)


def _seed_for_bob(team: MemberStore, store: ConversationStore) -> dict[str, str]:
    """Something on every page for Bob's buttons to act on: a library entry of
    his and a pinned team entry, a shared link of his, a comparison."""
    bob, ada = team.get(BOB), team.get(ADA)
    assert bob is not None and ada is not None
    _bob_entry(team, store)
    library = PromptLibrary(store)
    shared = library.create(ada, "Team entry", system_instruction="Team voice.", shared=True)
    library.set_pinned(ada, shared.id, True)
    conv = store.create_conversation(bob, "omni", "Omni", title="Bob's chat")
    store.append_message(bob, conv.id, "user", "Hello")
    store.append_message(bob, conv.id, "assistant", "Hi Bob")
    token = ShareLinks(store).share(bob, conv.id).token
    return {"token": token, "conversation": conv.id}


def _open_comparison(new_app: NewApp) -> str:
    """A finished comparison of Bob's, made through the page."""
    at = member_session(new_app, BOB, BOB_PASSWORD, "views/compare.py")
    at.multiselect(key=Keys.COMPARE_BOTS).set_value(COMPARED_BOTS).run()
    at.chat_input(key=Keys.COMPARE_PROMPT).set_value("Compare this").run()
    assert not at.exception, at.exception
    opened = at.session_state[Keys.COMPARE].open_id
    assert opened
    return str(opened)


def _evaluation_ready(at: AppTest) -> None:
    """The Evaluations page with a saved set of two prompts and two bots picked."""
    if any(t.key == Keys.EVALS_SET_NAME for t in at.text_input):  # no set saved yet
        at.text_input(key=Keys.EVALS_SET_NAME).set_value("Two questions")
        at.text_area(key=Keys.EVALS_PASTE).set_value("Hi?\nBye?")
        next(b for b in at.button if b.label == "Add prompts").click().run()
        next(b for b in at.button if b.label == "Save the set").click().run()
    at.multiselect(key=Keys.EVALS_BOTS).set_value(COMPARED_BOTS).run()


@dataclass(frozen=True)
class Page:
    """A page as a member opens it: by whom, with which query parameter, and
    what is picked on it first (the Team page's Manage panel for Bob)."""

    script: str
    username: str = BOB
    param: str | None = None
    prepare: Callable[[AppTest], None] = lambda at: None
    shows: frozenset[str] = frozenset()  # labels that must be among the buttons pressed


PAGES = {
    "Chat (a conversation)": Page(
        "views/chat.py",
        param=chat.OPEN_PARAM,
        shows=frozenset({"Regenerate", "New chat"}),
    ),
    "Bots": Page("views/bots.py"),
    "Compare (setup)": Page("views/compare.py"),
    "Compare (a comparison)": Page(
        "views/compare.py",
        param=compare_view.OPEN_PARAM,
        shows=frozenset({"Best answer", "Continue with this bot"}),
    ),
    "Arena (setup)": Page("views/arena.py", shows=frozenset({"Start battle"})),
    "Evaluations (setup)": Page(
        "views/evaluations.py",
        prepare=_evaluation_ready,
        shows=frozenset({"New evaluation", "Run"}),
    ),
    "Prompts": Page("views/library.py", shows=frozenset({"Save", "Share with the team", "Delete"})),
    "Prompts (an admin: Pin)": Page("views/library.py", username=ADA, shows=frozenset({"Unpin"})),
    "Shared (own links)": Page("views/shared.py", shows=frozenset({"Revoke"})),
    "Shared (a link)": Page(
        "views/shared.py", param=SHARE_PARAM, shows=frozenset({"Copy into my chats"})
    ),
    "Statistics": Page("views/statistics.py", shows=frozenset({"Refresh"})),
    "Account": Page("views/account.py", shows=frozenset({"Change password"})),
    "Team": Page(
        TEAM_PAGE,
        username=ADA,
        prepare=_pick_bob,
        shows=frozenset(
            {"Add member", "Change role", "Reset password", "Disable", "Remove", "Unlock"}
            | {"Save team default", "Save member limit", "Save limit"}
        ),
    ),
}
PASSWORDS = {BOB: BOB_PASSWORD, ADA: ADA_PASSWORD}


def _button_ids(at: AppTest) -> list[tuple[str, int]]:
    """Each button as (key or label, how many of that name came before it)."""
    seen: dict[str, int] = {}
    ids = []
    for button in at.button:
        name = button.key or button.label
        ids.append((name, seen.get(name, 0)))
        seen[name] = seen.get(name, 0) + 1
    return ids


def _find(at: AppTest, wanted: tuple[str, int]) -> Any:
    found = [b for b in at.button if (b.key or b.label) == wanted[0]]
    return found[wanted[1]]


@pytest.mark.parametrize("page_name", list(PAGES))
def test_every_button_of_a_page_does_nothing_once_the_member_is_disabled(
    team: MemberStore, new_app: NewApp, app_store: ConversationStore, page_name: str
) -> None:
    """Each button of the page in its own session: log in, open the page, the
    terminal disables the member, press. No row of any table changes, no chat
    request is made, and the next page is the login with "Your login has ended"."""
    page = PAGES[page_name]
    param, username = page.param, page.username
    _lock_out_carol(team)  # the Team page then shows an Unlock
    seeded = _seed_for_bob(team, app_store)
    params = {SHARE_PARAM: seeded["token"], chat.OPEN_PARAM: seeded["conversation"]}
    if param == compare_view.OPEN_PARAM:
        params[param] = _open_comparison(new_app)

    def open_page() -> AppTest:
        at = new_app()
        if param is not None:
            at.query_params[param] = params[param]
        at = log_in(at.run(), username, PASSWORDS[username])
        member: Member = at.session_state[Keys.MEMBER]
        assert member.username == username
        at.switch_page(page.script).run()
        page.prepare(at)
        assert not at.exception, at.exception
        return at

    first = open_page()
    buttons = _button_ids(first)
    assert page.shows <= {b.label for b in first.button}, [b.label for b in first.button]
    for wanted in buttons:
        at = open_page()
        snapshot = disable_and_snapshot(team, username)
        _find(at, wanted).click()
        at.run()
        try:
            assert_nothing_done(at, team, snapshot)
        except AssertionError as err:
            raise AssertionError(f"{page_name}, button {wanted}: {err}") from err
        team.set_disabled(username, False)
