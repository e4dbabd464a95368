"""Take the README's screenshot: `python -m scripts.screenshot [--out docs/screenshot.png]`.

Starts the app in demo mode exactly as the browser tests do (tests/e2e/appserver.py),
logs in as the demo member with the credentials the login page shows, has a short
conversation, waits for the finished answer and saves a 1400x900 PNG.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    MEMBER,
    REPO_ROOT,
    USER_MESSAGE,
    chromium_available,
    launch_chromium,
    open_login,
    running_app,
    send_prompt,
    shown_demo_credentials,
    submit_login,
    wait_until_idle,
)

DEFAULT_OUT = REPO_ROOT / "docs" / "screenshot.png"
VIEWPORT = {"width": 1400, "height": 900}
PROMPT = "Could you suggest a name for our team's new internal chat tool?"
# Fast enough for a script, slow enough that the answer really streams.
EMULATOR_DELAY = 0.005
UI_TIMEOUT_MS = 30_000


def take(out: Path) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="ablt-screenshot-") as workdir,
        running_app(Path(workdir), emulator_delay=EMULATOR_DELAY) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            context.set_default_timeout(UI_TIMEOUT_MS)
            page = context.new_page()
            open_login(page, server)
            submit_login(page, MEMBER, shown_demo_credentials(page)[MEMBER])
            page.get_by_test_id(CHAT_INPUT).wait_for()
            page.locator(ASSISTANT_MESSAGE).first.wait_for()
            wait_until_idle(page)

            send_prompt(page, PROMPT)
            page.locator(USER_MESSAGE).last.wait_for()
            page.locator(ASSISTANT_MESSAGE).nth(1).wait_for()
            # The answer has started; it is finished once the app's runs are over.
            wait_until_idle(page, quiet_ms=800)
            # Let avatars and fonts settle, then no focus ring or caret in the picture.
            page.wait_for_load_state("networkidle")
            page.mouse.move(0, 0)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            page.wait_for_timeout(500)
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to save the PNG")
    args = parser.parse_args(argv)
    if not chromium_available():
        print("Chromium is not installed at /usr/bin/chromium (apt-get install chromium).")
        return 1
    take(args.out)
    print(f"Saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
