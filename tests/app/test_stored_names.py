"""Stored names drawn as text (issue 28, item 3), through the real app.py.

A username that is Markdown, added from the terminal or a team file, once made
the Team page's notice fetch a remote image and draw a phishing link. Every
page must draw what it stores (usernames, names, emails, titles, entry names,
lock-out keys, bot fields, errors) as text; the check walks everything the
page renders as Markdown (`tests.drawn_text`). New members get a stricter
username alphabet; existing ones keep theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from tests.drawn_text import (
    ISSUE_USERNAME,
    PAYLOAD,
    SHORT_PAYLOAD,
    drawn_markdown,
    markdown_problems,
)
from tests.hostile_api import TOKEN, HostileSetup, hostile_servers
from webapp.auth import throttle
from webapp.auth.throttle_store import LoginLog
from webapp.bots import avatars
from webapp.budgets.book import BudgetBook
from webapp.compare import Comparisons
from webapp.compare import view as compare_view
from webapp.conversations.context import ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.library import PromptLibrary
from webapp.sharing import SHARE_PARAM, ShareLinks
from webapp.team import Member, MemberStore, create_demo_team, load_team
from webapp.team import members as team_members
from webapp.text import literal as md
from webapp.ui.state import Keys

from .conftest import COOKIE_KEY, log_in
from .test_team_page import TEAM_PAGE, click, pick

ODD_PASSWORD = "mallory-password-1"
ODD = ISSUE_USERNAME.lower()  # usernames are keyed lower-cased


def odd_member_in_team_file(auth_file: Path) -> None:
    """The demo team and the issue's member, as a hand-written team file holds
    them (the app imports it on its first run; the alphabet is for new members)."""
    team = create_demo_team(auth_file)
    team.add(ISSUE_USERNAME, name="Mallory", email="m@example.com", password=ODD_PASSWORD)
    team.save()


def lock_out(engine: Engine, username: str) -> None:
    """`username` locked out for a quarter of an hour (ten failed logins), as
    failed logins leave it: a key that is whatever was typed at the login form."""
    log = LoginLog(engine)
    for _ in range(throttle.USERNAME_POLICY.lock_after):
        event_id, _refused = log.reserve(username, "10.0.0.9", timedelta(hours=1), lambda r: None)
        assert event_id is not None
        log.resolve(event_id, False)


def assert_drawn_as_text(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert drawn_markdown(at), "the page drew nothing to check"
    assert markdown_problems(at) == []


@pytest.mark.usefixtures("demo_env")
def test_change_role_for_a_markdown_username_draws_no_image_and_no_link(
    auth_file: Path, logged_in: Callable[[str], AppTest], app_team: MemberStore
) -> None:
    odd_member_in_team_file(auth_file)
    admin = logged_in("demo-admin")
    admin.switch_page(TEAM_PAGE).run()
    pick(admin, ODD)
    assert_drawn_as_text(admin)
    admin.selectbox(key=Keys.TEAM_ROLE).select("admin")
    click(admin, "Change role")
    assert app_team.get(ODD).is_admin
    assert_drawn_as_text(admin)
    assert [s.value for s in admin.success] == [f"{md.escape(ODD)} is now admin."]


@pytest.mark.usefixtures("demo_env")
def test_every_team_action_on_a_markdown_username_draws_it_as_text(
    auth_file: Path,
    logged_in: Callable[[str], AppTest],
    new_app: Callable[[], AppTest],
    app_team: MemberStore,
) -> None:
    odd_member_in_team_file(auth_file)
    locked = new_app().run()
    for attempt in range(3):  # failed logins, in the audit log
        log_in(locked, ISSUE_USERNAME, f"wrong-password-{attempt}")
    lock_out(app_team.engine, ISSUE_USERNAME)
    admin = logged_in("demo-admin")
    admin.switch_page(TEAM_PAGE).run()
    assert_drawn_as_text(admin)  # the lock-out row, the audit log, the budgets
    pick(admin, ODD)
    for label in ("Reset password", "Disable", "Enable", "Remove"):
        click(admin, label)
        assert_drawn_as_text(admin)
    admin.text_input(key=Keys.TEAM_CONFIRM).input("someone-else")
    click(admin, "Remove for good")  # refused: "Type ... to confirm the removal."
    assert admin.error and app_team.get(ODD) is not None
    assert_drawn_as_text(admin)
    click(admin, "Unlock")
    assert admin.success
    assert_drawn_as_text(admin)


@pytest.mark.usefixtures("demo_env")
def test_a_new_username_outside_the_alphabet_is_refused_and_an_old_one_still_works(
    auth_file: Path,
    logged_in: Callable[[str], AppTest],
    new_app: Callable[[], AppTest],
    app_team: MemberStore,
) -> None:
    odd_member_in_team_file(auth_file)
    admin = logged_in("demo-admin")
    admin.switch_page(TEAM_PAGE).run()
    for refused in ("mallory!", "zoë", "two words"):
        admin.text_input(key=Keys.TEAM_ADD_USERNAME).input(refused)
        admin.text_input(key=Keys.TEAM_ADD_NAME).input("Someone")
        click(admin, "Add member")
        assert not admin.success and len(admin.error) == 1
        assert [e.value for e in admin.error] == [md.escape(team_members.USERNAME_RULE)]
        assert not admin.code  # no one-time password: nobody was added
    assert len(app_team.members()) == 3
    listed = list(admin.dataframe[0].value["username"])
    assert listed == ["demo-admin", "demo-member", ODD]  # the existing one is listed

    mallory = log_in(new_app().run(), ISSUE_USERNAME, ODD_PASSWORD)
    assert not mallory.exception and mallory.chat_input  # and still logs in
    assert_drawn_as_text(mallory)
    mallory.switch_page("views/account.py").run()
    assert_drawn_as_text(mallory)


# ---------------------------------------------------------------- every page


BOSS = f"boss`{ISSUE_USERNAME}"  # an admin whose username is Markdown, a backtick too
HOSTILE_PASSWORD = "a long test passphrase"
BAD_VERSION = '{"format": "ablt-chat-conversation", "version": "![](http://a.co/v)"}'


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileSetup]:
    """The hostile API of issue 12 (every bot field an attack), with few bots."""
    with hostile_servers(4) as setup:
        yield setup


@pytest.fixture
def hostile_env(hostile: HostileSetup, monkeypatch: pytest.MonkeyPatch, auth_file: Path) -> None:
    monkeypatch.setenv("ABLT_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("ABLT_BASE_URL", hostile.api_url)
    monkeypatch.setenv("ABLT_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("ABLT_AUTH_FILE", str(auth_file))
    monkeypatch.delenv("ABLT_EMULATOR_DELAY", raising=False)
    st.cache_data.clear()
    avatars.forget_avatars()
    team = load_team(auth_file, create=True)
    team.add(BOSS, name=PAYLOAD, email=SHORT_PAYLOAD, password=HOSTILE_PASSWORD, role="admin")
    team.add(ISSUE_USERNAME, name=PAYLOAD, email=SHORT_PAYLOAD, password=HOSTILE_PASSWORD)
    team.save()


@dataclass
class Seeded:
    """What the sweep put in the store, every text of it hostile."""

    gone_bot_chat: str
    chat: str
    comparison: str
    entry: str
    share_token: str


def seed(store: ConversationStore, owner: Member, bots: list[str]) -> Seeded:
    options = ConversationOptions(language=SHORT_PAYLOAD)
    gone = store.create_conversation(owner, "gone-bot", SHORT_PAYLOAD, options, title=PAYLOAD)
    store.append_message(owner, gone.id, "user", "Hello")
    store.append_message(owner, gone.id, "assistant", "", AnswerStatus.ERROR, error=PAYLOAD)
    chat_ = store.create_conversation(owner, bots[0], SHORT_PAYLOAD, title=PAYLOAD)
    store.append_message(owner, chat_.id, "user", "Hello")
    store.append_message(owner, chat_.id, "assistant", "Hi there.")
    comparison = Comparisons(store).create(
        owner, [(bots[0], SHORT_PAYLOAD), (bots[1], SHORT_PAYLOAD)], [ConversationOptions()] * 2
    )
    store.rename(owner, comparison.id, PAYLOAD)
    for column in comparison.columns:
        store.append_message(owner, column.id, "user", "Hello")
        store.append_message(owner, column.id, "assistant", "", AnswerStatus.ERROR, error=PAYLOAD)
    entry = PromptLibrary(store).create(
        owner,
        PAYLOAD,
        starter_prompt="Write to {{_pwnital_}} about {{topic}}.",
        options=options,
        shared=True,
    )
    link = ShareLinks(store).share(owner, chat_.id)
    return Seeded(gone.id, chat_.id, comparison.id, entry.id, link.token)


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert_drawn_as_text(at)
    return at


def press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert_drawn_as_text(at)
    return at


@pytest.mark.usefixtures("hostile_env")
def test_every_page_and_notice_draws_stored_values_as_text(
    new_app: Callable[[], AppTest],
    app_store: ConversationStore,
    app_team: MemberStore,
    hostile: HostileSetup,
) -> None:
    locked = new_app().run()
    for attempt in range(3):  # failed logins in the audit log, then a lock-out
        log_in(locked, SHORT_PAYLOAD, f"wrong-password-{attempt}")
    lock_out(app_team.engine, SHORT_PAYLOAD)
    at = log_in(new_app().run(), BOSS, HOSTILE_PASSWORD)
    assert at.chat_input, "the boss should be logged in"
    boss = app_team.get(BOSS)
    assert boss is not None
    seeded = seed(app_store, boss, ["hostile-00000", "hostile-00001"])

    # Chat: a bot gone from the catalogue (its stored name), a stored error, the
    # language chip, the History's titles; the library menu's variable fields.
    at.run()
    assert_drawn_as_text(at)
    at.sidebar.button(key=f"chat_open_{seeded.gone_bot_chat}").click().run()
    assert_drawn_as_text(at)
    at.sidebar.button(key=f"chat_open_{seeded.chat}").click().run()
    assert_drawn_as_text(at)
    at.selectbox(key="library_chat_pick").select(seeded.entry).run()
    press(at, f"library_start_chat_{seeded.entry}")  # "Fill in “_pwnital_”, ... first."
    assert at.error
    # Import: a file named like the payload, refused; then an export of a hostile chat.
    at.file_uploader[0].set_value((f"{SHORT_PAYLOAD}.json", BAD_VERSION.encode(), "text/json"))
    at.run()
    assert any("not supported" in e.value for e in at.error)
    assert_drawn_as_text(at)
    exported = app_store.export_json(boss, seeded.gone_bot_chat).encode()
    at.file_uploader[0].set_value((f"{SHORT_PAYLOAD}.json", exported, "application/json"))
    at.run()
    assert at.success
    assert_drawn_as_text(at)

    visit(at, "views/bots.py")

    at.query_params[compare_view.OPEN_PARAM] = seeded.comparison
    visit(at, "views/compare.py")
    del at.query_params[compare_view.OPEN_PARAM]
    at.sidebar.button(key="compare_new").click().run()  # the setup, with the library
    assert_drawn_as_text(at)
    at.selectbox(key="compare_library_pick").select(seeded.entry).run()
    press(at, "compare_library_apply")  # "Fill in ... first."
    at.text_input(key=Keys.library_variable("compare", seeded.entry, "_pwnital_")).input("x")
    at.text_input(key=Keys.library_variable("compare", seeded.entry, "topic")).input("y")
    press(at, "compare_library_apply")  # "Applied “...”"
    assert at.success

    visit(at, "views/library.py")
    press(at, f"library_start_page_{seeded.entry}")
    at.text_input(key="library_new_name").input(PAYLOAD)
    at.text_area(key="library_new_starter").input("Hello {{_pwnital_}}")
    next(b for b in at.button if b.label == "Save").click().run()
    assert at.success  # "Saved “...”."
    assert_drawn_as_text(at)

    visit(at, "views/shared.py")
    at.query_params[SHARE_PARAM] = seeded.share_token
    visit(at, "views/shared.py")
    del at.query_params[SHARE_PARAM]

    visit(at, "views/statistics.py")
    visit(at, "views/account.py")

    visit(at, TEAM_PAGE)  # members, lock-outs, budgets, the audit log
    pick(at, ISSUE_USERNAME.lower())
    at.selectbox(key=Keys.TEAM_ROLE).select("admin")
    click(at, "Change role")
    assert_drawn_as_text(at)
    at.selectbox(key=Keys.BUDGET_MEMBER).select(ISSUE_USERNAME.lower())
    at.radio(key=Keys.BUDGET_MEMBER_MODE).set_value("Own limit")
    press(at, "budget_member_save")  # "<username>: 1,000 words a month."
    assert at.success
    click(at, "Unlock")
    assert [s.value for s in at.success] == [f"{md.escape(SHORT_PAYLOAD)} can log in again."]
    assert_drawn_as_text(at)

    # A used-up budget names the team's admins (the boss's name and username).
    BudgetBook(app_store.engine).set_member_limit(BOSS, 0, "words", actor=BOSS)
    at.switch_page("views/chat.py").run()
    at.sidebar.button(key=f"chat_open_{seeded.chat}").click().run()
    assert any("budget is used up" in e.value for e in at.error)
    assert_drawn_as_text(at)
    at.chat_input[0].set_value("Anything?").run()
    assert any("Not sent" in e.value for e in at.error)
    assert_drawn_as_text(at)

    # The member's own view: their name on Statistics, their username on Account.
    member = log_in(new_app().run(), ISSUE_USERNAME, HOSTILE_PASSWORD)
    assert member.chat_input
    assert_drawn_as_text(member)
    visit(member, "views/statistics.py")
    visit(member, "views/account.py")
    assert hostile.attacker.seen() == []
