"""The Arena page (app.py, demo mode): a blind battle, the vote and the reveal,
"Continue with", and the leaderboard after several votes."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.shown import shown
from webapp.arena import board_view
from webapp.arena.blind import Contender
from webapp.arena.store import AlreadyVoted, Arena
from webapp.conversations.options import ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.groups import store as groups
from webapp.library import PromptLibrary
from webapp.team import MemberStore
from webapp.ui.state import Keys

from .test_conversations import click

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]
ARENA_PAGE = "views/arena.py"


def texts(at: AppTest) -> str:
    """Every Markdown text on the page, as read."""
    return shown(m.value for m in at.markdown)


def open_arena(logged_in: Login, username: str = "demo-member") -> AppTest:
    at = logged_in(username)
    at.switch_page(ARENA_PAGE).run()
    assert not at.exception, at.exception
    return at


def test_a_blind_battle_hides_the_names_until_the_vote_then_reveals_them(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = open_arena(logged_in)
    at.multiselect(key=Keys.ARENA_SHORTLIST).set_value(["chef", "code-mentor"]).run()
    # The prompt names both bots: the answers quote it, and must not show them.
    at.text_area(key=Keys.ARENA_PROMPT).set_value("Chef Remy or code-mentor, who are you?")
    next(b for b in at.button if b.label == "Start battle").click().run()
    assert not at.exception, at.exception
    member = app_team.get("demo-member")
    assert member is not None
    battle = Arena(app_store).recent(member)[0]
    assert {battle.bot_a.slug, battle.bot_b.slug} == {"chef", "code-mentor"}
    answers = [m.text for m in Arena(app_store).answers(member, battle) if m is not None]
    assert len(answers) == 2 and all("Chef Remy" in a for a in answers), "quoted by the emulator"

    page = texts(at)
    assert "Bot A" in page and "Bot B" in page
    for name in ("Chef Remy", "Ada the Code Mentor", "code-mentor", "chef"):
        assert name.lower() not in page.lower().replace("chef remy or code-mentor", "")
    # Names are kept off the buttons too, until the vote.
    assert not [b for b in at.button if "Continue with" in b.label]
    labels = [b.label for b in at.button]
    assert [
        label for label in labels if label in {"A is better", "B is better", "Tie", "Both are bad"}
    ] == ["A is better", "B is better", "Tie", "Both are bad"]

    click(at, "arena_vote_b")
    page = texts(at)
    assert f"Bot A: {battle.bot_a.name}" in page and f"Bot B: {battle.bot_b.name}" in page
    assert any("You voted: B is better" in s.value for s in at.success)
    assert [b for b in at.button if b.key == "arena_vote_a"] == []  # no second vote offered
    with pytest.raises(AlreadyVoted):  # nor taken, whatever the way
        Arena(app_store).vote(member, battle.id, "a", complete=True)

    # Continue with Bot B: a normal chat (not marked imported) on the chat page.
    click(at, "arena_continue_1")
    opened = at.session_state[Keys.CHAT_OPEN]
    assert opened.conversation.bot_slug == battle.bot_b.slug
    assert opened.conversation.imported_at is None and opened.conversation.kind == "chat"
    assert [m.role for m in opened.messages] == ["user", "assistant"]


def _vote_many(store: ConversationStore, team: MemberStore) -> None:
    """Twelve votes by two members: omni beats chef mostly, chef beats coder."""
    arena = Arena(store)
    omni, chef, coder = (
        Contender("omni", "Omni"),
        Contender("chef", "Chef Remy"),
        Contender("code-mentor", "Ada the Code Mentor"),
    )
    plan = [
        ("demo-member", (omni, chef), "a"),
        ("demo-member", (chef, omni), "b"),
        ("demo-member", (omni, chef), "a"),
        ("demo-member", (chef, coder), "a"),
        ("demo-member", (coder, chef), "b"),
        ("demo-member", (omni, coder), "tie"),
        ("demo-admin", (omni, chef), "a"),
        ("demo-admin", (omni, chef), "b"),
        ("demo-admin", (chef, coder), "bad"),
        ("demo-admin", (omni, coder), "a"),
        ("demo-admin", (coder, omni), "b"),
        ("demo-admin", (chef, coder), "a"),
    ]
    random.Random(1).shuffle(plan)
    for username, pair, outcome in plan:
        voter = team.get(username)
        assert voter is not None
        battle = arena.create(voter, pair, "Which is better?")
        arena.vote(voter, battle.id, outcome, complete=True)


def test_the_leaderboard_ranks_the_teams_votes_with_intervals_and_a_csv(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = open_arena(logged_in)  # the team exists once the app has run
    _vote_many(app_store, app_team)
    at.run()
    assert not at.exception, at.exception
    assert any("rests on 12 votes" in c.value for c in at.caption)
    assert any("Only 12 votes so far" in i.value for i in at.info)  # intervals say little yet
    board = next(d.value for d in at.dataframe if "Rating" in d.value.columns)
    assert list(board["Bot"]) == ["Omni", "Chef Remy", "Ada the Code Mentor"]
    assert list(board["Battles"]) == [8, 9, 7]
    assert (board["95% CI low"] <= board["Rating"]).all()
    assert (board["Rating"] <= board["95% CI high"]).all()
    chef = board[board["Bot"] == "Chef Remy"].iloc[0]
    assert (chef["Wins"], chef["Both bad"]) == (4, 1)
    assert any(b.label == "Download leaderboard CSV" for b in at.get("download_button"))
    assert not [m for m in at.multiselect if m.key == Keys.ARENA_VOTERS]  # admins only


def test_an_admin_filters_the_leaderboard_by_member_and_date(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = open_arena(logged_in, "demo-admin")
    _vote_many(app_store, app_team)
    at.multiselect(key=Keys.ARENA_VOTERS).set_value(["demo-member"]).run()
    assert not at.exception, at.exception
    assert any("rests on 6 votes" in c.value for c in at.caption)
    board = next(d.value for d in at.dataframe if "Rating" in d.value.columns)
    assert int(board["Battles"].sum()) == 12
    # A range before any vote: no board, a plain sentence.
    today = at.date_input(key=Keys.ARENA_TO).value
    at.date_input(key=Keys.ARENA_FROM).set_value(today.replace(year=today.year - 2))
    at.date_input(key=Keys.ARENA_TO).set_value(today.replace(year=today.year - 1)).run()
    assert any("No votes in this range" in i.value for i in at.info)


def test_a_library_prompt_with_its_variables_starts_a_battle_with_its_options(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = open_arena(logged_in)
    member = app_team.get("demo-member")
    assert member is not None
    entry = PromptLibrary(app_store).create(
        member,
        "Recipe",
        starter_prompt="A recipe with {{ingredient}}",
        options=ConversationOptions(language="French"),
    )
    at.run()
    at.selectbox(key="arena_library_pick").set_value(entry.id).run()
    at.text_input(key=Keys.library_variable("arena", entry.id, "ingredient")).set_value("leeks")
    click(at, "arena_library_apply")
    assert at.text_area(key=Keys.ARENA_PROMPT).value == "A recipe with leeks"
    next(b for b in at.button if b.label == "Start battle").click().run()
    assert not at.exception, at.exception
    battle = Arena(app_store).recent(member)[0]
    assert battle.prompt == "A recipe with leeks"
    for column in battle.columns:
        options = app_store.get_conversation(member, column).options
        assert (options.language, options.library_prompt_id) == ("French", entry.id)


def test_the_shortlist_offers_and_the_battle_draws_only_bots_the_member_may_use(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = open_arena(logged_in)  # the team exists once the app has run
    engine = app_store.engine
    writers = groups.create_group(engine, "Writers", actor="demo-admin")
    groups.set_group_bots(engine, writers.id, False, ["omni", "code-mentor"], actor="demo-admin")
    groups.add_member(engine, writers.id, "demo-member", actor="demo-admin")
    st.cache_data.clear()  # the member's kept access
    at.run()
    assert not at.exception, at.exception
    shortlist = at.multiselect(key=Keys.ARENA_SHORTLIST)
    assert sorted(shortlist.options) == sorted(["Omni", "Ada the Code Mentor"])
    member = app_team.get("demo-member")
    assert member is not None
    # A crafted shortlist naming the forbidden bot: never drawn.
    at.session_state[Keys.ARENA_SHORTLIST] = ["chef", "omni"]
    at.text_area(key=Keys.ARENA_PROMPT).set_value("Who are you?")
    next(b for b in at.button if b.label == "Start battle").click().run()
    assert not at.exception, at.exception
    battle = Arena(app_store).recent(member)[0]
    assert {battle.bot_a.slug, battle.bot_b.slug} == {"omni", "code-mentor"}


def test_a_member_allowed_one_bot_is_told_the_arena_needs_two(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = open_arena(logged_in)
    groups.set_team_bots(app_store.engine, False, ["omni"], actor="demo-admin")
    st.cache_data.clear()
    at.run()
    assert not at.exception, at.exception
    assert any("needs at least two bots you may use" in i.value for i in at.info)
    assert next(b for b in at.button if b.label == "Start battle").disabled


def test_an_admin_filters_the_leaderboard_by_group(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = open_arena(logged_in, "demo-admin")
    _vote_many(app_store, app_team)
    engine = app_store.engine
    cooks = groups.create_group(engine, "Cooks", actor="demo-admin")
    groups.add_member(engine, cooks.id, "demo-member", actor="demo-admin")
    groups.create_group(engine, "Empty", actor="demo-admin")
    at.run()
    assert any("rests on 12 votes" in c.value for c in at.caption)
    at.multiselect(key=Keys.ARENA_GROUPS).set_value(["Cooks"]).run()
    assert not at.exception, at.exception
    assert any("rests on 6 votes" in c.value for c in at.caption)  # demo-member's votes
    # Beside the member filter: both count.
    at.multiselect(key=Keys.ARENA_VOTERS).set_value(["demo-admin"]).run()
    assert any("rests on 12 votes" in c.value for c in at.caption)
    # A group without members: no votes, said plainly.
    at.multiselect(key=Keys.ARENA_VOTERS).set_value([])
    at.multiselect(key=Keys.ARENA_GROUPS).set_value(["Empty"]).run()
    assert any("No votes in this range" in i.value for i in at.info)


def test_whose_votes_count_by_member_and_group() -> None:
    by_group = {"Cooks": ["ann", "bob"], "Sales": ["cy"], "Empty": []}
    assert board_view.voters_of([], [], by_group) is None  # the whole team
    assert board_view.voters_of([], ["Cooks"], by_group) == ["ann", "bob"]
    assert board_view.voters_of(["cy"], ["Cooks"], by_group) == ["ann", "bob", "cy"]
    assert board_view.voters_of(["ann"], ["Cooks", "Gone"], by_group) == ["ann", "bob"]
    assert board_view.voters_of([], ["Empty"], by_group) == []  # nobody: no votes
