"""While an answer is being written, the controls that would change the
conversation's branch or start another answer wait for it (`webapp.chat.busy`).

Mid-answer states are reached deterministically: the page's streaming run is
cut right where it starts showing the answer (`act_mid_answer`), and the
"other tab" is the answers service itself, whose answer is held at its first
byte by the emulator (`slow_first_byte`), so it is still streaming when the
stale page's button is clicked.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import Fault
from webapp.chat.busy import BUSY_HELP, BUSY_NOTICE
from webapp.chat.message_tools import COPY_LABEL
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.ui.state import Keys

from .test_background_answers import act_mid_answer, answers_service, emulator, opened, until
from .test_chat_page import chat_requests, send
from .test_conversations import click

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


def start_elsewhere(at: AppTest, text: str) -> None:
    """Another tab sends `text` in the open conversation; its answer is held
    at its first byte, so it is still being written when this page acts."""
    asked = len(chat_requests())
    emulator().inject(Fault(kind="slow_first_byte", seconds=30))
    answers_service().submit(at.session_state[Keys.MEMBER], opened(at).id, text)
    until(lambda: len(chat_requests()) > asked)  # its request has reached the API


def path(store: ConversationStore, at: AppTest) -> list[tuple[str, str, str]]:
    """The stored conversation as (role, status, text), oldest first."""
    member = at.session_state[Keys.MEMBER]
    return [(m.role, m.status, m.text) for m in store.all_messages(member, opened(at).id)]


def test_mid_answer_edit_and_the_version_switch_are_greyed_out_and_copy_stays(
    logged_in: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = logged_in()
    send(at, "Name a colour")
    click(at, "chat_regenerate")  # the answer now has two versions
    prompt, answer = opened(at).messages[-2:]
    assert at.button(key=f"chat_edit_{prompt.id}").disabled is False

    emulator().inject(Fault(kind="slow_first_byte", seconds=30))
    act_mid_answer(monkeypatch, after=0, action="stop")
    at.chat_input[0].set_value("And why that one?").run()
    assert not at.exception, at.exception
    assert opened(at).generating is not None  # the page shows the answer being written

    edit = at.button(key=f"chat_edit_{prompt.id}")
    assert edit.disabled is True and edit.help == BUSY_HELP
    for side in ("prev", "next"):
        switch = at.button(key=f"chat_version_{side}_{answer.id}")
        assert switch.disabled is True and switch.help == BUSY_HELP
    # Copy is not a change: the earlier prompt and answer and the new prompt keep it.
    earlier = at.chat_message[:-1]
    assert [m.name for m in earlier[-3:]] == ["user", "assistant", "user"]
    assert all(
        any(f'aria-label="{COPY_LABEL}"' in h.value for h in bubble.get("html"))
        for bubble in earlier[-3:]
    )
    # Nothing else that starts an answer is offered meanwhile.
    keys = {b.key for b in at.button}
    assert not keys & {"chat_regenerate", "chat_edit", "chat_retry", "chat_answer_now"}


@pytest.mark.parametrize("control", ["regenerate", "retry", "switch", "edit", "edit_last"])
def test_a_click_that_raced_an_answer_started_elsewhere_changes_nothing_and_says_so(
    logged_in: Login,
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
    control: str,
) -> None:
    at = logged_in()
    if control == "retry":
        emulator().inject(Fault(kind="drop_stream", after_pieces=4))
        send(at, "Tell me a long story")
        assert opened(at).last is not None and opened(at).last.status == AnswerStatus.INTERRUPTED
    else:
        send(at, "Name a colour")
        click(at, "chat_regenerate")
    prompt, answer = opened(at).messages[-2:]
    key = {
        "regenerate": "chat_regenerate",
        "retry": "chat_retry",
        "switch": f"chat_version_prev_{answer.id}",
        "edit": f"chat_edit_{prompt.id}",
        "edit_last": "chat_edit",
    }[control]
    button = at.button(key=key)  # on screen, usable: drawn before the answer started
    assert button.disabled is False

    start_elsewhere(at, "Meanwhile, in another tab")
    before = path(app_store, at)
    requests = len(chat_requests())
    button.click()
    act_mid_answer(monkeypatch, after=0, action="stop")
    at.run()
    assert not at.exception, at.exception

    assert path(app_store, at) == before  # no branch switched, nothing dropped or added
    assert before[-2][2] == "Meanwhile, in another tab" and before[-1][1] == AnswerStatus.STREAMING
    assert len(chat_requests()) == requests  # no second answer asked for
    assert Keys.CHAT_EDITING not in at.session_state  # no edit box opened either
    assert BUSY_NOTICE in [i.value for i in at.info]
    assert opened(at).generating is not None  # the page follows the answer being written


def test_answer_it_clicked_after_the_answer_started_elsewhere_starts_no_second_one(
    logged_in: Login, monkeypatch: pytest.MonkeyPatch, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    unanswered = app_store.create_conversation(member, "omni", "Omni", title="Left unanswered")
    app_store.append_message(member, unanswered.id, "user", "What is a fjord?")
    at.run()
    click(at, f"chat_open_{unanswered.id}")
    button = at.button(key="chat_answer_now")  # the prompt has no answer, none coming

    asked = len(chat_requests())
    emulator().inject(Fault(kind="slow_first_byte", seconds=30))
    assert answers_service().start(member, unanswered.id) is not None  # another tab's Answer it
    until(lambda: len(chat_requests()) > asked)
    before = path(app_store, at)
    button.click()
    act_mid_answer(monkeypatch, after=0, action="stop")
    at.run()
    assert not at.exception, at.exception

    assert path(app_store, at) == before
    assert [status for _, status, _ in before] == [AnswerStatus.COMPLETE, AnswerStatus.STREAMING]
    assert len(chat_requests()) == asked + 1  # the one answer, not a second
    assert BUSY_NOTICE in [i.value for i in at.info]
