"""Issue 11's layout in a real Chromium: History first, the header's options, the phone.

- At 1400x900 with several saved conversations, the first History row is on
  the first screen (New chat and the History lead the sidebar; the account,
  the API's status and the demo note sit under the list), the bot picker and
  the options are in the chat's header, and an option set there shows as a
  chip on the options button.
- At 390x844 (a phone) the sidebar closes by itself once a conversation or a
  page is chosen in it, and the chat's header leaves most of the first screen
  to the conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.e2e.appserver import (
    UI_TIMEOUT_MS,
    USER_MESSAGE,
    AppServer,
    history_entry,
    log_in_as_member,
    nav_link,
    open_login,
    seed_conversations,
    wait_until_idle,
)
from webapp.chat.header import HEADER_KEY, OPTIONS_KEY

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SAVED = 12  # conversations saved before the member logs in


@pytest.fixture(scope="module")
def saved_titles(app_server: AppServer, browser: Browser) -> list[str]:
    """The demo member's saved conversations (the demo team exists once the app has run)."""
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        open_login(page, app_server)  # the first run makes the demo team
    finally:
        context.close()
    titles = [f"Tide tables {n:02d}" for n in range(SAVED, 0, -1)]
    seed_conversations(app_server, titles)
    return titles


@pytest.fixture
def sized_page(browser: Browser) -> Iterator[Callable[[dict[str, int]], Page]]:
    """Pages of a given viewport, each in a fresh browser context."""
    contexts = []

    def make(viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    expect.set_options(timeout=UI_TIMEOUT_MS)
    try:
        yield make
    finally:
        for context in contexts:
            context.close()


def sidebar_of(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def bottom(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, "the element is laid out"
    return float(box["y"] + box["height"])


def top(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, "the element is laid out"
    return float(box["y"])


def test_history_comes_first_and_its_first_row_is_above_the_fold(
    app_server: AppServer, saved_titles: list[str], sized_page: Callable[..., Page]
) -> None:
    page = sized_page(DESKTOP)
    log_in_as_member(page, app_server)
    sidebar = sidebar_of(page)
    first_row = history_entry(page, saved_titles[0])
    expect(first_row).to_be_visible()
    # On the first screen, without scrolling the sidebar.
    assert bottom(first_row) <= DESKTOP["height"], "the first History row is below the fold"
    new_chat = sidebar.get_by_role("button", name="New chat")
    assert bottom(new_chat) <= top(first_row), "New chat comes before the History"
    # Import is beside the History's title, not under the whole list.
    assert top(sidebar.get_by_role("button", name="Import")) <= top(first_row)
    # The account, the API's status and the demo note close the sidebar, after the list.
    last_row = history_entry(page, saved_titles[-1])
    for text in ("Logged in as", "API online", "Demo mode"):
        assert top(sidebar.get_by_text(text).first) >= bottom(last_row), text
    # The bot picker and the options are the chat's, in its header.
    header = page.locator(f".st-key-{HEADER_KEY}")
    expect(header.get_by_test_id("stSelectbox")).to_be_visible()
    expect(sidebar.get_by_test_id("stSelectbox")).to_have_count(0)
    options = page.locator(f".st-key-{OPTIONS_KEY}").get_by_role("button").first
    expect(options).to_contain_text("Options")

    # An option set in the header shows as a chip on the button that opens them.
    options.click()
    search = page.get_by_test_id("stPopoverBody").get_by_text("Web search")
    search.click()
    wait_until_idle(page)
    expect(options).to_contain_text("Web search")


def test_on_a_phone_choosing_a_conversation_or_a_page_closes_the_sidebar(
    app_server: AppServer, saved_titles: list[str], sized_page: Callable[..., Page]
) -> None:
    page = sized_page(PHONE)
    log_in_as_member(page, app_server)
    sidebar = sidebar_of(page)
    # A phone opens on the conversation, the sidebar closed (Streamlit's "auto").
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    header = page.locator(f".st-key-{HEADER_KEY}")
    assert bottom(header) <= PHONE["height"] * 0.4, "the header fills the first screen"

    page.get_by_test_id("stExpandSidebarButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    chosen = saved_titles[2]
    history_entry(page, chosen).click()
    expect(sidebar).to_have_attribute("data-collapsed", "true")
    expect(page.locator(USER_MESSAGE).first).to_contain_text(chosen)
    assert bottom(header) <= PHONE["height"] * 0.4

    # A page chosen in the sidebar: the sidebar closes too.
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    sidebar.get_by_role("link", name="Bots").click()
    expect(page.get_by_role("heading", name="Bots", level=1)).to_be_visible()
    expect(sidebar).to_have_attribute("data-collapsed", "true")


def test_on_a_wide_screen_choosing_a_conversation_keeps_the_sidebar_open(
    app_server: AppServer, saved_titles: list[str], sized_page: Callable[..., Page]
) -> None:
    page = sized_page(DESKTOP)
    log_in_as_member(page, app_server)
    sidebar = sidebar_of(page)
    chosen = saved_titles[1]
    history_entry(page, chosen).click()
    expect(page.locator(USER_MESSAGE).first).to_contain_text(chosen)
    wait_until_idle(page)
    expect(sidebar).to_have_attribute("data-collapsed", "false")
    expect(history_entry(page, saved_titles[0])).to_be_visible()


def test_bot_cards_of_a_row_are_as_tall_as_each_other_with_their_buttons_in_line(
    app_server: AppServer, sized_page: Callable[..., Page]
) -> None:
    """Descriptions and welcome messages differ in length: the cards of a row
    still end together, and their "Chat with this bot" buttons sit on one line."""
    from views.bots import CARDS_PER_ROW

    page = sized_page(DESKTOP)
    log_in_as_member(page, app_server)
    nav_link(page, "Bots").click()
    expect(page.get_by_role("heading", name="Bots", level=1)).to_be_visible()
    wait_until_idle(page)
    buttons = page.get_by_role("button", name="Chat with this bot")
    tops = [top(buttons.nth(i)) for i in range(buttons.count())]
    rows = [tops[i : i + CARDS_PER_ROW] for i in range(0, len(tops), CARDS_PER_ROW)]
    full_rows = [row for row in rows if len(row) == CARDS_PER_ROW]
    assert full_rows, "the demo catalogue fills at least one row"
    for row in full_rows:
        assert max(row) - min(row) <= 1, f"buttons of a row out of line: {row}"
