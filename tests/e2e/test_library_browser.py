"""The prompt library in real browsers: an admin saves a shared entry with a
variable; a member finds it (not the admin's private one), fills the variable
and gets a new chat with the filled starter waiting in the message box."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.appserver import CHAT_INPUT, AppServer, log_in, log_in_as_member, wait_until_idle
from webapp.team import DEMO_PASSWORD

pytestmark = pytest.mark.e2e


def new_entry(page: Page, name: str, starter: str, *, shared: bool) -> None:
    page.get_by_text("New library entry").click()
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Starter prompt").fill(starter)
    if shared:
        share = page.get_by_test_id("stForm").get_by_role("checkbox", name="Share with the team")
        page.get_by_test_id("stForm").get_by_text("Share with the team").click()
        expect(share).to_be_checked()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text(f"Saved “{name}”")).to_be_visible()
    wait_until_idle(page)


def test_a_shared_entry_starts_a_members_chat_with_its_variable_filled(
    new_page: Callable[[], Page], app_server: AppServer
) -> None:
    admin = new_page()
    log_in(admin, app_server, "demo-admin", DEMO_PASSWORD)
    admin.get_by_role("link", name="Prompts").click()
    new_entry(admin, "Private notes", "Only for me", shared=False)
    new_entry(admin, "Refund reply", "Write a kind refund reply to {{customer}}.", shared=True)

    member = new_page()
    log_in_as_member(member, app_server)
    member.get_by_role("link", name="Prompts").click()
    expect(member.get_by_text("Refund reply")).to_be_visible()
    expect(member.get_by_text("Private notes")).to_have_count(0)

    # The entry's fields are drawn once it is being started (issue 28, item 8).
    member.get_by_role("button", name="Start a chat with it").click()
    member.get_by_role("textbox", name="customer").fill("Ada Lovelace")
    member.get_by_role("button", name="Start a chat with it").click()
    box = member.get_by_test_id(CHAT_INPUT)
    expect(box).to_have_value("Write a kind refund reply to Ada Lovelace.")
