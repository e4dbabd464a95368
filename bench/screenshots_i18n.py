"""Screenshots of the chat in Arabic and in German, for docs/.

Starts the app in demo mode (as the browser tests do), logs in the demo member
from a browser speaking the language, sends one prompt and saves the page:

    python -m bench.screenshots_i18n          # writes docs/screenshot-chat-{ar,de}.png

Arabic is the member's own choice (Account page): the browser asks for
English, the page follows the member. German follows a de-DE browser.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.e2e.appserver import (
    _DEMO_LINE,
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    MEMBER,
    launch_chromium,
    send_prompt,
    start_app,
    wait_until_idle,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
VIEWPORT = {"width": 1400, "height": 900}
PROMPTS = {
    "ar": "ما أفضل طريقة لتعلّم لغة جديدة؟",
    "de": "Wie lerne ich am besten eine neue Sprache?",
}


def log_in(page: Page, url: str, *, password_label: str, button: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    notice = page.get_by_test_id("stAlert").filter(has_text=MEMBER)
    notice.wait_for()
    password = dict(_DEMO_LINE.findall(notice.inner_text()))[MEMBER]
    page.locator('[data-testid="stTextInput"] input').nth(0).fill(MEMBER)
    page.get_by_label(password_label, exact=True).fill(password)
    page.get_by_role("button", name=button).click()
    page.get_by_test_id(CHAT_INPUT).wait_for()
    wait_until_idle(page)


def chat_and_shoot(page: Page, url: str, language: str) -> Path:
    page.goto(url, wait_until="domcontentloaded")
    page.get_by_test_id(CHAT_INPUT).wait_for()
    wait_until_idle(page)
    answers = page.locator(ASSISTANT_MESSAGE).count()
    send_prompt(page, PROMPTS[language])
    page.locator(ASSISTANT_MESSAGE).nth(answers).wait_for()
    wait_until_idle(page, quiet_ms=1500)
    path = DOCS / f"screenshot-chat-{language}.png"
    page.screenshot(path=str(path))
    return path


def main() -> None:
    server = start_app(Path(tempfile.mkdtemp(prefix="ablt-shots-")))
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            german = browser.new_context(viewport=VIEWPORT, locale="de-DE").new_page()
            log_in(german, server.url, password_label="Passwort", button="Anmelden")
            print(chat_and_shoot(german, server.url, "de"))

            arabic = browser.new_context(viewport=VIEWPORT, locale="en-US").new_page()
            log_in(arabic, server.url, password_label="Password", button="Log in")
            arabic.goto(f"{server.url}/account", wait_until="domcontentloaded")
            arabic.get_by_role("combobox", name="Language of the app").click()
            arabic.get_by_role("option", name="العربية", exact=True).click()
            wait_until_idle(arabic)
            print(chat_and_shoot(arabic, server.url, "ar"))
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
