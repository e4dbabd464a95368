"""Answer versions and branching edits on the chat page (app.py, demo mode).

The emulator records every request, so "the version shown is the one used as
context" is read from the `messages` the next request carried.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from webapp.conversations.store import ConversationStore
from webapp.ui.state import Keys

from .test_chat_page import bubbles, chat_requests, conversation, send
from .test_conversations import click

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


def version_labels(at: AppTest) -> list[str]:
    """The "2/3" captions beside messages, top to bottom."""
    return [c.value for c in at.caption if "/" in c.value and c.value.replace("/", "").isdigit()]


def sent(at: AppTest) -> list[tuple[str, str]]:
    """(role, content) of the last request's messages."""
    return [(m["role"], m["content"]) for m in chat_requests()[-1]["messages"]]


def test_regenerate_twice_then_switch_and_the_shown_version_is_the_context(
    logged_in: Login,
) -> None:
    at = logged_in()
    send(at, "Name a colour")
    answers = [bubbles(at)[-1][1]]
    for _ in range(2):
        click(at, "chat_regenerate")
        answers.append(bubbles(at)[-1][1])
    assert len(set(answers)) == 3, "each regenerate reads differently (the emulator varies)"
    assert version_labels(at) == ["3/3"]
    last = conversation(at).messages[-1]
    assert at.button(key=f"chat_version_next_{last.id}").disabled is True  # the newest
    assert not at.button(key=f"chat_version_prev_{last.id}").disabled

    click(at, f"chat_version_prev_{last.id}")
    assert version_labels(at) == ["2/3"]
    assert bubbles(at)[-1] == ("assistant", answers[1])
    # A follow-up carries the version shown, not the latest one.
    send(at, "Why that one?")
    assert sent(at)[-3:] == [
        ("user", "Name a colour"),
        ("assistant", answers[1]),
        ("user", "Why that one?"),
    ]
    assert answers[2] not in [content for _, content in sent(at)]

    # Saved: a new session (a reload) shows the same version.
    again = logged_in()
    click(again, f"chat_open_{conversation(at).id}")
    assert [text for _, text in bubbles(again)][2] == answers[1]
    assert "2/3" in version_labels(again)


def test_editing_an_earlier_prompt_branches_and_the_old_branch_is_kept(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "Plan a day in Rome")
    send(at, "And dinner?")
    before = [text for _, text in bubbles(at)]
    first = conversation(at).messages[1]
    assert first.text == "Plan a day in Rome"

    click(at, f"chat_edit_{first.id}")
    box = at.text_area(key=Keys.CHAT_EDIT_TEXT)
    assert box.value == "Plan a day in Rome"  # the box opens in place, holding the prompt
    box.input("Plan a day in Paris")
    click(at, "chat_edit_send")
    # The new branch: the edited prompt answered with only what came before it.
    assert sent(at)[-1] == ("user", "Plan a day in Paris")
    assert "And dinner?" not in [content for _, content in sent(at)]
    shown = [text for _, text in bubbles(at)]
    assert shown[1:2] == ["Plan a day in Paris"] and len(shown) == 3
    assert version_labels(at) == ["2/2"]
    member = at.session_state[Keys.MEMBER]
    assert [m.text for m in app_store.all_messages(member, conversation(at).id)] == shown

    # The old branch, whole, behind the switch on that prompt; and back.
    edited = conversation(at).messages[1]
    click(at, f"chat_version_prev_{edited.id}")
    assert [text for _, text in bubbles(at)] == before
    assert version_labels(at) == ["1/2"]
    click(at, f"chat_version_next_{first.id}")
    assert [text for _, text in bubbles(at)] == shown


def test_cancel_leaves_the_conversation_as_it_was(logged_in: Login) -> None:
    at = logged_in()
    send(at, "Hello there")
    before = bubbles(at)
    prompt = conversation(at).messages[1]
    click(at, f"chat_edit_{prompt.id}")
    at.text_area(key=Keys.CHAT_EDIT_TEXT).input("Something else")
    click(at, "chat_edit_cancel")
    assert bubbles(at) == before and not version_labels(at)
