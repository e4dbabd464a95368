"""Languages in a real browser: the browser's language by default, the member's
own choice winning (on every device), Arabic mirrored, each message's own
direction, and dates and numbers as the locale writes them.

Few tests on the module's one app server; each makes its own browser contexts
(`locale=` is the browser's language, as `st.context.locale` reads it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from babel.dates import format_skeleton
from playwright.sync_api import Browser, Page, expect

from tests.e2e.appserver import (
    _DEMO_LINE,
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    MEMBER,
    UI_TIMEOUT_MS,
    USER_MESSAGE,
    AppServer,
    send_prompt,
    wait_until_idle,
)
from tests.e2e.conftest import VIEWPORT

pytestmark = pytest.mark.e2e

ARABIC_PROMPT = "مرحبا، كيف حالك اليوم؟"


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[[str], Page]]:
    """A page in a fresh browser context (another device) whose browser speaks `locale`."""
    contexts = []

    def make(locale: str) -> Page:
        context = browser.new_context(viewport=VIEWPORT, locale=locale)
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    expect.set_options(timeout=UI_TIMEOUT_MS)
    try:
        yield make
    finally:
        for context in contexts:
            context.close()


FORM = {
    "en": ("Password", "Log in"),
    "de": ("Passwort", "Anmelden"),
    "fr": ("Mot de passe", "Se connecter"),
}


def log_in(page: Page, server: AppServer, *, username: str, language: str = "en") -> None:
    """Log in through the form in whatever language it speaks: the fields by position."""
    page.goto(server.url, wait_until="domcontentloaded")
    notice = page.get_by_test_id("stAlert").filter(has_text="demo-member")
    notice.wait_for()
    password = dict(_DEMO_LINE.findall(notice.inner_text()))[username]
    fields = page.locator('[data-testid="stTextInput"] input')
    fields.nth(0).fill(username)
    password_label, button = FORM[language]
    page.get_by_label(password_label, exact=True).fill(password)
    page.get_by_role("button", name=button).click()
    page.get_by_test_id(CHAT_INPUT).wait_for()
    wait_until_idle(page)


def choose_language(page: Page, server: AppServer, selector_label: str, language: str) -> None:
    page.goto(f"{server.url}/account", wait_until="domcontentloaded")
    box = page.get_by_role("combobox", name=selector_label)
    box.click()
    page.get_by_role("option", name=language, exact=True).click()
    wait_until_idle(page)


def test_a_german_browser_gets_german_before_and_after_login(
    app_server: AppServer, open_page: Callable[[str], Page]
) -> None:
    page = open_page("de-DE")
    page.goto(app_server.url, wait_until="domcontentloaded")
    expect(page.get_by_label("Benutzername")).to_be_visible()
    expect(page.get_by_role("button", name="Anmelden")).to_be_visible()
    expect(page.get_by_text("Demo-Modus.")).to_be_visible()
    log_in(page, app_server, username=MEMBER, language="de")
    expect(page.get_by_test_id(CHAT_INPUT)).to_have_attribute(
        "placeholder", re.compile("^Nachricht an ")
    )
    expect(page.get_by_role("link", name="Statistik")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")


def test_the_members_choice_wins_and_follows_them_to_another_device(
    app_server: AppServer, open_page: Callable[[str], Page]
) -> None:
    page = open_page("en-US")
    log_in(page, app_server, username=MEMBER)
    choose_language(page, app_server, "Language of the app", "Deutsch")
    expect(page.get_by_role("heading", name="Konto")).to_be_visible()

    # Another device, whose browser asks for English: the member's choice still wins.
    other = open_page("en-US")
    log_in(other, app_server, username=MEMBER)
    expect(other.get_by_role("link", name="Statistik")).to_be_visible()
    expect(other.get_by_test_id(CHAT_INPUT)).to_have_attribute(
        "placeholder", re.compile("^Nachricht an ")
    )
    # Back to the browser's language: English again.
    choose_language(other, app_server, "Sprache der App", "Sprache des Browsers")
    expect(other.get_by_role("heading", name="Account")).to_be_visible()


def test_arabic_is_mirrored_and_each_message_takes_its_own_direction(
    app_server: AppServer, open_page: Callable[[str], Page]
) -> None:
    page = open_page("en-US")
    log_in(page, app_server, username=MEMBER)
    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    answers = page.locator(ASSISTANT_MESSAGE).count()
    send_prompt(page, ARABIC_PROMPT)
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(answers + 1)
    wait_until_idle(page)
    text = '[data-testid="stMarkdownContainer"]'
    expect(page.locator(USER_MESSAGE).last.locator(text).first).to_have_attribute("dir", "auto")
    prompt = page.locator(USER_MESSAGE).last.get_by_text(ARABIC_PROMPT)
    answer = page.locator(ASSISTANT_MESSAGE).last.locator(".ablt-block p").first
    direction = "(e) => getComputedStyle(e).direction"
    assert prompt.evaluate(direction) == "rtl"  # an Arabic message in an English page
    assert answer.evaluate(direction) == "ltr"  # the emulator answers in English

    choose_language(page, app_server, "Language of the app", "العربية")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.get_by_role("heading", name="الحساب")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.evaluate(direction) == "rtl"
    # The whole page mirrored: the sidebar now stands on the right.
    box = sidebar.bounding_box()
    assert box is not None and box["x"] > VIEWPORT["width"] / 2
    # Back to the browser's language for the other tests of the module.
    choose_language(page, app_server, "لغة التطبيق", "لغة المتصفح")
    expect(page.locator("html")).to_have_attribute("dir", "ltr")


def test_statistics_write_dates_and_numbers_the_french_way(
    app_server: AppServer, open_page: Callable[[str], Page]
) -> None:
    page = open_page("fr-FR")
    log_in(page, app_server, username=MEMBER, language="fr")
    page.goto(f"{app_server.url}/statistics", wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Statistiques d’utilisation")).to_be_visible()
    wait_until_idle(page)
    today = dt.datetime.now(dt.UTC).date()
    french_day = format_skeleton("MMMd", today, locale="fr")  # e.g. "6 déc."
    expect(page.get_by_text(f"UTC le {french_day}")).to_be_visible()
    tiles = page.get_by_test_id("stMetricValue").all_inner_texts()
    assert tiles, "the Statistics tiles"
    for value in tiles:
        # French digit grouping (a narrow no-break space), never the English comma.
        assert "," not in value and re.fullmatch(r"\d{1,3}(\u202f\d{3})*", value), value
