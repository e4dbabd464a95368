"""The Bots page through the real app: login, cards, search, model filter, chat handoff."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ablt_core import AbltClient, Bot
from ablt_core.emulator import EmulatorHandle, Fault
from webapp import backend
from webapp.state import Keys

APP = str(Path(__file__).resolve().parents[2] / "app.py")
CHAT_LABEL = "Chat with this bot"


@pytest.fixture
def demo_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Demo mode on a fresh team file; empty caches, as in a new server process.
    monkeypatch.delenv("ABLT_BEARER_TOKEN", raising=False)
    monkeypatch.setenv("ABLT_AUTH_FILE", str(tmp_path / "auth.yaml"))
    monkeypatch.setenv("ABLT_EMULATOR_DELAY", "0")
    st.cache_data.clear()


def login(username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input("ablt-demo")
    at.button[0].click().run()
    at.run()
    assert at.session_state[Keys.MEMBER].username == username
    return at


def open_bots(at: AppTest) -> AppTest:
    at.switch_page("pages/bots.py").run()
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


def count_caption(at: AppTest) -> str:
    return next(c.value for c in at.caption if " bot" in c.value and " of " in c.value)


@pytest.mark.usefixtures("demo_app")
def test_catalogue_shows_every_bot_as_a_card_with_the_count() -> None:
    at = open_bots(login("demo-member"))
    bots = api_bots()

    assert count_caption(at) == f"{len(bots)} of {len(bots)} bots"
    assert card_names(at) == [bot.name for bot in bots]
    assert chat_buttons(at) == [f"bots_chat_{bot.uid}" for bot in bots]
    # avatars come from the emulator itself; model and description are on the cards
    images = [url for image in at.image for url in image.value]
    assert images == [bot.avatar_url for bot in bots if bot.avatar_url]
    captions = [c.value for c in at.caption]
    texts = [md.value for md in at.markdown]
    for bot in bots:
        assert f"Model: {bot.model} · `{bot.slug}`" in captions
        assert (bot.description or "_No description._") in texts


@pytest.mark.usefixtures("demo_app")
def test_search_and_model_filter_narrow_the_cards() -> None:
    at = open_bots(login("demo-member"))
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


@pytest.mark.usefixtures("demo_app")
def test_chat_with_this_bot_opens_chat_with_that_bot_and_a_fresh_conversation() -> None:
    at = open_bots(login("demo-member"))
    bots = api_bots()
    target = bots[2]  # not the chat page's default bot

    at.button(key=f"bots_chat_{target.uid}").click().run()

    assert not at.exception
    assert at.session_state[Keys.CHAT_BOT_SLUG] == target.slug
    assert at.chat_input  # we are on the chat page
    assert at.sidebar.selectbox(key=Keys.CHAT_BOT_SELECT).value == target.slug
    # a fresh conversation opens with that bot's welcome message
    first = at.chat_message[0].markdown[0].value
    assert (
        first.replace("\r\n", "\n").strip() == target.welcome_message.replace("\r\n", "\n").strip()
    )
    assert len(at.chat_message) == 1


@pytest.mark.usefixtures("demo_app")
def test_bot_list_is_cached_across_reruns_and_refresh_asks_again() -> None:
    at = open_bots(login("demo-member"))

    def bot_calls() -> int:
        return sum(1 for r in emulator().requests if r.path == "/v1/bots")

    calls = bot_calls()
    at.text_input(key=Keys.BOTS_QUERY).input("a").run()
    at.run()
    assert bot_calls() == calls  # reruns are served from the cache

    at.button(key="bots_refresh").click().run()
    assert bot_calls() == calls + 1
    assert card_names(at)


@pytest.mark.usefixtures("demo_app")
def test_an_api_error_shows_a_plain_message_and_retry_recovers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("ablt_core._retry.sleep", lambda seconds: None)
    at = login("demo-member")
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
