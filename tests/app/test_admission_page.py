"""The chat page only shows the answer service's refusal: with the month's
budget used up, Retry, Edit and "Answer it" change nothing, send nothing, and
say why (Send and Regenerate: `test_budgets_page`; the service's own tests:
`tests/webapp/answers/test_admission.py`).

Demo mode against the app's embedded emulator, through the real login form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import Fault
from webapp.audit import BUDGET_REFUSAL, AuditLog
from webapp.budgets import BudgetBook
from webapp.budgets.count import FIGURES
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.ui.state import Keys

from .test_background_answers import opened
from .test_chat_page import chat_requests, emulator, send
from .test_conversations import click

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


@pytest.fixture(autouse=True)
def fresh_figures() -> Iterator[None]:
    FIGURES.clear()
    yield
    FIGURES.clear()


def stored(store: ConversationStore, at: AppTest, cid: str) -> list[tuple[str, str, str]]:
    member = at.session_state[Keys.MEMBER]
    return [(m.role, m.status, m.text) for m in store.all_messages(member, cid)]


@pytest.mark.parametrize("control", ["retry", "edit", "answer it"])
def test_a_used_up_budget_refuses_retry_edit_and_answer_it_before_any_change(
    logged_in: Login, app_store: ConversationStore, control: str
) -> None:
    at = logged_in("demo-member")
    member = at.session_state[Keys.MEMBER]
    if control == "retry":
        emulator().inject(Fault(kind="empty_answer"))
        send(at, "Anything?")
        assert opened(at).last is not None and opened(at).last.status == AnswerStatus.ERROR
        key = "chat_retry"
    elif control == "edit":
        send(at, "Name a colour")
        prompt = opened(at).messages[-2]
        click(at, f"chat_edit_{prompt.id}")
        at.text_area(key=Keys.CHAT_EDIT_TEXT).input("Name a fruit")
        key = "chat_edit_send"
    else:
        left = app_store.create_conversation(member, "omni", "Omni", title="Left unanswered")
        app_store.append_message(member, left.id, "user", "What is a fjord?")
        at.run()
        click(at, f"chat_open_{left.id}")
        key = "chat_answer_now"
    cid = opened(at).id
    BudgetBook(app_store.engine).set_member_limit(member.username, 0, "tokens", actor="demo-admin")
    before, asked = stored(app_store, at, cid), len(chat_requests())

    click(at, key)

    assert stored(app_store, at, cid) == before  # no answer dropped, no branch, no answer row
    assert len(chat_requests()) == asked  # nothing reached the API
    refusal = " ".join(e.value for e in at.error)
    assert "Not sent: you have used this month's budget" in refusal
    assert "ask an admin to raise your limit: Demo Admin (demo\\-admin)" in refusal  # as text
    refusals = AuditLog(app_store.engine).entries(kinds=[BUDGET_REFUSAL])
    assert [e.actor for e in refusals] == ["demo-member"]  # recorded once
    if control == "edit":  # the edit box stays open with the text
        assert at.text_area(key=Keys.CHAT_EDIT_TEXT).value == "Name a fruit"
