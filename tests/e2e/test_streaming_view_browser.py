"""What the page shows under an answer being written, in a real browser.

Streamlit keeps a run's elements that the next run has not drawn again until
that run ends, and a container drawn again at the same place keeps the old
one's children until then. An answer streams for the whole of its run, so a
left-over (another conversation's time and Copy line, its later bubbles, its
Regenerate) would stay under Stop until the answer is done. These tests look
at the page while the answer is still arriving.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    USER_MESSAGE,
    AppServer,
    chat,
    history_entry,
    log_in_as_member,
    message_text,
    running_app,
    send_prompt,
    wait_until_idle,
)
from webapp.conversations.context import make_title

pytestmark = pytest.mark.e2e

SLOW_DELAY = 0.08  # seconds between pieces: an answer takes several seconds
STOP_BUTTON = ".st-key-chat_stop button >> nth=0"


@pytest.fixture(scope="module")
def slow_app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    with running_app(tmp_path_factory.mktemp("slow-app"), emulator_delay=SLOW_DELAY) as server:
        yield server


def test_back_in_a_chat_mid_answer_only_its_own_messages_show_under_stop(
    slow_app: AppServer, page: Page
) -> None:
    log_in_as_member(page, slow_app)
    # Conversation B: two exchanges, so its bubbles reach below where A's answer goes.
    other = "Name three kinds of cloud"
    chat(page, other)
    chat(page, "And three kinds of rain?")
    page.get_by_role("button", name="New chat").click()
    wait_until_idle(page)

    prompt = "Why do cats purr?"  # conversation A
    send_prompt(page, prompt)
    expect(page.locator(STOP_BUTTON).first).to_be_visible()
    history_entry(page, make_title(other)).click()  # B, mid-answer
    expect(page.locator(USER_MESSAGE)).to_have_count(2)
    wait_until_idle(page)
    history_entry(page, make_title(prompt)).click()  # and back to A while it streams

    live = page.locator(ASSISTANT_MESSAGE).filter(has=page.locator(STOP_BUTTON))
    expect(live).to_have_count(1)
    expect(live).to_contain_text("purr")  # its text is arriving
    # The History shows A as the open conversation while its answer streams.
    expect(history_entry(page, make_title(prompt))).to_have_attribute(
        "data-testid", "stBaseButton-primary"
    )
    expect(history_entry(page, make_title(other))).not_to_have_attribute(
        "data-testid", "stBaseButton-primary"
    )
    # What is on the page now (read once, not waited for: a left-over goes
    # when the answer's run ends, so waiting would hide it).
    users = [message_text(u) for u in page.locator(USER_MESSAGE).all()]
    answers = page.locator(ASSISTANT_MESSAGE).count()
    lines_in_live = live.locator(".ablt-tools").count()
    regenerate = page.get_by_role("button", name="Regenerate").count()
    edit = page.locator(USER_MESSAGE).get_by_role("button", name="Edit message")
    edits = [e.is_disabled() for e in edit.all()]
    stops = page.locator(".st-key-chat_stop").count()
    assert page.locator(STOP_BUTTON).is_visible(), "the answer ended before the page was read"
    # Only A: its welcome, its prompt and the answer arriving, which has no
    # time or Copy line yet and nothing of B under it.
    assert [u.strip() for u in users] == [prompt]
    assert answers == 2
    assert lines_in_live == 0
    assert regenerate == 0
    assert edits == [True]  # A's prompt: Edit greyed out until the answer is done
    assert stops == 1


def test_regenerating_shows_only_the_new_answer_arriving_and_no_working_controls(
    slow_app: AppServer, page: Page
) -> None:
    log_in_as_member(page, slow_app)
    prompt = "Describe a lighthouse at night"
    old = chat(page, prompt)
    page.get_by_role("button", name="Regenerate").click()

    live = page.locator(ASSISTANT_MESSAGE).filter(has=page.locator(STOP_BUTTON))
    expect(live).to_have_count(1)
    expect(live).to_contain_text("lighthouse")  # the new answer is arriving
    # Read once, mid-answer (see the test above).
    shown = message_text(live)
    lines_in_live = live.locator(".ablt-tools").count()
    regenerate = page.get_by_role("button", name="Regenerate").count()
    edit_last = page.get_by_role("button", name="Edit last message").count()
    edits = [e.is_disabled() for e in page.get_by_role("button", name="Edit message").all()]
    assert page.locator(STOP_BUTTON).is_visible(), "the answer ended before the page was read"
    # Only the new text: none of the old answer's later blocks left under it.
    later_blocks = old.split("\n\n")[1:]
    assert later_blocks and not [b for b in later_blocks if b in shown], shown
    assert lines_in_live == 0  # not the old answer's time and Copy line
    assert (regenerate, edit_last) == (0, 0)  # the old answer's controls are gone
    assert edits == [True]  # the prompt's Edit waits for the answer
