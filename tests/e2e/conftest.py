"""Browser-test fixtures: the real app in demo mode, driven by Debian's Chromium.

- `app_server` (module scope): `streamlit run app.py` as a subprocess with a
  clean demo-mode environment whose team file and database live under a temp
  folder; its process group is ended at teardown. A failing test gets the
  app's log attached to its report.
- `browser` (module scope): Chromium from `/usr/bin/chromium`. Without it the
  tests skip, except under CI (`CI` set), where the browser is installed and
  its absence is a failure.
- `page` (function scope): a fresh browser context (no login cookie) at 1400x900.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from tests.e2e.appserver import (
    CHROMIUM_PATH,
    UI_TIMEOUT_MS,
    AppServer,
    chromium_available,
    launch_chromium,
    running_in_ci,
    start_app,
    warm_up,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

VIEWPORT: dict[str, int] = {"width": 1400, "height": 900}


def require_chromium() -> None:
    """Skip without Chromium, but fail under CI, which is meant to install it."""
    if chromium_available():
        return
    reason = f"Chromium is not installed at {CHROMIUM_PATH} (Debian: apt-get install chromium)"
    if running_in_ci():
        pytest.fail(f"{reason}; CI must install it.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    require_chromium()  # no point starting the app for a browser we don't have
    server = start_app(tmp_path_factory.mktemp("app"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(app_server: AppServer) -> Iterator[Browser]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            warm_up(chromium, app_server)
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the app's log to the report of any test that fails."""
    report = yield
    if report.failed:
        server = getattr(item, "funcargs", {}).get("app_server")
        if isinstance(server, AppServer):
            report.sections.append(("streamlit app log", server.log() or "(empty)"))
    return report
