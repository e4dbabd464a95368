"""Groups through the real app (issue 22): the admin's Groups section on the
Team page, and what a member in a group sees where bots are chosen.

Demo mode against the app's embedded emulator, through the real login form.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ablt_core import AbltClient, Bot
from webapp.audit import TEAM_CHANGE, AuditLog
from webapp.conversations.store import ConversationStore
from webapp.groups import store as groups
from webapp.ui.state import Keys

from .test_chat_page import chat_requests, emulator, send

pytestmark = pytest.mark.usefixtures("demo_env")
Login = Callable[..., AppTest]
MARKUP_NAME = "**Sales** <b>EU</b> :red[x]"


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    st.cache_data.clear()  # the bot list and every member's kept access


def api_bots() -> list[Bot]:
    with AbltClient(bearer_token="demo-token", base_url=emulator().base_url) as client:
        return client.get_bots()


def press(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_an_admin_creates_a_group_limits_its_bots_and_adds_a_member(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in("demo-admin")
    at.switch_page("views/team.py").run()
    assert not at.exception, at.exception
    at.text_input(key=Keys.GROUPS_NEW_NAME).input(MARKUP_NAME)
    at.text_area(key=Keys.GROUPS_NEW_DESCRIPTION).input("# Not a heading\n*not italic*")
    press(at, "Create group")
    [group] = groups.list_groups(app_store.engine)
    assert group.name == MARKUP_NAME
    # Shown as typed: the expander's label and the description are escaped.
    assert any(e.label.startswith(r"\*\*Sales\*\* \<b\>EU\</b\> \:red\[x\]") for e in at.expander)
    assert any(r"\# Not a heading" in m.value for m in at.markdown)

    slug = api_bots()[0].slug
    at.radio(key=Keys.group_field(group.id, "bots_mode")).set_value("Only the bots chosen")
    at.multiselect(key=Keys.group_field(group.id, "bots")).select(slug)
    press(at, "Save bots")
    at.multiselect(key=Keys.group_field(group.id, "add")).select("demo-member")
    press(at, "Add to group")
    at.radio(key=Keys.group_field(group.id, "limit_mode")).set_value("Limit")
    at.number_input(key=Keys.group_field(group.id, "amount")).set_value(5000)
    press(at, "Save budget")

    saved = groups.get_group(app_store.engine, group.id)
    assert (saved.all_bots, saved.bots, saved.members) == (False, {slug}, {"demo-member"})
    assert saved.monthly_limit == 5000
    actions = [e.action for e in AuditLog(app_store.engine).entries(kinds=[TEAM_CHANGE])]
    for action in ("create group", "set group bots", "add to group", "set group budget"):
        assert action in actions

    at.checkbox(key=Keys.group_field(group.id, "confirm")).check()
    press(at, "Delete group")
    assert groups.list_groups(app_store.engine) == []


def test_a_member_sees_only_the_bots_of_their_groups_and_a_refused_chat_says_why(
    logged_in: Login, app_store: ConversationStore
) -> None:
    bots = api_bots()
    allowed, forbidden = bots[0], bots[1]
    engine = app_store.engine
    team = groups.create_group(engine, "Writers", actor="demo-admin")
    groups.set_group_bots(engine, team.id, False, [allowed.slug], actor="demo-admin")
    at = logged_in("demo-member")
    member = at.session_state[Keys.MEMBER]
    groups.add_member(engine, team.id, "demo-member", actor="demo-admin")
    st.cache_data.clear()
    old = app_store.create_conversation(member, forbidden.slug, forbidden.name, title="Older")
    app_store.append_message(member, old.id, "user", "Hello from before")

    # The Bots catalogue: the forbidden bot's card is greyed out, with why.
    at.switch_page("views/bots.py").run()
    assert not at.exception, at.exception
    buttons = {b.key: b for b in at.button if b.label == "Chat with this bot"}
    assert not buttons[f"bots_chat_{allowed.uid}"].disabled
    assert buttons[f"bots_chat_{forbidden.uid}"].disabled
    assert any("None of your groups may use" in c.value for c in at.caption)

    # The chat's picker offers the allowed bot only.
    at.switch_page("views/chat.py").run()
    assert at.selectbox(key=Keys.CHAT_BOT_SELECT).options == [allowed.name]

    # The older conversation with the forbidden bot opens, readable; sending is refused.
    at.session_state[Keys.CHAT_OPEN_ID] = old.id
    at.run()
    assert any("None of your groups may use" in w.value for w in at.warning)
    asked = len(chat_requests())
    send(at, "And now?")
    assert len(chat_requests()) == asked  # nothing reached the API
    assert any("Not sent: None of your groups may use" in e.value for e in at.error)
    assert [m.text for m in app_store.all_messages(member, old.id)] == ["Hello from before"]
    # A prompt left queued in it (typed ahead before the change) waits, saying why.
    app_store.enqueue_prompt(member, old.id, "Typed ahead?")
    at.session_state[Keys.CHAT_OPEN_ID] = old.id
    at.run()
    assert not at.exception, at.exception
    assert any("Your queued message stays queued" in c.value for c in at.caption)
    assert len(chat_requests()) == asked

    # Compare offers only the allowed bot.
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key=Keys.COMPARE_BOTS).options == [allowed.name]


def test_an_admin_charts_usage_per_group(logged_in: Login, app_store: ConversationStore) -> None:
    at = logged_in("demo-admin")  # the demo team is seeded at the first run
    engine = app_store.engine
    sales = groups.create_group(engine, "Sales", actor="demo-admin")
    groups.add_member(engine, sales.id, "demo-member", actor="demo-admin")
    groups.add_member(engine, sales.id, "demo-admin", actor="demo-admin")
    groups.create_group(engine, "Nobody yet", actor="demo-admin")
    at.switch_page("views/statistics.py").run()
    assert not at.exception, at.exception
    assert "Per group" in [h.value for h in at.header]
    tables = [d.value for d in at.dataframe if "member" in d.value.columns]
    table = next(t for t in tables if "Sales" in list(t["member"]))
    per_member = next(t for t in tables if "Demo Member (demo-member)" in list(t["member"]))
    members = per_member.set_index("member")["total"]
    groups_total = table.set_index("member")["total"]
    expected = members["Demo Member (demo-member)"] + members["Demo Admin (demo-admin)"]
    assert groups_total["Sales"] == expected and groups_total["Nobody yet"] == 0


def test_a_library_entry_and_a_share_of_a_forbidden_bot_say_so(
    logged_in: Login, app_store: ConversationStore
) -> None:
    from webapp.library import PromptLibrary
    from webapp.sharing import SHARE_PARAM, ShareLinks

    from .test_chat_page import conversation

    bots = api_bots()
    allowed, forbidden = bots[0], bots[1]
    owner = logged_in("demo-admin")
    admin = owner.session_state[Keys.MEMBER]
    shared = app_store.create_conversation(admin, forbidden.slug, forbidden.name, title="Menu")
    app_store.append_message(admin, shared.id, "user", "Plan a menu")
    link = ShareLinks(app_store).share(admin, shared.id)
    library = PromptLibrary(app_store)
    library.create(
        admin, "For the other bot", starter_prompt="Hi", bot_slug=forbidden.slug, shared=True
    )
    library.create(
        admin, "For the allowed bot", starter_prompt="Hi", bot_slug=allowed.slug, shared=True
    )
    groups.set_team_bots(app_store.engine, False, [allowed.slug], actor="demo-admin")

    reader = logged_in("demo-member")  # in no group: only the allowed bot
    reader.switch_page("views/library.py").run()
    assert not reader.exception, reader.exception
    starts = [b for b in reader.button if b.label == "Start a chat with it"]
    assert sorted(b.disabled for b in starts) == [False, True]  # one greyed out
    assert any("Members in no group may not use" in c.value for c in reader.caption)

    reader.query_params[SHARE_PARAM] = link.token
    reader.switch_page("views/shared.py").run()
    assert any("Members in no group may not use" in w.value for w in reader.warning)
    reader.button(key="share_copy").click().run()  # the copy is allowed: readable
    assert not reader.exception, reader.exception
    copy = conversation(reader)
    assert copy.conversation.bot_slug == forbidden.slug
    reader.switch_page("views/chat.py").run()
    assert conversation(reader).id == copy.id
    assert any("Members in no group may not use" in w.value for w in reader.warning)
    asked = len(chat_requests())
    send(reader, "Go on?")
    assert len(chat_requests()) == asked
    assert any("Not sent: Members in no group may not use" in e.value for e in reader.error)
