"""The login cookie in a real browser (issue 12 "Logins"): written by the server
(`serve.py`), HttpOnly and SameSite=Strict, so `document.cookie` never shows it; it
still logs a reload back in, and Log out removes it; and revokes it on the server, so
a copy taken before Log out is refused after it (issue 9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from tests.e2e.appserver import (
    CHAT_INPUT,
    MEMBER,
    UI_TIMEOUT_MS,
    AppServer,
    log_in,
    open_login,
    wait_until_idle,
)
from webapp.auth.gate import COOKIE_NAME
from webapp.team import DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page


def login_cookie(page: Page) -> dict[str, object] | None:
    found = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    return dict(found[0]) if found else None


def wait_for_cookie(page: Page, present: bool) -> None:
    """The browser fetches the cookie route shortly after the run that drew it."""
    deadline_polls = UI_TIMEOUT_MS // 100
    for _ in range(deadline_polls):
        if (login_cookie(page) is not None) == present:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"login cookie present={not present} after {UI_TIMEOUT_MS} ms")


def test_the_login_cookie_is_httponly_and_page_scripts_cannot_read_it(
    page: Page, app_server: AppServer
) -> None:
    log_in(page, app_server, MEMBER, DEMO_PASSWORD)
    wait_for_cookie(page, present=True)
    cookie = login_cookie(page)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # plain http here; Secure over HTTPS (tests/webapp)
    wait_until_idle(page)
    assert COOKIE_NAME not in page.evaluate("() => document.cookie")

    # A reload is a new Streamlit session: the cookie logs it back in.
    page.reload(wait_until="domcontentloaded")
    page.get_by_test_id(CHAT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)

    # Log out: the server removes the cookie, and a reload shows the login form.
    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").click()
    page.get_by_label("Username").wait_for(timeout=UI_TIMEOUT_MS)
    wait_for_cookie(page, present=False)
    open_login(page, app_server)
    wait_until_idle(page)
    expect(page.get_by_test_id(CHAT_INPUT)).to_have_count(0)


def test_a_login_cookie_copied_before_log_out_is_refused_after_it(
    page: Page, new_page: Callable[[], Page], app_server: AppServer
) -> None:
    """Log out revokes on the server (issue 9): a copy of the cookie taken while
    logged in logs another browser in before the Log out, and nobody after it."""
    log_in(page, app_server, MEMBER, DEMO_PASSWORD)
    wait_for_cookie(page, present=True)
    copied = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert copied

    # The copy works while the member is logged in (so the refusal below is the logout's).
    thief = new_page()
    thief.context.add_cookies(copied)
    thief.goto(app_server.url, wait_until="domcontentloaded")
    thief.get_by_test_id(CHAT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)
    thief.context.close()

    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").click()
    page.get_by_label("Username").wait_for(timeout=UI_TIMEOUT_MS)

    replay = new_page()  # a fresh browser context: another device, the copied cookie only
    replay.context.add_cookies(copied)
    open_login(replay, app_server)
    wait_until_idle(replay)
    expect(replay.get_by_test_id(CHAT_INPUT)).to_have_count(0)
    expect(replay.get_by_label("Username")).to_be_visible()
