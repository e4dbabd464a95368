"""Compare in a real browser: three bots answer one prompt side by side, and
the comparison reopens after a reload (its URL names it)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.appserver import (
    CHAT_INPUT,
    AppServer,
    log_in_as_member,
    send_prompt,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e

BOTS = ("Chef", "Code Mentor", "Stoic")


def pick_bots(page: Page, names: tuple[str, ...]) -> None:
    """Choose bots in the Compare page's multiselect, as a person does: type, pick."""
    box = page.get_by_test_id("stMultiSelect")
    for name in names:
        box.click()
        page.keyboard.type(name)
        page.get_by_role("option").filter(has_text=name).first.click()
        page.keyboard.press("Escape")
        wait_until_idle(page)


def test_three_bots_answer_side_by_side_and_the_comparison_survives_a_reload(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    page.get_by_role("link", name="Compare").click()
    expect(page.get_by_role("heading", name="Compare bots")).to_be_visible()
    pick_bots(page, BOTS)
    send_prompt(page, "Pasta tonight?")

    best = page.get_by_role("button", name="Best answer")
    expect(best).to_have_count(3)
    wait_until_idle(page)
    columns = page.get_by_test_id("stColumn").filter(has=page.get_by_text("Best answer"))
    expect(columns).to_have_count(3)
    for index in range(3):
        expect(columns.nth(index)).to_contain_text("You asked: \u201cPasta tonight?\u201d")
        expect(columns.nth(index)).to_contain_text("words")
    assert "comparison=" in page.url

    page.reload()
    expect(page.get_by_role("button", name="Best answer")).to_have_count(3)
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()
