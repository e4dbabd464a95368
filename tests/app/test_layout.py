"""Issue 11's layout through app.py: the sidebar's order, the header's chips, the phone's close.

What the browser shows (the fold, the phone's sidebar closing) is tested in
Chromium (tests/e2e/test_layout_browser.py); these check the page's own part.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from webapp.auth import gate as auth
from webapp.chat.header import OPTIONS_HELP, OPTIONS_LABEL
from webapp.conversations.store import ConversationStore
from webapp.history import sidebar
from webapp.ui.state import Keys

from .test_chat_page import conversation, send

pytestmark = pytest.mark.usefixtures("demo_env")


def options_label(at: AppTest) -> str:
    """The label of the chat header's options button."""
    (options,) = [
        block for block in at.main.get("popover") if block.proto.popover.help == OPTIONS_HELP
    ]
    return str(options.proto.popover.label)


def sidebar_order(at: AppTest) -> list[str]:
    """The sidebar's buttons (by key) and captions (by text), top to bottom."""
    return [
        str(node.value) if node.type == "caption" else str(node.key)
        for node in at.sidebar
        if node.type in ("caption", "button")
    ]


def close_scripts(at: AppTest) -> list[str]:
    return [str(h.proto.body) for h in at.get("html") if "stSidebarCollapseButton" in h.proto.body]


def test_new_chat_and_history_lead_the_sidebar_and_the_account_closes_it(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore
) -> None:
    at = logged_in("demo-member")
    send(at, "What is a spring tide?")
    at.run()
    order = sidebar_order(at)
    rows = [i for i, key in enumerate(order) if key.startswith("chat_open_")]
    logged_in_as = next(i for i, text in enumerate(order) if text.startswith("Logged in as"))
    assert order[0] == sidebar.NEW_CHAT_KEY
    assert rows and rows[0] < logged_in_as
    assert order[logged_in_as + 1] == auth.SIDEBAR_LOGOUT_KEY
    # The picker and the options moved to the chat's header.
    assert not at.sidebar.selectbox
    assert at.main.selectbox(key=Keys.CHAT_BOT_SELECT)


def test_the_options_button_shows_the_active_options_as_chips_in_the_same_run(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in("demo-member")
    assert options_label(at) == OPTIONS_LABEL  # none set: the bot's defaults
    suffix = conversation(at).key
    at.toggle(key=f"chat_search_{suffix}").set_value(True).run()
    assert "Web search" in options_label(at)
    at.selectbox(key=f"chat_language_{suffix}").set_value("French").run()
    at.toggle(key=f"chat_limit_{suffix}").set_value(True).run()
    at.number_input(key=f"chat_max_words_{suffix}").set_value(300).run()
    at.text_area(key=f"chat_system_{suffix}").input("Answer as a sailor.").run()
    label = options_label(at)
    for chip in ("French", "≤300 words", "Web search", "Instruction"):
        assert chip in label, (chip, label)
    at.toggle(key=f"chat_search_{suffix}").set_value(False).run()
    assert "Web search" not in options_label(at)


def test_choosing_a_conversation_asks_the_browser_to_close_the_sidebar_once(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in("demo-member")
    send(at, "First chat")
    first = conversation(at).id
    at.sidebar.button(key=sidebar.NEW_CHAT_KEY).click().run()
    assert close_scripts(at), "New chat is a choice too"
    at.run()
    assert not close_scripts(at), "a plain rerun closes nothing"
    at.sidebar.button(key=f"chat_open_{first}").click().run()
    assert conversation(at).id == first
    (script,) = close_scripts(at)
    # Phones only: the script compares the viewport with the width it is given.
    assert f'"phone_max_width_px": {sidebar.PHONE_MAX_WIDTH_PX}' in script
    assert "window.innerWidth >= params.phone_max_width_px" in script
    at.switch_page("views/bots.py").run()
    assert close_scripts(at), "a page chosen in the sidebar"
