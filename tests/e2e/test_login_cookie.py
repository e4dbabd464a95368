"""The login cookie in a real browser (issue 12 "Logins"): written by the server
(`serve.py`), HttpOnly and SameSite=Strict, so `document.cookie` never shows it; it
still logs a reload back in, and Log out removes it."""

from __future__ import annotations

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
from webapp.auth import COOKIE_NAME
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
