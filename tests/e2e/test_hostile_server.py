"""The real app in Chromium against a hostile aBLT-compatible server (issue 12).

The app is configured with a token and the hostile server's URL (tests/hostile_api.py):
2,000 bots whose name, description, model and welcome carry `<script>`,
`<img onerror>`, Markdown images and links to an "attacker" server,
`javascript:` links and Streamlit directives, some with descriptions of
hundreds of kilobytes and avatars that redirect inside, are huge or drip. The
attacker's server records every request that reaches it. A person browsing the
chat and the Bots page must cause none, and no dialog may open.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    AppServer,
    log_in,
    send_prompt,
    start_app,
    wait_until_idle,
)
from tests.hostile_api import REMOTE_WELCOME_SLUG, TOKEN, HostileSetup, hostile_servers
from webapp import limits
from webapp.team import load_team

pytestmark = pytest.mark.e2e

BOT_COUNT = 2_000
PASSWORD = "a long hostile-test passphrase"
FIRST_CARD_TIMEOUT_MS = 5_000  # the functional bound for 2,000 bots


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileSetup]:
    with hostile_servers(BOT_COUNT) as setup:
        yield setup


@pytest.fixture(scope="module")
def hostile_app(
    hostile: HostileSetup, tmp_path_factory: pytest.TempPathFactory, browser: object
) -> Iterator[AppServer]:
    workdir = tmp_path_factory.mktemp("hostile-app")
    auth_file = Path(workdir) / "auth.yaml"
    team = load_team(auth_file, create=True)
    team.add("alice", name="Alice", email="alice@example.com", password=PASSWORD)
    team.save()
    server = start_app(
        workdir,
        auth_file=auth_file,
        cookie_key="hostile-test-cookie-key-" + "k" * 32,
        extra_env={"ABLT_BEARER_TOKEN": TOKEN, "ABLT_BASE_URL": hostile.api_url},
    )
    try:
        yield server
    finally:
        server.stop()


class Watch:
    """What the browser did that it must not: requests to the attacker, dialogs."""

    def __init__(self, page: Page, attacker_url: str) -> None:
        self.attacker = urlsplit(attacker_url).netloc
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", self._request)
        page.on("dialog", self._dialog)

    def _request(self, request: Request) -> None:
        if urlsplit(request.url).netloc == self.attacker:
            self.requests.append(request.url)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(getattr(dialog, "message", "?"))
        dialog.dismiss()  # type: ignore[attr-defined]


def open_bots_page(page: Page) -> None:
    page.get_by_role("link", name=re.compile("^Bots$")).click()


def test_browsing_2000_hostile_bots_sends_nothing_to_the_attacker_and_opens_no_dialog(
    page: Page, hostile_app: AppServer, hostile: HostileSetup
) -> None:
    watch = Watch(page, hostile.attacker_url)
    log_in(page, hostile_app, "alice", PASSWORD)
    wait_until_idle(page)

    # The chat header names the bot as text: the tags show as typed, nothing runs.
    header = page.get_by_test_id("stHeading").filter(has_text="<script>alert('name')</script>")
    expect(header.first).to_be_visible()
    expect(page.locator(f"img[src*='{watch.attacker}']")).to_have_count(0)
    expect(page.locator("a[href^='javascript']")).to_have_count(0)

    # An exchange with the first bot (its answer has HTML and a directive, no remote URL).
    send_prompt(page, "Hello there")
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(2)
    wait_until_idle(page)

    # The Bots page: its first cards within 5 s, a page of them, each field as text.
    open_bots_page(page)
    first_card = page.get_by_role("button", name="Chat with this bot").first
    first_card.wait_for(timeout=FIRST_CARD_TIMEOUT_MS)
    wait_until_idle(page)
    expect(page.get_by_role("button", name="Chat with this bot")).to_have_count(
        limits.BOT_CARDS_PER_PAGE
    )
    # Counts are written as the browser's language writes them (en-US: 2,000).
    expect(page.get_by_text(f"{BOT_COUNT:,} of {BOT_COUNT:,} bots")).to_be_visible()
    expect(page.get_by_text(f"![]({hostile.attacker_url}/desc.png)").first).to_be_visible()
    expect(page.locator(f"img[src*='{watch.attacker}']")).to_have_count(0)
    expect(page.locator("a[href^='javascript']")).to_have_count(0)

    page.get_by_role("button", name="Next").click()
    wait_until_idle(page)
    expect(
        page.get_by_text(f"Page 2 of {-(-BOT_COUNT // limits.BOT_CARDS_PER_PAGE)}")
    ).to_be_visible()

    assert watch.dialogs == []
    assert watch.requests == []
    assert hostile.attacker.seen() == []  # nor from the server (avatars)


def test_a_welcome_and_an_answer_with_remote_images_send_nothing_to_the_attacker(
    page: Page, hostile_app: AppServer, hostile: HostileSetup
) -> None:
    watch = Watch(page, hostile.attacker_url)
    log_in(page, hostile_app, "alice", PASSWORD)
    open_bots_page(page)
    page.get_by_role("button", name="Chat with this bot").first.wait_for()
    page.get_by_label("Search", exact=True).fill("Remote welcome")
    page.keyboard.press("Enter")
    wait_until_idle(page)
    expect(page.get_by_role("button", name="Chat with this bot")).to_have_count(1)
    page.get_by_role("button", name="Chat with this bot").click()
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()
    wait_until_idle(page)
    send_prompt(page, "Show me")
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(2)
    wait_until_idle(page)
    assert hostile.api_state["chat_bodies"][-1]["bot_slug"] == REMOTE_WELCOME_SLUG
    assert watch.dialogs == []
    assert watch.requests == []
    assert hostile.attacker.seen() == []
