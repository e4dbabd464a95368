"""Answer versions in a real browser: the `< 2/3 >` switch works from the
keyboard, names itself to screen readers, and the version chosen is still
shown after a reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    USER_MESSAGE,
    AppServer,
    chat,
    log_in_as_member,
    message_text,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e

# Visible ones: Streamlit may keep a hidden copy of an element a rerun replaced.
PREVIOUS = '[class*="st-key-chat_version_prev_"] button >> visible=true'
NEXT = '[class*="st-key-chat_version_next_"] button >> visible=true'


def test_the_version_switch_is_keyboard_operable_and_survives_a_reload(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    first = chat(page, "Name a tree that grows by the sea")
    page.get_by_role("button", name="Regenerate").click()
    wait_until_idle(page)
    answer = page.locator(ASSISTANT_MESSAGE).last
    expect(answer).to_contain_text("2/2")
    second = message_text(answer)
    assert second and second != first

    # Keyboard: the "previous" control takes the focus and Enter presses it.
    page.locator(PREVIOUS).last.focus()
    page.keyboard.press("Enter")
    wait_until_idle(page)
    answer = page.locator(ASSISTANT_MESSAGE).last
    expect(answer).to_contain_text("1/2")
    assert message_text(answer) == first
    expect(page.locator(PREVIOUS).last).to_be_disabled()
    expect(page.locator(NEXT).last).to_be_enabled()
    # Screen readers hear what the icons show.
    expect(page.get_by_role("button", name="Next version")).to_be_enabled()
    expect(page.get_by_role("button", name="Edit message")).to_have_count(1)
    shots = os.environ.get("ABLT_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / "versions.png"), full_page=True)

    page.reload()
    wait_until_idle(page)
    answer = page.locator(ASSISTANT_MESSAGE).last
    expect(answer).to_contain_text("1/2")
    assert message_text(answer) == first
    expect(page.locator(USER_MESSAGE).last).to_contain_text("Name a tree that grows by the sea")


def test_an_earlier_prompt_is_edited_in_place_and_the_old_branch_stays_reachable(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    chat(page, "Plan a day in Rome")
    chat(page, "And where to eat?")
    wait_until_idle(page)  # the run that settles the answer has ended: no click is lost to it
    first_prompt = page.locator(USER_MESSAGE).first
    first_prompt.get_by_role("button", name="Edit message").click()
    box = first_prompt.get_by_role("textbox")
    expect(box).to_have_value("Plan a day in Rome")  # the box opens in the bubble itself
    shots = os.environ.get("ABLT_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / "edit-in-place.png"), full_page=True)
    box.fill("Plan a day in Paris")
    first_prompt.get_by_role("button", name="Send").click()
    wait_until_idle(page)
    expect(page.locator(USER_MESSAGE)).to_have_count(1)
    expect(page.locator(USER_MESSAGE).first).to_contain_text("Plan a day in Paris")
    expect(page.locator(USER_MESSAGE).first).to_contain_text("2/2")
    expect(page.locator(ASSISTANT_MESSAGE).last).to_contain_text("Plan a day in Paris")

    page.locator(USER_MESSAGE).first.get_by_role("button", name="Previous version").click()
    wait_until_idle(page)
    expect(page.locator(USER_MESSAGE)).to_have_count(2)
    expect(page.locator(USER_MESSAGE).last).to_contain_text("And where to eat?")
    expect(page.locator(USER_MESSAGE).first).to_contain_text("1/2")
