"""The team's limit on simultaneous answers in Chromium, across two app processes.

Two `streamlit run serve.py` processes share the team file, the cookie key
and the database (a SQLite file; PostgreSQL, a fresh schema, when
`ABLT_TEST_PG_URL` is set), and are configured with a token and the test
session's emulator as their aBLT API, so that one emulator counts the chats
in flight from both. `ABLT_MAX_CONCURRENT_ANSWERS=2`; five members, three on
one process and two on the other, send at once while the emulator streams
slowly.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ablt_core.emulator import EmulatorHandle
from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    USER_MESSAGE,
    AppServer,
    log_in,
    message_text,
    send_prompt,
    start_apps,
    stop_all,
    wait_until_idle,
)
from tests.pg import BACKENDS, fresh_schema_url
from webapp.team import load_team

pytestmark = pytest.mark.e2e

PASSWORD = "a long slot-test passphrase"
MEMBERS = ("ann", "bob", "cy", "dee", "eve")
ANSWER_TIMEOUT_MS = 120_000  # five slow answers, two at a time, on a busy machine


@pytest.fixture(params=BACKENDS)
def shared_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared' / 'ablt-chat.db'}"
        return
    with fresh_schema_url("e2eslots") as url:
        yield url


@pytest.fixture
def limited_instances(
    shared_db_url: str,
    tmp_path: Path,
    browser: Browser,
    emulator: EmulatorHandle,
    test_token: str,
) -> Iterator[tuple[AppServer, AppServer]]:
    auth_file = tmp_path / "team" / "auth.yaml"
    auth_file.parent.mkdir()
    team = load_team(auth_file, create=True)
    for name in MEMBERS:
        team.add(name, name=name.title(), email=f"{name}@example.com", password=PASSWORD)
    team.save()
    servers = start_apps(
        [tmp_path / "a", tmp_path / "b"],
        auth_file=auth_file,
        db_url=shared_db_url,
        cookie_key=secrets.token_urlsafe(48),
        extra_env={
            "ABLT_BEARER_TOKEN": test_token,
            "ABLT_BASE_URL": emulator.base_url,
            "ABLT_MAX_CONCURRENT_ANSWERS": "2",
        },
    )
    try:
        yield servers[0], servers[1]
    finally:
        stop_all(servers)


def test_five_members_on_two_processes_never_have_more_than_two_answers_in_flight(
    limited_instances: tuple[AppServer, AppServer],
    new_page: Callable[[], Page],
    emulator: EmulatorHandle,
) -> None:
    a, b = limited_instances
    pages: list[Page] = []
    for name, server in zip(MEMBERS, (a, a, a, b, b), strict=True):
        page = new_page()
        log_in(page, server, name, PASSWORD)
        wait_until_idle(page)
        pages.append(page)
    before = [p.locator(ASSISTANT_MESSAGE).count() for p in pages]
    emulator.set_delay(0.08)  # each answer streams for several seconds
    emulator.reset_inflight()

    prompts = [f"What does {name} need to know about tides?" for name in MEMBERS]
    for page, prompt in zip(pages, prompts, strict=True):
        send_prompt(page, prompt)

    # The third sent is first in line; the later ones wait behind it, on either process.
    expect(pages[2].get_by_text("Waiting for a free slot (number 1 in line)")).to_be_visible()
    for page in pages[3:]:
        waiting = re.compile(r"Waiting for a free slot \(number [1-3] in line\)")
        expect(page.get_by_text(waiting)).to_be_visible()
    expect(pages[4].get_by_text(re.compile(r"in line\): the team's plan allows 2"))).to_be_visible()

    for page, prompt, count in zip(pages, prompts, before, strict=True):
        expect(page.locator(USER_MESSAGE).last).to_contain_text(prompt)
        expect(page.locator(".st-key-chat_stop button")).to_have_count(0, timeout=ANSWER_TIMEOUT_MS)
        wait_until_idle(page)
        expect(page.locator(ASSISTANT_MESSAGE)).to_have_count(count + 1)
        assert f"\u201c{prompt}\u201d" in message_text(page.locator(ASSISTANT_MESSAGE).last)
    now, most = emulator.inflight
    assert most == 2 and now == 0  # counted at the API, from both processes
