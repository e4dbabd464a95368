"""The chat's small controls in a real Chromium (issue 11): one-click Copy to
the clipboard, each message's time on the member's clock, Esc stops an
answer, New chat by keyboard with the cursor in the message box, the "not
yours" notice that stays, and "Show earlier" keeping the reading position.

Every check waits for a state (Playwright's expect, `wait_until_idle`), never
for a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    UI_TIMEOUT_MS,
    USER_MESSAGE,
    AppServer,
    chat,
    inject_fault,
    log_in_as_member,
    nav_link,
    send_prompt,
    wait_until_idle,
)
from tests.e2e.conftest import VIEWPORT
from tests.reliability import row
from webapp.chat import open_chat as chat_logic
from webapp.chat.message_tools import COPIED_LABEL, time_label
from webapp.conversations.store import ConversationStore
from webapp.db.schema import conversations, messages

pytestmark = pytest.mark.e2e

TOKYO = "Asia/Tokyo"
STOP_BUTTON = ".st-key-chat_stop button"
STOPPED_NOTE = "Stopped: this is the part received before you stopped it."
NOTICE = "does not exist, or is not yours"


@pytest.fixture
def tokyo_context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser in Tokyo whose pages may read and write the clipboard."""
    context = browser.new_context(
        viewport=VIEWPORT,
        timezone_id=TOKYO,
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def db_url(server: AppServer) -> str:
    return f"sqlite:///{server.workdir / 'conversations.db'}"


def stored_messages(server: AppServer, conversation_id: str) -> list[dict[str, object]]:
    with ConversationStore(db_url(server)) as store, store.engine.connect() as conn:
        return [
            dict(row)
            for row in conn.execute(
                sa.select(messages)
                .where(messages.c.conversation_id == conversation_id)
                .order_by(messages.c.seq)
            ).mappings()
        ]


def open_conversation_id(page: Page) -> str:
    conv_id = page.evaluate("() => new URL(location.href).searchParams.get('conversation')")
    assert conv_id, page.url
    return str(conv_id)


def focused_test_id(page: Page) -> str | None:
    return page.evaluate(
        "() => document.activeElement && document.activeElement.getAttribute('data-testid')"
    )


def clipboard(page: Page) -> str:
    return str(page.evaluate("() => navigator.clipboard.readText()"))


# --------------------------------------------------------------- copy, times


def test_copy_is_one_click_and_puts_the_raw_text_on_the_clipboard(
    app_server: AppServer, tokyo_context: BrowserContext
) -> None:
    page = tokyo_context.new_page()
    log_in_as_member(page, app_server)
    prompt = "Explain **bold** & <b>tags</b>, café 👍🏽"
    chat(page, prompt)
    stored = stored_messages(app_server, open_conversation_id(page))

    prompt_bubble = page.locator(USER_MESSAGE).last
    copy = prompt_bubble.get_by_role("button", name="Copy text")
    box = copy.bounding_box()
    assert box is not None and box["width"] >= 16  # its icon is drawn, not an empty button
    copy.click()
    expect(prompt_bubble.get_by_text(COPIED_LABEL)).to_be_visible()
    assert clipboard(page) == prompt  # as typed, not as rendered

    answer_bubble = page.locator(ASSISTANT_MESSAGE).last
    answer_bubble.get_by_role("button", name="Copy text").click()
    expect(answer_bubble.get_by_text(COPIED_LABEL)).to_be_visible()
    assert clipboard(page) == stored[-1]["text"]  # the answer's Markdown source

    # Each message's time is on the member's (the browser's) clock: Tokyo's.
    when = stored[-2]["created_at"]
    assert isinstance(when, datetime)
    shown = prompt_bubble.locator("time")
    expect(shown).to_have_text(time_label(when, ZoneInfo(TOKYO)))
    assert "JST" in (shown.get_attribute("title") or "")


# ------------------------------------------------------------------ keyboard


def test_esc_stops_a_streaming_answer(app_server: AppServer, page: Page) -> None:
    log_in_as_member(page, app_server)
    inject_fault(app_server, kind="slow_first_byte", seconds=120)
    send_prompt(page, "Is anybody out there?")
    expect(page.locator(STOP_BUTTON).first).to_be_visible()
    expect(page.locator(ASSISTANT_MESSAGE).last).to_contain_text("thinking")
    assert focused_test_id(page) == CHAT_INPUT  # typing goes on in the message box meanwhile
    page.keyboard.press("Escape")
    expect(page.get_by_text(STOPPED_NOTE)).to_be_visible()
    expect(page.locator(STOP_BUTTON)).to_have_count(0)
    wait_until_idle(page)
    assert stored_messages(app_server, open_conversation_id(page))[-1]["status"] == "stopped"


def test_new_chat_by_click_or_shortcut_leaves_the_cursor_in_the_message_box(
    app_server: AppServer, page: Page
) -> None:
    log_in_as_member(page, app_server)
    chat(page, "A first conversation")
    page.get_by_role("button", name="New chat").click()
    expect(page.locator(USER_MESSAGE)).to_have_count(0)
    wait_until_idle(page)
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_focused()

    chat(page, "A second conversation")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    assert focused_test_id(page) != CHAT_INPUT
    page.keyboard.press("Control+Shift+O")
    expect(page.locator(USER_MESSAGE)).to_have_count(0)
    wait_until_idle(page)
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_focused()
    page.keyboard.type("typed at once")
    expect(page.get_by_test_id(CHAT_INPUT)).to_have_value("typed at once")


# ------------------------------------------------------- the notice that stays


@row(
    "A link to a conversation that is unknown or another member's (/?conversation=<id>)",
    happens="A new chat opens instead; nothing of the other conversation is read.",
    sees="'That conversation does not exist, or is not yours', until Dismiss, "
    "New chat, another conversation or a first prompt (a new tab and the same tab alike).",
    kept="Both members' conversations, untouched.",
)
def test_the_not_yours_notice_stays_in_a_new_tab_and_in_the_same_tab(
    app_server: AppServer, page: Page
) -> None:
    log_in_as_member(page, app_server)
    unknown = app_server.url.rstrip("/") + "/?conversation=no-such-conversation"

    new_tab = page.context.new_page()  # the same browser: logged in by its cookie
    new_tab.goto(unknown)
    notice = new_tab.get_by_text(NOTICE)
    expect(notice).to_be_visible()
    wait_until_idle(new_tab, quiet_ms=1500)  # the login cookie's reruns are over
    expect(notice).to_be_visible()
    new_tab.get_by_role("button", name="Dismiss").click()
    expect(notice).to_have_count(0)

    page.goto(unknown)  # the same tab
    notice = page.get_by_text(NOTICE)
    expect(notice).to_be_visible()
    wait_until_idle(page, quiet_ms=1500)
    expect(notice).to_be_visible()
    send_prompt(page, "Something else then")  # acting on the page ends it
    expect(page.locator(USER_MESSAGE).last).to_contain_text("Something else then")
    expect(notice).to_have_count(0)


# -------------------------------------------------------------- show earlier


@dataclass(frozen=True)
class _Owner:
    username: str
    user_id: int


def add_numbered_messages(page: Page, server: AppServer, count: int) -> None:
    """Chat once, then add `count` messages "Numbered message N" to that conversation
    in the database (user and assistant in turn); the page shows them after a reload."""
    chat(page, "Message zero")
    conv_id = open_conversation_id(page)
    with ConversationStore(db_url(server)) as store:
        with store.engine.connect() as conn:
            row = (
                conn.execute(sa.select(conversations).where(conversations.c.id == conv_id))
                .mappings()
                .one()
            )
        owner = _Owner(row["owner"], row["owner_user_id"])
        for n in range(count):
            role = "user" if n % 2 == 0 else "assistant"
            store.append_message(owner, conv_id, role, f"Numbered message {n}")


def test_show_earlier_keeps_the_reading_position(app_server: AppServer, page: Page) -> None:
    log_in_as_member(page, app_server)
    add_numbered_messages(page, app_server, chat_logic.PAGE_SIZE + 10)
    page.reload()
    earlier = page.get_by_role("button", name="Show earlier")
    expect(earlier).to_be_visible()
    wait_until_idle(page)
    bubbles = page.locator('[data-testid="stChatMessage"]')
    first_id = bubbles.first.locator(".ablt-tools").get_attribute("data-ablt-msg")
    assert first_id
    page.evaluate("() => window.scrollTo(0, 0)")
    earlier.click()
    expect(bubbles.first.locator(".ablt-tools")).not_to_have_attribute("data-ablt-msg", first_id)
    wait_until_idle(page)
    # The message read first before stays in view (not the newly loaded ones at the top).
    same = bubbles.filter(has=page.locator(f'[data-ablt-msg="{first_id}"]'))
    expect(same).to_be_in_viewport()
    # ...and the newly loaded first message is above the fold (waited for: the
    # script that keeps the position runs after the page is drawn).
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stChatMessage"]')
            .getBoundingClientRect().bottom < 0"""
    )


def test_find_steps_through_matches_and_outlines_the_current_message(
    app_server: AppServer, page: Page
) -> None:
    log_in_as_member(page, app_server)
    chat(page, "Tell me about Rome")
    chat(page, "And the café scene in ROME?")
    page.get_by_role("button", name="Find").click()
    page.get_by_placeholder("Find in this conversation").fill("rome")
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 of ", exact=False)).to_be_visible()
    outlined = page.locator(".ablt-current-match")
    expect(outlined).to_have_count(1)
    expect(outlined).to_contain_text("Tell me about Rome")  # the first match: the first prompt
    expect(outlined).to_be_in_viewport()
    page.locator(".st-key-chat_find_next button").first.click()
    expect(page.get_by_text("2 of ", exact=False)).to_be_visible()
    expect(outlined).to_have_count(1)
    expect(outlined.get_by_role("button", name="Copy text")).to_be_visible()
    expect(page.locator(".ablt-find-snippet mark")).to_have_text(re.compile("rome", re.I))


AT_BOTTOM = """() => { const el = document.querySelector('[data-testid="stMain"]');
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80; }"""
MAIN_AT_TOP = """() => document.querySelector('[data-testid="stMain"]').scrollTop < 5"""


def open_long_conversation(page: Page, server: AppServer) -> None:
    """Log in, then open a conversation of 17 exchanges afresh (a reload): it
    opens at its newest message, "Numbered message 15"."""
    log_in_as_member(page, server)
    add_numbered_messages(page, server, 16)
    page.reload()
    # AT_BOTTOM alone holds on the short page a reload starts with; the view is
    # settled once the message is drawn, the run over and the chat's view script
    # has taken the conversation (it goes to the newest message when it does, so
    # a scroll made before that would be undone, as it is for a person).
    expect(page.get_by_text("Numbered message 15")).to_be_visible()
    wait_until_idle(page)
    page.wait_for_function("() => window.__abltConversation !== undefined")
    page.wait_for_function(AT_BOTTOM)


def test_the_newest_message_stays_in_view_on_opening_and_as_answers_arrive(
    app_server: AppServer, page: Page
) -> None:
    open_long_conversation(page, app_server)  # its newest message, not its first
    expect(page.get_by_text("Numbered message 15")).to_be_in_viewport()

    send_prompt(page, "One more question")  # the answer is followed as it grows
    expect(page.locator(ASSISTANT_MESSAGE).last).to_contain_text("One more question")
    expect(page.get_by_role("button", name="Regenerate")).to_be_visible(timeout=60_000)
    page.wait_for_function(AT_BOTTOM)
    expect(page.get_by_role("button", name="Regenerate")).to_be_in_viewport()


def test_sending_while_scrolled_up_goes_to_the_new_prompt_and_its_answer(
    app_server: AppServer, page: Page
) -> None:
    """The reader scrolled up to reread, then sent: the view goes to what was sent."""
    open_long_conversation(page, app_server)
    page.get_by_text("Numbered message 15").hover()
    page.mouse.wheel(0, -50_000)  # up to the top, as a reader does
    page.wait_for_function(MAIN_AT_TOP)
    expect(page.get_by_text("Numbered message 15")).not_to_be_in_viewport()

    send_prompt(page, "A question sent from the top")
    expect(page.locator(USER_MESSAGE).last).to_contain_text("A question sent from the top")
    expect(page.locator(USER_MESSAGE).last).to_be_in_viewport()
    expect(page.get_by_role("button", name="Regenerate")).to_be_visible(timeout=60_000)
    page.wait_for_function(AT_BOTTOM)


def test_another_page_opens_at_its_top_after_a_long_conversation(
    app_server: AppServer, page: Page
) -> None:
    """The chat keeps its newest message in view; Bots (or any page) starts at its title."""
    open_long_conversation(page, app_server)

    nav_link(page, "Bots").click()
    expect(page.get_by_role("heading", name="Bots", level=1)).to_be_in_viewport()
    wait_until_idle(page)
    assert page.evaluate(MAIN_AT_TOP), "the Bots page opened scrolled down"
    expect(page.get_by_role("heading", name="Bots", level=1)).to_be_in_viewport()

    # Back on the chat: its newest message again.
    nav_link(page, "Chat").click()
    expect(page.get_by_text("Numbered message 15")).to_be_in_viewport()
