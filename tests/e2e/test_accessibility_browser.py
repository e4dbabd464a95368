"""Accessibility in a real Chromium (issue 27): axe-core, the keyboard, screen readers.

- axe-core (`axe-playwright-python`) over every page (login, the chat with a
  streamed answer, and each page of app.py's navigation) in the light and the
  dark theme (the browser's `prefers-color-scheme`, which the app follows),
  each at 1400x900 and on a 390x844 phone: no serious or critical
  violation, and no heading level skipped (axe's moderate `heading-order`,
  held too). Streamlit-owned violations the app cannot fix would be listed in
  `STREAMLIT_OWNED` (and the README's Accessibility section): none today.
- An admin's History starts in the upper half of a 1400x900 screen (the pages
  are in the top navigation), and on a phone every page is reached from the
  sidebar.
- The keyboard alone: log in, send, hear the answer once (the live region),
  stop an answer with Esc, open a conversation from the History, open and
  close (Esc) a row's menu, regenerate and switch versions, copy, and use
  Compare; focus always drawn, never trapped.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    REPO_ROOT,
    UI_TIMEOUT_MS,
    USER_MESSAGE,
    AppServer,
    chat,
    history_entry,
    inject_fault,
    nav_link,
    open_login,
    seed_conversations,
    shown_demo_credentials,
    submit_login,
    wait_until_idle,
)
from webapp.chat.message_tools import COPIED_LABEL
from webapp.ui import announce

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
# (colour scheme, viewport) audited: see the module's docstring.
AUDITS = (("light", DESKTOP), ("dark", DESKTOP), ("light", PHONE), ("dark", PHONE))
ADMIN = "demo-admin"
SAVED = ("Tide tables", "Harbour lights", "Sea shanties")  # the admin's History, newest first
SERIOUS = ("serious", "critical")
# Moderate rules held too (issue 27: "headings in order"): no heading level skipped.
ALSO_HELD = ("heading-order",)
# Violations from Streamlit's own markup that the app cannot fix: (axe rule id,
# a CSS selector of the element), each with its Streamlit issue in the README's
# Accessibility section. None today: everything axe found was ours and is fixed.
STREAMLIT_OWNED: tuple[tuple[str, str], ...] = ()
STOPPED_NOTE = "Stopped: this is the part received before you stopped it."
TAB_LIMIT = 150  # Tab presses to reach a control before it counts as unreachable


def unmarked(node: ast.expr) -> ast.expr:
    """`node` with each `N_("...")` (a title marked for translation) replaced by
    its string, for `ast.literal_eval`."""

    class Unmark(ast.NodeTransformer):
        def visit_Call(self, call: ast.Call) -> ast.AST:
            if isinstance(call.func, ast.Name) and call.func.id == "N_" and call.args:
                return call.args[0]
            return self.generic_visit(call)

    return ast.fix_missing_locations(Unmark().visit(node))


def app_pages() -> list[tuple[str, str]]:
    """(url path, title) of every page in app.py's navigation, an admin's too,
    read from its APP_PAGES and ADMIN_PAGES (running app.py would start the app)."""
    tree = ast.parse((REPO_ROOT / "app.py").read_text("utf-8"))
    pages: list[tuple[str, str]] = []
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id in ("APP_PAGES", "ADMIN_PAGES"):
            pages += [(Path(s).stem, t) for s, t, _ in ast.literal_eval(unmarked(node.value))]
    assert len(pages) >= 10, "app.py's pages were not found"
    return pages


@pytest.fixture(scope="module")
def admin_history(app_server: AppServer, browser: Browser) -> tuple[str, ...]:
    """The demo admin's saved conversations (the demo team exists once the app has run)."""
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        open_login(page, app_server)
    finally:
        context.close()
    seed_conversations(app_server, SAVED, username=ADMIN)
    return SAVED


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts a test makes (closed after it)."""
    made: list[BrowserContext] = []
    expect.set_options(timeout=UI_TIMEOUT_MS)
    try:
        yield made
    finally:
        for context in made:
            context.close()


def new_page(
    browser: Browser, made: list[BrowserContext], viewport: dict[str, int], scheme: str = "light"
) -> Page:
    context = browser.new_context(viewport=viewport, color_scheme=scheme)  # type: ignore[arg-type]
    context.set_default_timeout(UI_TIMEOUT_MS)
    made.append(context)
    return context.new_page()


def log_in_as_admin(page: Page, server: AppServer) -> None:
    open_login(page, server)
    submit_login(page, ADMIN, shown_demo_credentials(page)[ADMIN])
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()
    wait_until_idle(page)


# ------------------------------------------------------------------ axe-core


def serious_violations(page: Page, where: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it is, and those
    of `ALSO_HELD`, one line per element (`where`, rule, element), minus
    `STREAMLIT_OWNED`. axe itself is in the page already (`audited_page`:
    injected once per context, not per run)."""
    response: Any = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in response["violations"]:
        if violation["impact"] not in SERIOUS and violation["id"] not in ALSO_HELD:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            owned = any(
                rule == violation["id"] and selector in target for rule, selector in STREAMLIT_OWNED
            )
            if not owned:
                summary = (node.get("failureSummary") or "").replace("\n", " ")[:160]
                found.append(f"{where}: {violation['id']} {node['html'][:120]} ({summary})")
    return found


def go_to(page: Page, server: AppServer, path: str, title: str) -> None:
    """Open a page from the navigation, as a person does (no reload): the top
    navigation, or on a phone the sidebar's (opened first when closed)."""
    sidebar = page.get_by_test_id("stSidebar")
    if page.viewport_size == PHONE and sidebar.get_attribute("data-collapsed") == "true":
        page.get_by_test_id("stExpandSidebarButton").click()
    nav_link(page, title).click()
    expect(page).to_have_url(f"{server.url}/{path}")
    heading = page.get_by_role("heading", level=1).or_(page.get_by_test_id(CHAT_INPUT))
    expect(heading.first, title).to_be_visible()
    wait_until_idle(page)


def test_every_page_has_no_serious_axe_violation_light_dark_desktop_and_phone(
    browser: Browser,
    app_server: AppServer,
    admin_history: tuple[str, ...],
    contexts: list[BrowserContext],
) -> None:
    from axe_playwright_python.sync_playwright import Axe

    found: list[str] = []
    pages = app_pages()
    for scheme, viewport in AUDITS:
        size = f"{scheme} {viewport['width']}x{viewport['height']}"
        page = new_page(browser, contexts, viewport, scheme)
        page.context.add_init_script(script=Axe().axe_script)
        open_login(page, app_server)
        wait_until_idle(page)
        found += serious_violations(page, f"login ({size})")
        submit_login(page, ADMIN, shown_demo_credentials(page)[ADMIN])
        expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()
        wait_until_idle(page)
        chat(page, "How do tides work?")  # the chat with a streamed answer
        found += serious_violations(page, f"chat ({size})")
        for path, title in pages[1:]:  # the chat is the first, audited above
            go_to(page, app_server, path, title)
            found += serious_violations(page, f"{title} ({size})")
        page.context.close()
        contexts.remove(page.context)
    assert not found, "axe-core found:\n" + "\n".join(found)


# ------------------------------------------------------------------ History first


def test_an_admins_history_is_in_the_upper_half_and_a_phone_reaches_every_page(
    browser: Browser,
    app_server: AppServer,
    admin_history: tuple[str, ...],
    contexts: list[BrowserContext],
) -> None:
    page = new_page(browser, contexts, DESKTOP)
    log_in_as_admin(page, app_server)
    expect(history_entry(page, admin_history[0])).to_be_visible()
    first_row = page.locator('[class*="st-key-chat_open_"] button >> visible=true').first
    box = first_row.bounding_box()
    assert box is not None and box["y"] < DESKTOP["height"] / 2, f"first History row at {box}"
    # Every page of an admin is a link in sight (none in a "more" menu).
    for _, title in app_pages():
        expect(nav_link(page, title)).to_be_visible()

    phone = new_page(browser, contexts, PHONE)
    log_in_as_admin(phone, app_server)
    sidebar = phone.get_by_test_id("stSidebar")
    pages = app_pages()
    for path, title in pages[1:] + pages[:1]:  # the chat (open now) last
        opener = phone.get_by_test_id("stExpandSidebarButton")
        if sidebar.get_attribute("data-collapsed") == "true":
            opener.click()
        expect(sidebar).to_have_attribute("data-collapsed", "false")
        nav_link(phone, title).click()
        url = f"{app_server.url}/{path}" if path != "chat" else f"{app_server.url}/"
        expect(phone).to_have_url(url)
        heading = phone.get_by_role("heading", level=1).or_(phone.get_by_test_id(CHAT_INPUT))
        expect(heading.first, title).to_be_visible()
        wait_until_idle(phone)


# ------------------------------------------------------------------ the keyboard alone


def is_focused(locator: Locator) -> bool:
    return bool(
        locator.evaluate(
            "el => el === document.activeElement || el.contains(document.activeElement)"
        )
    )


def tab_to(page: Page, locator: Locator) -> None:
    """Press Tab until `locator` has the focus (as a keyboard user reaches it);
    fails if it is never reached: unreachable, or the focus is trapped."""
    for _ in range(TAB_LIMIT):
        if is_focused(locator):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


FOCUS_RING = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return outline || style.boxShadow !== 'none';
}"""


def assert_focus_drawn(page: Page, what: str) -> None:
    assert page.evaluate(FOCUS_RING), f"no visible focus on {what}"


def announcements(page: Page) -> list[str]:
    return list(page.evaluate("() => window.__abltAnnounced || []"))


def test_a_member_does_everything_with_the_keyboard_and_hears_each_answer_once(
    browser: Browser,
    app_server: AppServer,
    admin_history: tuple[str, ...],
    contexts: list[BrowserContext],
) -> None:
    page = new_page(browser, contexts, DESKTOP)
    open_login(page, app_server)
    password = shown_demo_credentials(page)[ADMIN]
    # Log in: Tab to the fields, type, Enter submits the form.
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(ADMIN)
    tab_to(page, page.get_by_label("Password", exact=True))
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    box = page.get_by_test_id(CHAT_INPUT)
    expect(box).to_be_visible()
    wait_until_idle(page)

    # Send: the answer is announced at its start and once whole, not word by word.
    tab_to(page, box)
    page.keyboard.type("How high is the tide?")
    page.keyboard.press("Enter")
    expect(page.locator(USER_MESSAGE).last).to_contain_text("How high is the tide?")
    page.wait_for_function(
        "label => (window.__abltAnnounced || []).some(t => t.startsWith(label))",
        arg=announce.DONE_LABEL,
        timeout=UI_TIMEOUT_MS,
    )
    said = announcements(page)
    assert said[0] == announce.STARTED_LABEL, said
    done = [text for text in said if text.startswith(announce.DONE_LABEL)]
    assert len(done) == 1 and "How high is the tide?" in done[0], said
    assert len(said) <= 4, f"announced piece by piece: {said}"
    assert page.locator("#ablt-live[role=status][aria-live=polite]").count() == 1
    wait_until_idle(page)

    # Stop with Esc; the waiting line and the stop are announced.
    inject_fault(app_server, kind="slow_first_byte", seconds=120)
    tab_to(page, box)
    page.keyboard.type("Is anybody out there?")
    page.keyboard.press("Enter")
    expect(page.locator(f".st-key-{announce.STOP_KEY} button").first).to_be_visible()
    page.wait_for_function(
        "() => (window.__abltAnnounced || []).some(t => t.includes('is thinking'))",
        timeout=UI_TIMEOUT_MS,
    )
    page.keyboard.press("Escape")
    expect(page.get_by_text(STOPPED_NOTE)).to_be_visible()
    page.wait_for_function(
        "() => (window.__abltAnnounced || []).some(t => t.includes('Stopped'))",
        timeout=UI_TIMEOUT_MS,
    )
    wait_until_idle(page)

    # Open a conversation from the History: Tab to its row, Enter.
    row = history_entry(page, admin_history[1])
    tab_to(page, row)
    assert_focus_drawn(page, "a History row")
    page.keyboard.press("Enter")
    expect(page.locator(USER_MESSAGE).first).to_contain_text(admin_history[1])
    wait_until_idle(page)

    # Its ⋮ menu has a name, opens with Enter, closes with Esc.
    menu = page.locator('[class*="st-key-chat_row_menu_"] button >> visible=true')
    named = page.get_by_test_id("stSidebar").get_by_role("button", name="Manage", exact=True)
    expect(named).to_have_count(menu.count())
    tab_to(page, menu.first)
    assert_focus_drawn(page, "a row's menu")
    page.keyboard.press("Enter")
    title = page.get_by_role("textbox", name="Title")
    expect(title).to_be_visible()
    page.keyboard.press("Escape")
    expect(title).to_have_count(0)
    wait_until_idle(page)

    # Regenerate, then switch versions; copy.
    regenerate = page.get_by_role("button", name="Regenerate")
    tab_to(page, regenerate)
    assert_focus_drawn(page, "Regenerate")
    page.keyboard.press("Enter")
    answer = page.locator(ASSISTANT_MESSAGE).last
    expect(answer).to_contain_text("2/2")
    wait_until_idle(page)
    previous = page.get_by_role("button", name="Previous version").last
    tab_to(page, previous)
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT_MESSAGE).last).to_contain_text("1/2")
    wait_until_idle(page)
    copy = page.locator(ASSISTANT_MESSAGE).last.get_by_role("button", name="Copy text")
    tab_to(page, copy)
    assert_focus_drawn(page, "Copy")
    page.keyboard.press("Enter")
    expect(page.locator(ASSISTANT_MESSAGE).last.get_by_text(COPIED_LABEL)).to_be_visible()

    # Compare: its link in the top navigation, two bots picked, one prompt.
    link = nav_link(page, "Compare")
    tab_to(page, link)
    assert_focus_drawn(page, "a page link")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Compare bots")).to_be_visible()
    wait_until_idle(page)
    picker = page.get_by_test_id("stMultiSelect").get_by_role("combobox")
    for name in ("Chef", "Stoic"):
        tab_to(page, picker)
        page.keyboard.type(name)
        page.get_by_role("option").filter(has_text=name).first.wait_for()
        page.keyboard.press("Enter")
        wait_until_idle(page)
    page.keyboard.press("Escape")
    tab_to(page, page.get_by_test_id(CHAT_INPUT))
    page.keyboard.type("Soup or salad?")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Best answer")).to_have_count(2)
