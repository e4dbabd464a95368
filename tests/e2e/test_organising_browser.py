"""Organising in a real browser (issue 26): a conversation is filed in a
folder from its ⋮ menu with the keyboard alone (Tab to the menu, Enter,
Tab to Folder, arrows, Enter), and the folder's count says so."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.appserver import AppServer, chat, log_in_as_member, wait_until_idle

pytestmark = pytest.mark.e2e

# The folder button beside History (an icon; its tooltip says "New folder").
NEW_FOLDER = (
    ".stSidebar [data-testid='stPopoverButton']:has-text('create_new_folder') >> visible=true"
)
ROW_MENU = '[class*="st-key-chat_row_menu_"] button >> visible=true'


def test_a_conversation_is_filed_in_a_folder_from_the_keyboard(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    chat(page, "Where do puffins nest?")
    # A folder, made from the folder button's form.
    page.locator(NEW_FOLDER).first.click()
    page.get_by_label("Folder name").fill("Birds")
    page.get_by_label("Folder name").press("Enter")  # submits the form
    wait_until_idle(page)
    expect(page.get_by_text("Birds (0)")).to_be_visible()
    expect(page.get_by_label("Folder name")).to_be_hidden()  # Enter closed the popover

    # The row's ⋮ menu from the keyboard: focus it, Enter opens it.
    page.locator(ROW_MENU).first.focus()
    page.keyboard.press("Enter")
    wait_until_idle(page)
    folder = page.get_by_role("combobox", name="Folder")
    expect(folder).to_be_visible()
    # Tab reaches the Folder select box; the arrows pick the folder, Enter takes it.
    # (Streamlit draws an open popover at the end of the page, so Tab gets there
    # after the page's own controls: Title, Rename, Pin, then Folder.)
    for _ in range(60):
        if folder.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(folder).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.get_by_role("option", name="Birds").wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_until_idle(page)
    expect(page.get_by_text("Birds (1)")).to_be_visible()
