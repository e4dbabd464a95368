"""Scale-out: two app processes, one database (docs/deploy.md).

Two `streamlit run serve.py` processes on two ports share the team file, the
login cookie key and the conversation database, as every process behind the
proxy does. Each runs in demo mode with its own emulator, which serves the same
bots. A member chats through instance A; on instance B (another browser, as
when the proxy sends them elsewhere) the conversation is in the History and
opens with its prompt and answer; B continues it, and A, reopening the
conversation in the session it still has open, shows B's message.

The database is a SQLite file both processes open and, when `ABLT_TEST_PG_URL`
is set (CI sets it), PostgreSQL: a fresh schema per run (through the URL's
`search_path`) in which the processes create their tables on start, dropped
afterwards, so the store tests never see these rows.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    USER_MESSAGE,
    AppServer,
    chat,
    history_entry,
    inject_fault,
    log_in_as_member,
    message_text,
    send_prompt,
    start_apps,
    stop_all,
    wait_until_idle,
)
from tests.pg import BACKENDS, fresh_schema_url
from tests.reliability import row
from webapp.conversations.context import make_title
from webapp.team import create_demo_team

pytestmark = pytest.mark.e2e


@pytest.fixture(params=BACKENDS)
def shared_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The one database both instances use: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared' / 'ablt-chat.db'}"
        return
    with fresh_schema_url("e2e") as url:
        yield url


@pytest.fixture
def instances(
    shared_db_url: str, tmp_path: Path, browser: Browser
) -> Iterator[tuple[AppServer, AppServer]]:
    """Instances A and B: same team file, cookie key and database; started together."""
    auth_file = tmp_path / "team" / "auth.yaml"
    auth_file.parent.mkdir()
    create_demo_team(auth_file)  # in place before either process starts, as on a real host
    servers = start_apps(
        [tmp_path / "a", tmp_path / "b"],
        auth_file=auth_file,
        db_url=shared_db_url,
        cookie_key=secrets.token_urlsafe(48),
        emulator_delay=0,  # what is under test is where answers are kept, not streaming
    )
    try:
        yield servers[0], servers[1]
    finally:
        stop_all(servers)


def test_a_conversation_saved_through_one_instance_is_listed_opened_and_continued_on_another(
    instances: tuple[AppServer, AppServer], new_page: Callable[[], Page]
) -> None:
    a, b = instances
    tag = uuid.uuid4().hex[:6]
    prompt = f"Which lighthouse keeps the oldest logbook, {tag}?"
    title = make_title(prompt)

    # Instance A: log in, chat; the conversation joins A's History.
    page_a = new_page()
    log_in_as_member(page_a, a)
    answer = chat(page_a, prompt)
    assert f"\u201c{prompt}\u201d" in answer, answer
    expect(history_entry(page_a, title)).to_be_visible()

    # Instance B, another browser: the same member finds it in the History, and opens it.
    page_b = new_page()
    log_in_as_member(page_b, b)
    expect(page_b.locator(USER_MESSAGE)).to_have_count(0)  # a fresh chat is open
    history_entry(page_b, title).click()
    expect(page_b.locator(USER_MESSAGE)).to_have_count(1)
    expect(page_b.locator(USER_MESSAGE)).to_contain_text(prompt)
    wait_until_idle(page_b)
    assert message_text(page_b.locator(ASSISTANT_MESSAGE).last) == answer

    # B continues the conversation.
    follow_up = f"And who writes in it today, {tag}?"
    follow_up_answer = chat(page_b, follow_up)
    assert f"\u201c{follow_up}\u201d" in follow_up_answer, follow_up_answer
    expect(page_b.locator(USER_MESSAGE)).to_have_count(2)

    # Back on A, whose session still shows the conversation as it was: reopening it
    # from the History (a rerun) shows B's message and answer, read from the database.
    expect(page_a.locator(USER_MESSAGE)).to_have_count(1)
    history_entry(page_a, title).click()
    expect(page_a.locator(USER_MESSAGE)).to_have_count(2)
    expect(page_a.locator(USER_MESSAGE).last).to_contain_text(follow_up)
    wait_until_idle(page_a)
    assert message_text(page_a.locator(ASSISTANT_MESSAGE).last) == follow_up_answer
    # Still one conversation, not a copy per instance.
    expect(history_entry(page_a, title)).to_have_count(1)


@pytest.fixture
def slow_instances(
    shared_db_url: str, tmp_path: Path, browser: Browser
) -> Iterator[tuple[AppServer, AppServer]]:
    """Instances A and B as above, whose emulators stream slowly (answers take seconds)."""
    auth_file = tmp_path / "team" / "auth.yaml"
    auth_file.parent.mkdir()
    create_demo_team(auth_file)
    servers = start_apps(
        [tmp_path / "a", tmp_path / "b"],
        auth_file=auth_file,
        db_url=shared_db_url,
        cookie_key=secrets.token_urlsafe(48),
        emulator_delay=0.06,
    )
    try:
        yield servers[0], servers[1]
    finally:
        stop_all(servers)


@row(
    "An answer generated on app process A is opened on process B (scale-out)",
    happens="B follows it through the database, about a second behind.",
    sees="The text so far, then the rest as it is saved, then complete.",
    kept="One answer, saved by A, complete.",
)
def test_an_answer_started_on_one_instance_is_followed_live_on_another(
    slow_instances: tuple[AppServer, AppServer], new_page: Callable[[], Page]
) -> None:
    a, b = slow_instances
    tag = uuid.uuid4().hex[:6]
    prompt = f"Which tide tables do harbour pilots trust, {tag}?"
    page_b = new_page()
    log_in_as_member(page_b, b)  # ready before A starts, so B sees it grow
    page_a = new_page()
    log_in_as_member(page_a, a)
    inject_fault(a, kind="slow_first_byte", seconds=3)
    send_prompt(page_a, prompt)
    expect(page_a.locator(USER_MESSAGE).last).to_contain_text(prompt)

    page_b.reload()  # the History is read on each run
    history_entry(page_b, make_title(prompt)).click()
    expect(page_b.locator(USER_MESSAGE).last).to_contain_text(prompt)
    stop_b = page_b.locator(".st-key-chat_stop button")
    expect(stop_b.first).to_be_visible()  # following it while A generates
    bubble = page_b.locator(ASSISTANT_MESSAGE).last
    lengths = set()
    while stop_b.count():
        with contextlib.suppress(Exception):  # the bubble may be redrawn meanwhile
            lengths.add(len(message_text(bubble)))
    wait_until_idle(page_b)
    final_b = message_text(page_b.locator(ASSISTANT_MESSAGE).last)
    assert f"\u201c{prompt}\u201d" in final_b
    assert len({n for n in lengths if 0 < n < len(final_b)}) >= 2, lengths  # live, in steps
    expect(page_a.locator(".st-key-chat_stop button")).to_have_count(0, timeout=60_000)
    wait_until_idle(page_a)
    assert message_text(page_a.locator(ASSISTANT_MESSAGE).last) == final_b
