"""Answers that outlive the page, in a real browser against the real app.

The app's emulator streams slowly here (an answer takes several seconds), so a
person's actions land mid-answer; every check waits for a state (Playwright's
expect, or a bounded poll of the emulator's request log), never for a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from ablt_core.emulator.server import CONTROL_SECRET_HEADER
from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    EMULATOR_CONTROL_SECRET,
    MEMBER,
    USER_MESSAGE,
    AppServer,
    emulator_url,
    history_entry,
    inject_fault,
    log_in_as_member,
    message_text,
    nav_link,
    running_app,
    send_prompt,
    start_app,
    wait_until_idle,
)
from tests.reliability import row
from webapp.auth.gate import SESSION_ENDED
from webapp.conversations.context import make_title
from webapp.conversations.store import ConversationStore
from webapp.team import MemberStore

pytestmark = pytest.mark.e2e

SLOW_DELAY = 0.06  # seconds between pieces: an answer takes about six seconds
STOP_BUTTON = ".st-key-chat_stop button"
STOPPED_NOTE = "Stopped: this is the part received before you stopped it."


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("slow-app"), emulator_delay=SLOW_DELAY) as server:
        yield server


def chat_requests(server: AppServer) -> list[dict[str, Any]]:
    """The chat requests the app's emulator received (its control route needs the secret)."""
    request = urllib.request.Request(
        emulator_url(server) + "/_emulator/requests",
        headers={CONTROL_SECRET_HEADER: EMULATOR_CONTROL_SECRET},
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        return [item for item in json.load(r) if item["path"] == "/v1/chat"]


def poll(condition: Callable[[], object], timeout: float = 20) -> None:
    """Wait for a state, failing the test if it never comes (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the expected state was not reached"
        time.sleep(0.05)


def stored_answers(server: AppServer) -> list[Any]:
    url = f"sqlite:///{server.workdir / 'conversations.db'}"
    with ConversationStore(url) as store:
        import sqlalchemy as sa

        from webapp.db.schema import messages

        with store.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(messages)
                    .where(messages.c.role == "assistant")
                    .order_by(messages.c.created_at)
                ).mappings()
            )


def start_answer(page: Page, prompt: str) -> None:
    """Send `prompt` and wait until its answer has started arriving."""
    answers_before = page.locator(ASSISTANT_MESSAGE).count()
    send_prompt(page, prompt)
    expect(page.locator(USER_MESSAGE).last).to_contain_text(prompt)
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(answers_before + 1)
    expect(page.locator(STOP_BUTTON).first).to_be_visible()


def finished_answer(page: Page, prompt: str) -> str:
    """Wait until the answer to `prompt` is complete on the page; its text."""
    last = page.locator(ASSISTANT_MESSAGE).last
    expect(page.locator(STOP_BUTTON)).to_have_count(0, timeout=60_000)
    wait_until_idle(page)
    text = message_text(last)
    assert f"\u201c{prompt}\u201d" in text, text
    return text


@row(
    "A second tab (or browser) of the member opens the conversation mid-answer",
    happens="It attaches to the same answer (same process: in memory).",
    sees="The text so far, then the rest live, in both tabs.",
    kept="One answer, complete.",
)
def test_a_second_tab_follows_the_answer_live(
    slow_app: AppServer, new_page: Callable[[], Page]
) -> None:
    first = new_page()
    log_in_as_member(first, slow_app)
    prompt = "How do lighthouses rotate their lamps?"
    # The API is slow to start: the second tab is open before the first words.
    inject_fault(slow_app, kind="slow_first_byte", seconds=6)
    start_answer(first, prompt)
    conversation_url = first.url  # the URL names the conversation

    second = first.context.new_page()  # the same browser: the login cookie is shared
    second.goto(conversation_url)
    bubble = second.locator(ASSISTANT_MESSAGE).last
    expect(second.locator(USER_MESSAGE).last).to_contain_text(prompt)
    expect(second.locator(STOP_BUTTON).first).to_be_visible()  # attached while it arrives
    lengths = set()
    while second.locator(STOP_BUTTON).count():  # sampled while it is still arriving
        with contextlib.suppress(Exception):  # the bubble may be redrawn meanwhile
            lengths.add(len(message_text(bubble)))
    final = finished_answer(second, prompt)
    assert len({n for n in lengths if 0 < n < len(final)}) >= 2, lengths  # it grew live
    assert finished_answer(first, prompt) == final


@row(
    "Stop pressed while the API has not sent its first byte",
    happens="The worker's request is cancelled and its connection closed at once.",
    sees="'Stopped' at once; the message box, Regenerate and Edit usable.",
    kept="The prompt; the empty answer, stopped.",
)
def test_stop_during_a_slow_first_byte_closes_the_request(slow_app: AppServer, page: Page) -> None:
    log_in_as_member(page, slow_app)
    inject_fault(slow_app, kind="slow_first_byte", seconds=120)
    start_answer(page, "Is anybody out there?")
    expect(page.locator(ASSISTANT_MESSAGE).last).to_contain_text("thinking")
    poll(lambda: chat_requests(slow_app) and not chat_requests(slow_app)[-1]["closed_early"])
    page.locator(STOP_BUTTON).first.click()
    expect(page.get_by_text(STOPPED_NOTE)).to_be_visible()
    expect(page.get_by_role("button", name="Edit last message")).to_be_visible()
    poll(lambda: chat_requests(slow_app)[-1]["closed_early"])  # the emulator saw it go


def test_stop_keeps_the_text_on_screen_a_reload_shows_it_stopped_and_it_is_context(
    slow_app: AppServer, page: Page
) -> None:
    log_in_as_member(page, slow_app)
    start_answer(page, "Tell me the history of tea")
    bubble = page.locator(ASSISTANT_MESSAGE).last
    poll(lambda: len(message_text(bubble)) > 30)
    page.locator(STOP_BUTTON).first.click()
    expect(page.get_by_text(STOPPED_NOTE)).to_be_visible()
    wait_until_idle(page)
    on_screen = message_text(bubble)
    saved = stored_answers(slow_app)[-1]
    assert (saved["status"], saved["text"]) == ("stopped", on_screen)

    page.reload()
    expect(page.get_by_text(STOPPED_NOTE)).to_be_visible()
    assert message_text(page.locator(ASSISTANT_MESSAGE).last) == on_screen
    wait_until_idle(page)
    send_prompt(page, "Please go on")
    poll(lambda: chat_requests(slow_app)[-1]["json"]["messages"][-1]["content"] == "Please go on")
    context = chat_requests(slow_app)[-1]["json"]["messages"]
    assert {"role": "assistant", "content": on_screen} in context
    finished_answer(page, "Please go on")


def test_a_reload_and_a_chat_switch_mid_answer_reattach_and_it_completes(
    slow_app: AppServer, page: Page
) -> None:
    log_in_as_member(page, slow_app)
    earlier = "Name three kinds of cloud"
    start_answer(page, earlier)
    finished_answer(page, earlier)
    page.get_by_role("button", name="New chat").click()
    wait_until_idle(page)

    prompt = "Why do cats purr?"
    start_answer(page, prompt)
    page.reload()  # mid-answer
    expect(page.locator(USER_MESSAGE).last).to_contain_text(prompt)
    expect(page.locator(STOP_BUTTON).first).to_be_visible()  # reattached while it still arrives
    history_entry(page, make_title(earlier)).click()  # another chat, mid-answer
    expect(page.locator(USER_MESSAGE).last).to_contain_text(earlier)
    history_entry(page, make_title(prompt)).click()  # and back
    final = finished_answer(page, prompt)
    expect(page.get_by_text(STOPPED_NOTE)).to_have_count(0)
    assert stored_answers(slow_app)[-1]["status"] == "complete"
    assert stored_answers(slow_app)[-1]["text"] == final


def test_a_prompt_typed_while_an_answer_streams_is_queued_and_answered_next(
    slow_app: AppServer, page: Page
) -> None:
    log_in_as_member(page, slow_app)
    start_answer(page, "First, what is fog?")
    send_prompt(page, "Second, what is mist?")  # the box is usable mid-answer
    expect(page.get_by_text("Queued: sent when the answer before it is done.")).to_be_visible()
    expect(page.locator(USER_MESSAGE)).to_have_count(2)
    expect(page.locator(ASSISTANT_MESSAGE).last).to_contain_text(
        "\u201cSecond, what is mist?\u201d", timeout=60_000
    )
    finished_answer(page, "Second, what is mist?")
    answers = [message_text(a) for a in page.locator(ASSISTANT_MESSAGE).all()][-2:]
    assert "\u201cFirst, what is fog?\u201d" in answers[0]
    assert "\u201cSecond, what is mist?\u201d" in answers[1]


def test_kill_9_mid_answer_then_restart_shows_it_interrupted_with_retry(
    tmp_path: Path, new_page: Callable[[], Page]
) -> None:
    workdir = tmp_path / "app"
    server = start_app(workdir, emulator_delay=SLOW_DELAY)
    try:
        page = new_page()
        log_in_as_member(page, server)
        prompt = "Count the stars for me"
        start_answer(page, prompt)
        poll(lambda: len(message_text(page.locator(ASSISTANT_MESSAGE).last)) > 20)
        os.killpg(server.process.pid, signal.SIGKILL)  # the process dies mid-answer
        server.process.wait(10)
    finally:
        server.stop()
    restarted = start_app(workdir, emulator_delay=SLOW_DELAY)
    try:
        page = new_page()
        log_in_as_member(page, restarted)
        history_entry(page, make_title(prompt)).click()
        expect(page.get_by_text("the app server generating it stopped")).to_be_visible(
            timeout=60_000
        )
        expect(page.get_by_role("button", name="Retry")).to_be_visible()
        assert stored_answers(restarted)[-1]["status"] == "interrupted"
        page.get_by_role("button", name="Retry").click()
        finished_answer(page, prompt)
    finally:
        restarted.stop()


def test_a_prompt_sent_after_the_login_was_revoked_is_not_sent_and_the_page_logs_out(
    slow_app: AppServer, page: Page
) -> None:
    # Sending reruns only the conversation (a fragment, which app.py's login
    # gate does not see): it checks the session itself.
    log_in_as_member(page, slow_app)
    wait_until_idle(page)
    requests_before = len(chat_requests(slow_app))
    with ConversationStore(f"sqlite:///{slow_app.workdir / 'conversations.db'}") as store:
        MemberStore(store.engine).revoke_logins(MEMBER)  # Log out in another browser
    send_prompt(page, "Am I still here?")
    expect(page.get_by_text(SESSION_ENDED)).to_be_visible()
    assert len(chat_requests(slow_app)) == requests_before
    assert not any("Am I still here?" in m["text"] for m in stored_messages(slow_app))


def stored_messages(server: AppServer) -> list[Any]:
    url = f"sqlite:///{server.workdir / 'conversations.db'}"
    with ConversationStore(url) as store:
        import sqlalchemy as sa

        from webapp.db.schema import messages

        with store.engine.connect() as conn:
            return list(conn.execute(sa.select(messages)).mappings())


def test_while_an_answer_streams_the_only_stop_is_the_answers_own(
    slow_app: AppServer, page: Page
) -> None:
    # Streamlit's toolbar Stop would end the page's run, not the answer: the page
    # froze while the answer went on. It is hidden on the chat page.
    log_in_as_member(page, slow_app)
    start_answer(page, "Count the stars for me")
    bubble = page.locator(ASSISTANT_MESSAGE).last
    poll(lambda: len(message_text(bubble)) > 30)  # streaming, the run on
    toolbar_stop = page.get_by_test_id("stBaseButton-header").filter(has_text="Stop")
    expect(toolbar_stop).to_have_count(1)  # Streamlit draws it...
    expect(toolbar_stop).to_be_hidden(timeout=1_000)  # ...and the chat page hides it
    expect(page.locator(STOP_BUTTON).first).to_be_visible()
    finished_answer(page, "Count the stars for me")


@pytest.mark.parametrize("back_while", ["streaming", "ended"])
def test_statistics_and_back_mid_answer_shows_the_answer_whole(
    slow_app: AppServer, page: Page, back_while: str
) -> None:
    # Found by a new-user trial: once in eight, the answer came back cut.
    log_in_as_member(page, slow_app)
    prompt = "Describe the water cycle"
    start_answer(page, prompt)
    bubble = page.locator(ASSISTANT_MESSAGE).last
    poll(lambda: len(message_text(bubble)) > 20)  # streaming, words on screen
    nav_link(page, "Statistics").click()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(0)  # the chat is gone
    if back_while == "ended":
        poll(lambda: stored_answers(slow_app)[-1]["status"] == "complete", timeout=60)
    nav_link(page, "Chat").click()
    expect(page.locator(USER_MESSAGE).last).to_contain_text(prompt)
    final = finished_answer(page, prompt)
    saved = stored_answers(slow_app)[-1]
    assert (saved["status"], saved["text"]) == ("complete", final)
    expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(2)  # the welcome and this answer
    expect(page.get_by_text(STOPPED_NOTE)).to_have_count(0)


def scrape(server: AppServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The app process's /metrics from loopback, keyed by (name, sorted labels)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_move_as_a_members_answer_streams_and_ends(slow_app: AppServer, page: Page) -> None:
    """The operator's /metrics on the real server, scraped while an answer a
    member sent streams, and after it ends (issue 25)."""
    logins, done = (
        ("ablt_chat_logins_total", ()),
        ("ablt_chat_answers_finished_total", (("status", "complete"),)),
    )
    whole = ("ablt_chat_answer_duration_seconds_count", (("bot", "omni"),))
    before = scrape(slow_app)
    log_in_as_member(page, slow_app)
    prompt = "How long do oak trees live?"
    start_answer(page, prompt)

    first_piece = ("ablt_chat_answer_first_piece_seconds_count", (("bot", "omni"),))
    poll(lambda: scrape(slow_app).get(first_piece, 0) >= before.get(first_piece, 0) + 1)
    during = scrape(slow_app)  # the answer takes about six seconds: still streaming
    assert during[("ablt_chat_answers_in_progress", ())] >= 1
    assert during[("ablt_chat_sessions_active", ())] >= 1
    assert during[logins] == before[logins] + 1

    finished_answer(page, prompt)
    poll(lambda: scrape(slow_app)[done] >= before[done] + 1)
    after = scrape(slow_app)
    assert after.get(whole, 0) >= before.get(whole, 0) + 1
