"""Take the README's screenshots: `python -m scripts.screenshot [--out-dir docs]`.

Starts the app in demo mode exactly as the browser tests do (tests/e2e/appserver.py),
saves a few conversations for the demo member so the History has rows, logs in
with the credentials the login page shows, has a short conversation, waits for
the finished answer and saves:

- `screenshot.png`: the chat at 1400x900, light theme;
- `screenshot-dark.png`: the same conversation, the browser asking for dark
  (the app follows the operating system's theme);
- `screenshot-phone.png`: the same conversation on a 390x844 phone, opened from
  the History (the sidebar closes itself after the choice).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playwright.sync_api import sync_playwright

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    MEMBER,
    REPO_ROOT,
    USER_MESSAGE,
    AppServer,
    chromium_available,
    history_entry,
    launch_chromium,
    open_login,
    running_app,
    seed_conversations,
    send_prompt,
    shown_demo_credentials,
    submit_login,
    wait_until_idle,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

DEFAULT_OUT_DIR = REPO_ROOT / "docs"
VIEWPORT = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
PROMPT = "Could you suggest a name for our team's new internal chat tool?"
# Earlier conversations in the History, the most recent first.
SAVED_TITLES = (
    "Release notes for 2.4",
    "SQL: monthly active members",
    "Translate the onboarding email",
    "Ideas for the team offsite",
    "Review: retry policy",
    "Summarise the Q3 survey",
)
# Fast enough for a script, slow enough that the answer really streams.
EMULATOR_DELAY = 0.005
UI_TIMEOUT_MS = 30_000


def _page(browser: Browser, viewport: dict[str, int], **options: Any) -> Page:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, **options)  # type: ignore[arg-type]
    context.set_default_timeout(UI_TIMEOUT_MS)
    return context.new_page()


def _log_in(page: Page, server: AppServer) -> None:
    open_login(page, server)
    submit_login(page, MEMBER, shown_demo_credentials(page)[MEMBER])
    page.get_by_test_id(CHAT_INPUT).wait_for()
    page.locator(ASSISTANT_MESSAGE).first.wait_for()
    wait_until_idle(page)


def _save(page: Page, out: Path) -> None:
    # Let avatars and fonts settle, then no focus ring or caret in the picture.
    page.wait_for_load_state("networkidle")
    page.mouse.move(0, 0)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.wait_for_timeout(500)
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out))
    print(f"Saved {out}")


def _top(page: Page) -> None:
    """Scroll the page to its top (the chat scrolls to the newest message): the header shows."""
    page.wait_for_timeout(800)  # after the page's own scroll to the newest message
    page.evaluate(
        "() => document.querySelectorAll('*').forEach("
        "e => { if (e.scrollTop > 0) e.scrollTop = 0; })"
    )
    page.wait_for_timeout(300)


def _open_from_history(page: Page, title: str, *, phone: bool) -> None:
    if phone:
        page.get_by_test_id("stExpandSidebarButton").click()
    history_entry(page, title).click()
    page.locator(USER_MESSAGE).first.wait_for()
    wait_until_idle(page, quiet_ms=800)


def take(out_dir: Path) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="ablt-screenshot-") as workdir,
        running_app(Path(workdir), emulator_delay=EMULATOR_DELAY) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        try:
            page = _page(browser, VIEWPORT, color_scheme="light")
            open_login(page, server)  # the first run makes the demo team
            seed_conversations(server, SAVED_TITLES)
            _log_in(page, server)
            send_prompt(page, PROMPT)
            page.locator(USER_MESSAGE).last.wait_for()
            page.locator(ASSISTANT_MESSAGE).nth(1).wait_for()
            # The answer has started; it is finished once the app's runs are over.
            wait_until_idle(page, quiet_ms=800)
            _top(page)
            _save(page, out_dir / "screenshot.png")
            # The open conversation is the History's highlighted row.
            sidebar = page.get_by_test_id("stSidebar")
            title = sidebar.get_by_test_id("stBaseButton-primary").first.inner_text().strip()

            dark = _page(browser, VIEWPORT, color_scheme="dark")
            _log_in(dark, server)
            _open_from_history(dark, title, phone=False)
            _top(dark)
            _save(dark, out_dir / "screenshot-dark.png")

            phone = _page(browser, PHONE, color_scheme="light")
            _log_in(phone, server)
            _open_from_history(phone, title, phone=True)
            _top(phone)
            _save(phone, out_dir / "screenshot-phone.png")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="where to save the PNGs"
    )
    args = parser.parse_args(argv)
    if not chromium_available():
        print("Chromium is not installed at /usr/bin/chromium (apt-get install chromium).")
        return 1
    take(args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
