"""Read-only share links in real browsers: the owner shares, a logged-out
browser gets the login page and nothing of the conversation, a member reads
the snapshot after logging in, and a revoked link is "not available"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.appserver import (
    AppServer,
    chat,
    log_in,
    log_in_as_member,
    submit_login,
    wait_until_idle,
)
from webapp.sharing import NOT_AVAILABLE
from webapp.team import DEMO_PASSWORD

pytestmark = pytest.mark.e2e

ADMIN = "demo-admin"


def create_link(page: Page) -> str:
    """Share the open conversation from the chat header; the link as shown."""
    page.get_by_role("button", name="Share").click()
    page.get_by_role("button", name="Create a read-only link").click()
    code = page.locator("code").filter(has_text="/shared?share=")
    expect(code).to_have_count(1)
    link = code.inner_text().strip()
    page.keyboard.press("Escape")  # close the popover
    return link


def test_a_share_link_needs_a_login_shows_the_snapshot_and_dies_when_revoked(
    new_page: Callable[[], Page], app_server: AppServer
) -> None:
    owner = new_page()
    log_in(owner, app_server, ADMIN, DEMO_PASSWORD)
    chat(owner, "What should a first-time visitor see in Rome?")
    link = create_link(owner)
    chat(owner, "Keep this one private: my budget is 900 euros.")

    visitor = new_page()  # another browser, not logged in
    visitor.goto(link)
    visitor.get_by_label("Username").wait_for()
    expect(visitor.get_by_text("not available without logging in")).to_be_visible()
    expect(visitor.get_by_text("first-time visitor")).to_have_count(0)

    submit_login(visitor, "demo-member", DEMO_PASSWORD)  # the same URL, now logged in
    expect(visitor.get_by_role("button", name="Copy into my chats")).to_be_visible()
    wait_until_idle(visitor)
    page_text = visitor.locator("section.main, [data-testid='stMain']").first.inner_text()
    assert "first-time visitor see in Rome" in page_text
    assert "900 euros" not in page_text, "later messages are not shared"
    expect(visitor.get_by_test_id("stChatInputTextArea")).to_have_count(0)

    owner.goto(app_server.url + "/shared")
    owner.get_by_role("button", name="Revoke").first.click()
    expect(owner.get_by_text("Stopped sharing")).to_be_visible()

    late = new_page()
    log_in_as_member(late, app_server)
    late.goto(link)
    expect(late.get_by_text(NOT_AVAILABLE)).to_be_visible()
    expect(late.get_by_text("first-time visitor")).to_have_count(0)
