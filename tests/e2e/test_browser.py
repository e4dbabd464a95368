"""The real app in a real browser: login gate, streamed answers, no secrets sent.

Runs `streamlit run serve.py` in demo mode (see conftest.py) and drives Debian's
Chromium through it the way a person would: reading the page, typing, pressing
Enter.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, WebSocket, expect

from ablt_core.emulator.answers import DEFAULT_MIN_WORDS
from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    CHAT_INPUT,
    MEMBER,
    AppServer,
    chat,
    inject_fault,
    log_in_as_member,
    message_text,
    nav_link,
    open_login,
    send_prompt,
    shown_demo_credentials,
    submit_login,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e

BCRYPT_HASH = re.compile(rb"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")

# The script that samples the last assistant message many times a second while
# an answer streams, in the page itself so no sample depends on a round trip.
START_SAMPLING = """() => {
    window.__samples = [];
    window.__sampler = setInterval(() => {
        const messages = document.querySelectorAll(SELECTOR);
        const last = messages[messages.length - 1];
        window.__samples.push([messages.length, last ? last.innerText.trim() : '']);
    }, 10);
}""".replace("SELECTOR", json.dumps(ASSISTANT_MESSAGE))
STOP_SAMPLING = "() => { clearInterval(window.__sampler); return window.__samples; }"


def test_the_first_login_on_a_freshly_started_server_is_not_lost(
    page: Page, fresh_app_server: AppServer
) -> None:
    # The server's very first visitor submits the form as soon as it shows, without
    # waiting for the page to settle. (With a pages/ folder Streamlit's first run
    # on a fresh server was an old-style multipage run whose switch to
    # st.navigation remounted the page and dropped that submit.)
    open_login(page, fresh_app_server)
    submit_login(page, MEMBER, shown_demo_credentials(page)[MEMBER], once=True)
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Demo Member")
    expect(page.get_by_role("button", name="Log in")).to_have_count(0)


def test_login_gate_refuses_a_wrong_password_and_accepts_the_shown_demo_account(
    page: Page, app_server: AppServer
) -> None:
    open_login(page, app_server)
    wait_until_idle(page)

    # Before login: the login form and nothing of the app.
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_test_id(CHAT_INPUT)).to_have_count(0)
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("^(Chat|Bots|Statistics)$"))).to_have_count(0)
    shown = shown_demo_credentials(page)
    assert MEMBER in shown, f"the login page should show the demo member's credentials: {shown}"

    submit_login(page, MEMBER, shown[MEMBER] + "-wrong")
    expect(page.get_by_text("Username or password is incorrect.")).to_be_visible()
    expect(page.get_by_test_id(CHAT_INPUT)).to_have_count(0)

    submit_login(page, MEMBER, shown[MEMBER])
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()
    expect(page.get_by_text("Username or password is incorrect.")).to_have_count(0)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Demo Member")
    expect(page.locator(ASSISTANT_MESSAGE).first).to_be_visible()


def test_a_prompt_sent_with_enter_streams_its_answer_into_the_page(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    answers_before = page.locator(ASSISTANT_MESSAGE).count()
    prompt = "Which tea goes best with a rainy afternoon?"

    page.evaluate(START_SAMPLING)
    answer = chat(page, prompt)
    samples = page.evaluate(STOP_SAMPLING)

    assert f"\u201c{prompt}\u201d" in answer, answer
    # The whole answer arrived, not a cut-off part of it.
    assert len(answer.split()) >= DEFAULT_MIN_WORDS, answer
    # The new answer's text while it was still growing (the welcome's samples excluded).
    partial_lengths = {
        len(text)
        for count, text in samples
        if count == answers_before + 1 and text and len(text) < len(answer)
    }
    assert len(partial_lengths) >= 2, (
        "the answer should appear piece by piece; partial lengths seen: "
        f"{sorted(partial_lengths)}, final length {len(answer)}"
    )
    # The prompt is cleared from the input once sent.
    expect(page.get_by_test_id(CHAT_INPUT)).to_have_value("")


def test_the_bot_is_shown_thinking_until_a_slow_answer_starts(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    answers_before = page.locator(ASSISTANT_MESSAGE).count()
    # The API takes its time before the first byte, as the real one can.
    inject_fault(app_server, kind="slow_first_byte", seconds=2)

    send_prompt(page, "Are you there?")
    answer = page.locator(ASSISTANT_MESSAGE).nth(answers_before)
    expect(answer).to_contain_text("Omni is thinking…")
    # The answer takes its place: the indicator goes, the text is what arrived.
    expect(page.get_by_text("is thinking")).to_have_count(0)
    wait_until_idle(page)
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(answers_before + 1)
    assert "Are you there?" in message_text(page.locator(ASSISTANT_MESSAGE).last)
    expect(page.get_by_text("is thinking")).to_have_count(0)


def right_edge(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None, locator
    return box["x"] + box["width"]


def test_page_top_buttons_end_where_the_content_ends(page: Page, app_server: AppServer) -> None:
    log_in_as_member(page, app_server)
    chat(page, "Line up, please")  # a saved conversation has Export
    export = page.get_by_role("button", name="Export")
    assert right_edge(export) == pytest.approx(
        right_edge(page.get_by_test_id("stChatInput")), abs=1
    )

    nav_link(page, "Statistics").click()
    expect(page.get_by_test_id("stMetric")).to_have_count(4)
    wait_until_idle(page)
    refresh = page.get_by_role("button", name="Refresh")
    assert right_edge(refresh) == pytest.approx(
        right_edge(page.get_by_test_id("stMetric").last), abs=1
    )

    nav_link(page, "Bots").click()
    expect(page.get_by_role("button", name="Chat with this bot").first).to_be_visible()
    wait_until_idle(page)
    title = page.get_by_role("heading", name="Bots", level=1)  # as wide as the content
    assert right_edge(page.get_by_role("button", name="Refresh")) == pytest.approx(
        right_edge(title), abs=1
    )


def test_no_token_or_password_hash_reaches_the_browser(page: Page, app_server: AppServer) -> None:
    from webapp.backend import DEMO_TOKEN  # the bearer token the app uses in demo mode
    from webapp.conversations.store import ConversationStore
    from webapp.team import MemberStore

    open_login(page, app_server)  # the app has seeded the demo team by now
    with ConversationStore(app_server.db_url) as store:
        stored = MemberStore(store.engine).password_hashes().values()
    hashes = {h.encode() for h in stored if h}
    assert len(hashes) >= 2, "the demo team should hold a bcrypt hash per member"

    frames: list[bytes] = []

    def record(ws: WebSocket) -> None:
        for event in ("framereceived", "framesent"):
            ws.on(
                event,
                lambda payload: frames.append(
                    payload if isinstance(payload, bytes) else payload.encode()
                ),
            )

    page.on("websocket", record)
    pages_html: list[bytes] = []
    open_login(page, app_server)
    pages_html.append(page.content().encode())
    log_in_as_member(page)
    pages_html.append(page.content().encode())
    prompt = "Is the secret sauce safe?"
    chat(page, prompt)
    pages_html.append(page.content().encode())

    # The recording saw the session: the prompt went out and came back in the page.
    assert any(prompt.encode() in frame for frame in frames)
    seen = frames + pages_html
    for secret in (DEMO_TOKEN.encode(), b"$2b$", *hashes):
        leaks = [blob[:200] for blob in seen if secret in blob]
        assert not leaks, f"{secret!r} reached the browser: {leaks[:3]}"
