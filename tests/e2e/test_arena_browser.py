"""The Arena in a real browser: a blind battle end to end.

Two bots are shortlisted; the emulator is told that Chef Remy's answer names
itself (in several cases) and that the other bot's first byte is slow. The
page must show "Bot A" / "Bot B" with no name, avatar image or self-naming
text; refuse a vote while an answer is still coming; take the vote once both
are complete; then reveal the names.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.appserver import AppServer, inject_fault, log_in_as_member, wait_until_idle

pytestmark = pytest.mark.e2e

SHORTLIST = ("Chef Remy", "Stoic Sage")
SELF_NAMING = "Bonjour! I am CHEF REMY, the chef of this kitchen (my slug is chef). Chef Remy out."


def pick_shortlist(page: Page) -> None:
    box = page.get_by_test_id("stMultiSelect").first
    for name in SHORTLIST:
        box.click()
        page.keyboard.type(name)
        page.get_by_role("option").filter(has_text=name).first.click()
        page.keyboard.press("Escape")
        wait_until_idle(page)


def test_a_blind_battle_masks_the_names_refuses_an_early_vote_and_reveals_after(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    inject_fault(app_server, kind="scripted_answer", bot="chef", text=SELF_NAMING)
    inject_fault(app_server, kind="slow_first_byte", bot="stoic-sage", seconds=6)
    page.get_by_role("link", name="Arena").click()
    expect(page.get_by_role("heading", name="Arena")).to_be_visible()
    pick_shortlist(page)
    page.get_by_label("Your prompt").fill("Who are you, and what do you do?")
    page.get_by_role("button", name="Start battle").click()

    battle = page.get_by_role("tabpanel", name="Battle")
    # Chef's answer arrives (masked) while the other bot still waits for its first byte.
    expect(battle).to_contain_text("of this kitchen")
    expect(battle.get_by_text("Bot A", exact=True)).to_be_visible()
    expect(battle.get_by_text("Bot B", exact=True)).to_be_visible()
    text = battle.inner_text()
    assert not re.search(r"chef|remy|stoic|marcus", text, re.IGNORECASE), text
    assert re.search(r"I am Bot [AB], the Bot [AB] of this kitchen", text), text
    expect(battle.locator("img")).to_have_count(0)  # no avatar gives a bot away

    # A vote before both answers are complete is refused; nothing is revealed.
    battle.get_by_role("button", name="A is better").click()
    expect(page.get_by_text("Wait until both answers are complete")).to_be_visible()
    assert not re.search(r"chef|remy|stoic|marcus", battle.inner_text(), re.IGNORECASE)

    # Both complete: the vote is taken, then the names are shown.
    expect(battle.get_by_role("button", name="Stop both")).to_have_count(0, timeout=30_000)
    wait_until_idle(page)
    battle.get_by_role("button", name="Tie").click()
    expect(battle).to_contain_text("You voted: Tie")
    expect(battle).to_contain_text("Chef Remy")
    expect(battle).to_contain_text("Marcus, Stoic Sage")
    expect(battle).to_contain_text("I am CHEF REMY")  # the answer as written, after the reveal
    expect(battle.get_by_role("button", name="Tie")).to_have_count(0)  # a vote cannot change
    expect(battle.get_by_role("button", name=re.compile("Continue with"))).to_have_count(2)

    # The leaderboard counts it.
    page.get_by_role("tab", name="Leaderboard").click()
    expect(page.get_by_text(re.compile(r"rests on \d+ votes?"))).to_be_visible()
