"""Browser-test fixtures: the real app in demo mode, driven by Debian's Chromium.

- `app_server` (module scope): `streamlit run serve.py` as a subprocess with a
  clean demo-mode environment whose team file and database live under a temp
  folder; its process group is ended at teardown. A failing test gets the log
  of every app it used (`AppServer` arguments, or lists/tuples of them)
  attached to its report.
- `fresh_app_server` (function scope, once per module): a second app started
  alongside `app_server` that no browser has visited, for checks of a fresh
  server's first visitor; it is stopped after that test.
- `browser` (module scope): Chromium from `/usr/bin/chromium`. Without it the
  tests skip, except under CI (`CI` set), where the browser is installed and
  its absence is a failure.
- `page` (function scope): a fresh browser context (no login cookie) at 1400x900;
  `new_page()` makes more such pages, for tests that need several browsers.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
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
    start_apps,
    stop_all,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

VIEWPORT: dict[str, int] = {"width": 1400, "height": 900}


def require_chromium() -> None:
    """Skip without Chromium, but fail under CI, which is meant to install it."""
    if chromium_available():
        return
    reason = f"Chromium is not installed at {CHROMIUM_PATH} (Debian: apt-get install chromium)"
    if running_in_ci():
        pytest.fail(f"{reason}; CI must install it.", pytrace=False)
    pytest.skip(reason)


# Module scope, not session: Playwright's sync API keeps an event loop running in
# this thread while it is open, which would break the async tests collected after
# tests/e2e.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def _app_servers(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Iterator[list[AppServer]]:
    """The module's app and an untouched spare, started together (it costs little more)."""
    servers = start_apps([tmp_path_factory.mktemp("app"), tmp_path_factory.mktemp("fresh-app")])
    try:
        yield servers
    finally:
        stop_all(servers)


@pytest.fixture(scope="module")
def app_server(_app_servers: list[AppServer]) -> AppServer:
    return _app_servers[0]


@pytest.fixture
def fresh_app_server(_app_servers: list[AppServer]) -> Iterator[AppServer]:
    """An app no browser has visited yet: for the one test that needs its very first visit."""
    spare = _app_servers[1]
    if spare.process.poll() is not None:
        pytest.fail("fresh_app_server serves one test per module; its app is used up.")
    try:
        yield spare
    finally:
        spare.stop()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Make pages, each in a fresh browser context (its own cookies: another device)."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    expect.set_options(timeout=UI_TIMEOUT_MS)
    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


HERE = Path(__file__).parent

# A browser test that fails is run once more (pytest-rerunfailures), as
# Playwright's own runner does on CI: on two loaded cores a click can land
# during a redraw and be lost. A real fault fails twice; a rerun is printed
# ("R" in the progress, "rerun" in the summary) so a flaky test stays visible.
BROWSER_TEST_RERUNS = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every test under tests/e2e one rerun (only those: a unit test that
    fails once is a fault)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_TEST_RERUNS))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the logs of the apps a failing test used to its report."""
    report = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            servers = value if isinstance(value, (list, tuple)) else [value]
            for server in servers:
                if isinstance(server, AppServer):
                    title = f"streamlit app log ({name}, port {server.port})"
                    report.sections.append((title, server.log() or "(empty)"))
    return report
