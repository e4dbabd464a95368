"""The Bots page through the real app: login, cards, search, model filter, chat handoff."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ablt_core import AbltClient, Bot
from ablt_core.emulator import EmulatorHandle, Fault
from tests.shown import shown
from webapp import backend
from webapp.bots import display as bot_display
from webapp.bots.avatars import AddressPolicy, fetch_avatar_data_url, initials_avatar
from webapp.text import literal as markdown
from webapp.ui.state import Keys

CHAT_LABEL = "Chat with this bot"
Login = Callable[..., AppTest]  # the `logged_in` fixture of tests/app/conftest.py


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    # Each test starts as a new server process would: nothing cached yet.
    st.cache_data.clear()


def open_bots(at: AppTest) -> AppTest:
    at.switch_page("views/bots.py").run()
    assert not at.exception
    return at


def emulator() -> EmulatorHandle:
    handle = backend.demo_emulator()
    assert handle is not None
    return handle


def api_bots() -> list[Bot]:
    with AbltClient(bearer_token="demo-token", base_url=emulator().base_url) as client:
        return client.get_bots()


def card_names(at: AppTest) -> list[str]:
    # Each card's heading is its bot's name in bold.
    return [md.value.strip("*") for md in at.markdown if md.value.startswith("**")]


def chat_buttons(at: AppTest) -> list[str]:
    return [b.key for b in at.button if b.label == CHAT_LABEL]


def lines_of(text: str) -> list[str]:
    # Markdown hard breaks (trailing spaces) and CRLF don't change what is read.
    return [line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n")]


def count_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if " bot" in c.value and " of " in c.value)


def test_catalogue_shows_every_bot_as_a_card_with_the_count(logged_in: Login) -> None:
    at = open_bots(logged_in("demo-member"))
    bots = api_bots()

    assert count_caption(at) == f"{len(bots)} of {len(bots)} bots"
    assert card_names(at) == [bot.name for bot in bots]
    assert chat_buttons(at) == [f"bots_chat_{bot.uid}" for bot in bots]
    # avatars: the emulator's images, inlined by the server, or the bot's initials
    # for a bot without one; model, description on the cards
    images = [url for image in at.image for url in image.value]
    assert images == [
        fetch_avatar_data_url(bot.avatar_url, policy=AddressPolicy.trusting(emulator().base_url))
        if bot.avatar_url
        else initials_avatar(bot.name)
        for bot in bots
    ]
    assert any(not bot.avatar_url for bot in bots)  # the emulator has one without
    assert all(url.startswith("data:image/svg+xml;base64,") for url in images)
    captions = [c.value for c in at.caption]
    texts = [md.value for md in at.markdown]
    for bot in bots:
        assert f"Model: {markdown.escape(bot.model)}  \n`{bot.slug}`" in captions
        # The description is the API's data: shown as typed, escaped for Markdown.
        assert bot_display.description_md(bot.description) in texts


def test_search_and_model_filter_narrow_the_cards(logged_in: Login) -> None:
    at = open_bots(logged_in("demo-member"))
    bots = api_bots()
    target = bots[-1]

    at.text_input(key=Keys.BOTS_QUERY).input(target.name.upper()).run()
    names = card_names(at)
    assert target.name in names
    assert len(names) < len(bots)
    assert count_caption(at) == f"{len(names)} of {len(bots)} bots"

    at.text_input(key=Keys.BOTS_QUERY).input("").run()
    model = target.model
    at.multiselect(key=Keys.BOTS_MODELS).set_value([model]).run()
    assert card_names(at) == [bot.name for bot in bots if bot.model == model]

    at.text_input(key=Keys.BOTS_QUERY).input("no bot is called this").run()
    assert card_names(at) == []
    assert count_caption(at) == f"0 of {len(bots)} bots"
    assert "No bot matches" in at.info[0].value


def test_chat_with_this_bot_opens_chat_with_that_bot_and_a_fresh_conversation(
    logged_in: Login,
) -> None:
    at = open_bots(logged_in("demo-member"))
    bots = api_bots()
    target = bots[2]  # not the chat page's default bot

    at.button(key=f"bots_chat_{target.uid}").click().run()

    assert not at.exception
    assert at.session_state[Keys.CHAT_BOT_SLUG] == target.slug
    assert at.chat_input  # we are on the chat page
    assert at.main.selectbox(key=Keys.CHAT_BOT_SELECT).value == target.slug
    # a fresh conversation opens with that bot's welcome message
    first = shown(md.value for md in at.chat_message[0].markdown)
    assert lines_of(first) == lines_of(target.welcome_message)
    assert len(at.chat_message) == 1


def test_bot_list_is_cached_across_reruns_and_refresh_asks_again(logged_in: Login) -> None:
    at = open_bots(logged_in("demo-member"))

    def bot_calls() -> int:
        return sum(1 for r in emulator().requests if r.path == "/v1/bots")

    calls = bot_calls()
    at.text_input(key=Keys.BOTS_QUERY).input("a").run()
    at.run()
    assert bot_calls() == calls  # reruns are served from the cache

    at.button(key="bots_refresh").click().run()
    assert bot_calls() == calls + 1
    assert card_names(at)


def test_an_api_error_shows_a_plain_message_and_retry_recovers(logged_in: Login) -> None:
    at = logged_in("demo-member")
    st.cache_data.clear()  # the chat page loaded the list at login; as if its TTL ran out
    # Every attempt (the first and the client's retries) fails.
    emulator().inject(Fault(kind="server_error", status=503, path="/v1/bots", times=10))
    try:
        open_bots(at)
        assert not at.exception
        assert "internal error or is restarting" in at.error[0].value
        assert chat_buttons(at) == []

        emulator().clear_faults()
        at.button(key="bots_retry").click().run()
        assert not at.error
        assert len(chat_buttons(at)) == len(api_bots())
    finally:
        emulator().clear_faults()
