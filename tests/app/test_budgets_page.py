"""Budgets and the audit log through app.py (issue 9): the member's status by the
message box, the warning at 80%, the refusal at 100% with the prompt kept, the
admin raising the limit on the Team page, and the audit log of it all.

Demo mode against the app's embedded emulator: the month's usage is the
emulator ledger's figure for the member's user_id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from ablt_core import AbltClient
from tests.reliability import row
from webapp import backend
from webapp.audit import BUDGET_REFUSAL, FAILED_LOGIN, LOGIN, LOGOUT, TEAM_CHANGE, AuditLog
from webapp.auth.gate import SIDEBAR_LOGOUT_KEY
from webapp.budgets import BudgetBook
from webapp.budgets.count import FIGURES
from webapp.chat import open_chat as chat
from webapp.conversations.store import ConversationStore
from webapp.team import DEMO_PASSWORD, MemberStore
from webapp.ui.state import Keys

from .conftest import log_in
from .test_chat_page import bubbles, chat_requests, emulator
from .test_compare_page import BOTS, open_compare

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


@pytest.fixture(autouse=True)
def fresh_figures() -> Iterator[None]:
    """Each test reads the API's figures afresh (they are kept per process)."""
    FIGURES.clear()
    yield
    FIGURES.clear()


def month_words(user_id: int) -> int:
    """The member's words this month (UTC) by the emulator's ledger."""
    today = datetime.now(UTC).date()
    with AbltClient(bearer_token=backend.DEMO_TOKEN, base_url=emulator().base_url) as client:
        return client.get_usage_statistics(today.replace(day=1), today, user_id).total.total_words


def texts(elements: object) -> str:
    return " ".join(str(e.value) for e in elements)  # type: ignore[attr-defined]


def test_warning_at_80_refusal_at_100_keeps_the_prompt_and_a_raised_limit_sends_it(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in("demo-member")
    member = at.session_state[Keys.MEMBER]
    at.chat_input[0].set_value("Something to use up a little budget").run()
    assert not at.exception, at.exception
    assert "budget" not in texts(at.caption) + texts(at.warning)  # no limit, nothing shown

    FIGURES.clear()  # the API's figure now includes that answer
    used = month_words(member.user_id)
    assert used > 0
    book = BudgetBook(app_store.engine)
    book.set_member_limit(member.username, used * 2, "words", actor="demo-admin")
    at.run()
    assert f"Budget: {used:,} of {used * 2:,} words left this month." in texts(at.caption)
    assert not at.warning

    book.set_member_limit(member.username, math.ceil(used / 0.9), "words", actor="demo-admin")
    at.run()
    assert "of this month's budget" in texts(at.warning), texts(at.warning)

    book.set_member_limit(member.username, used, "words", actor="demo-admin")
    at.run()
    assert "This month's budget is used up" in texts(at.error)
    sent_before = len(chat_requests())
    shown_before = bubbles(at)
    at.chat_input[0].set_value("Please answer this one too").run()
    assert not at.exception, at.exception
    assert len(chat_requests()) == sent_before  # nothing reached the API
    assert bubbles(at) == shown_before  # nor the conversation
    refusal = texts(at.error)
    assert "Not sent: you have used this month's budget" in refusal
    assert f"{used:,} of {used:,} words" in refusal
    assert "ask an admin to raise your limit: Demo Admin (demo\\-admin)" in refusal  # as text
    assert at.chat_input[0].value == "Please answer this one too"  # the prompt stays
    refusals = AuditLog(app_store.engine).entries(kinds=[BUDGET_REFUSAL])
    assert [(e.actor, e.kind) for e in refusals] == [("demo-member", BUDGET_REFUSAL)]
    at.button(key="chat_regenerate").click().run()  # asking again is sending too
    assert not at.exception, at.exception
    assert len(chat_requests()) == sent_before and bubbles(at) == shown_before
    assert "Not sent" in texts(at.error)
    assert len(AuditLog(app_store.engine).entries(kinds=[BUDGET_REFUSAL])) == 2

    book.set_member_limit(member.username, used * 10, "words", actor="demo-admin")
    at.chat_input[0].set_value("Please answer this one too").run()
    assert not at.exception, at.exception
    assert len(chat_requests()) == sent_before + 1
    assert chat_requests()[-1]["messages"][-1]["content"] == "Please answer this one too"
    assert bubbles(at)[-2] == ("user", "Please answer this one too")
    assert "budget" not in texts(at.error)


def test_a_used_up_budget_refuses_a_comparison_and_keeps_its_prompt(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = open_compare(logged_in("demo-member"))
    BudgetBook(app_store.engine).set_member_limit("demo-member", 0, "tokens", actor="demo-admin")
    sent_before = len(chat_requests())
    at.multiselect(key=Keys.COMPARE_BOTS).set_value(BOTS).run()
    at.chat_input(key=Keys.COMPARE_PROMPT).set_value("Which bot is best?").run()
    assert not at.exception, at.exception
    assert len(chat_requests()) == sent_before
    assert "ask an admin to raise your limit" in texts(at.error)
    assert at.chat_input(key=Keys.COMPARE_PROMPT).value == "Which bot is best?"


def test_an_admin_sets_budgets_on_the_team_page_and_the_audit_log_shows_it(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = logged_in("demo-admin")
    at.switch_page("views/team.py").run()
    assert not at.exception, at.exception
    headings = [h.value for h in at.header]
    assert headings.index("Budgets") < headings.index("Audit log")  # after the members

    # Every member's month so far, as the budget counts it (here: the API's figure).
    team = app_team
    budgets = next(d.value for d in at.dataframe if "Used this month" in d.value.columns)
    used = dict(zip(budgets["Member"], budgets["Used this month"], strict=True))
    for member in team.members():
        label = f"{member.name} ({member.username})"
        assert used[label] == month_words(member.user_id), label

    at.radio(key=Keys.BUDGET_DEFAULT_MODE).set_value("Limit")
    at.number_input(key=Keys.BUDGET_DEFAULT_AMOUNT).set_value(5000)
    at.selectbox(key=Keys.BUDGET_DEFAULT_UNIT).set_value("tokens")
    at.button(key="budget_default_save").click().run()
    assert not at.exception, at.exception
    book = BudgetBook(app_store.engine)
    default = book.team_default()
    assert (default.amount, default.unit, default.updated_by) == (5000, "tokens", "demo-admin")
    assert "Team default saved: 5,000 tokens a month." in texts(at.success)

    at.selectbox(key=Keys.BUDGET_MEMBER).set_value("demo-member")
    at.radio(key=Keys.BUDGET_MEMBER_MODE).set_value("Own limit")
    at.number_input(key=Keys.BUDGET_MEMBER_AMOUNT).set_value(123)
    at.selectbox(key=Keys.BUDGET_MEMBER_UNIT).set_value("words")
    at.button(key="budget_member_save").click().run()
    assert not at.exception, at.exception
    own = book.limit_for("demo-member")
    assert (own.amount, own.unit, own.source) == (123, "words", "member")
    assert book.limit_for("demo-admin").amount == 5000  # the default still applies to others

    changes = AuditLog(app_store.engine).entries(kinds=[TEAM_CHANGE])
    assert [(e.actor, e.action, e.target, e.detail) for e in changes] == [
        ("demo-admin", "set member budget", "demo-member", "123 words a month"),
        ("demo-admin", "set team budget", None, "5,000 tokens a month"),
    ]
    at.multiselect(key=Keys.AUDIT_KINDS).set_value([TEAM_CHANGE]).run()
    table = at.dataframe[-1].value
    assert list(table["what"]) == ["set member budget", "set team budget"]
    at.selectbox(key=Keys.AUDIT_MEMBER).set_value("demo-member").run()
    assert list(at.dataframe[-1].value["what"]) == ["set member budget"]
    assert [b for b in at.get("download_button") if "Download CSV" in str(b.proto)]


def test_a_member_has_no_team_page(logged_in: Login) -> None:
    at = logged_in("demo-member")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/team.py")


def test_logins_failed_logins_and_logouts_reach_the_audit_log(
    new_app: Callable[[], AppTest], app_store: ConversationStore
) -> None:
    at = new_app().run()
    log_in(at, "demo-member", "not the password")
    log_in(at, "demo-member", DEMO_PASSWORD)
    assert at.chat_input
    at.sidebar.button(key=SIDEBAR_LOGOUT_KEY).click().run()
    assert not at.exception, at.exception
    entries = AuditLog(app_store.engine).entries(member="demo-member")
    assert [e.kind for e in entries] == [LOGOUT, LOGIN, FAILED_LOGIN]
    assert all(e.actor == "demo-member" for e in entries)


QUEUED = ["First: what is a tide?", "Second: and a neap tide?", "Third: and a spring tide?"]


@row(
    "Prompts typed ahead behind the answer that uses up the month's budget",
    happens="The worker checks the budget before it starts a queued prompt: it holds the "
    "queue (the refusal in the audit log once) and sends nothing more.",
    sees="On the first queued prompt: 'Not sent: you have used this month's budget ... "
    "stays queued', with Send now and Cancel; no new refusal on each page run.",
    kept="The queued prompts, in order; sent with Send now once the limit is raised.",
)
def test_prompts_typed_ahead_wait_when_the_answer_before_uses_up_the_budget(
    logged_in: Login, app_store: ConversationStore
) -> None:
    """The answer worker starts a queued prompt on its own: it checks the budget
    too. The page says why the queue waits (once, not a refusal per run), keeps
    Cancel, and sends it with "Send now" once an admin raised the limit."""
    at = logged_in("demo-member")
    member = at.session_state[Keys.MEMBER]
    used = month_words(member.user_id)
    book = BudgetBook(app_store.engine)
    book.set_member_limit(member.username, used + 1, "words", actor="demo-admin")
    # Three prompts typed ahead (saved queued, as the message box's callback
    # saves them while an answer streams); the page finds the first one due.
    conversation = app_store.create_conversation(member, "omni", "Omni")
    for prompt in QUEUED:
        app_store.enqueue_prompt(member, conversation.id, prompt)
    sent_before = len(chat_requests())
    at.query_params[chat.OPEN_PARAM] = conversation.id
    at.run()  # the first is sent and answered; its words use the budget up
    assert not at.exception, at.exception
    assert [r["messages"][-1]["content"] for r in chat_requests()[sent_before:]] == QUEUED[:1]
    queued = app_store.queued_prompts(member, conversation.id)
    assert [q.text for q in queued] == QUEUED[1:]  # kept, not sent
    said = texts(at.caption)
    assert "Not sent: you have used this month's budget" in said
    assert "ask an admin to raise your limit: Demo Admin (demo\\-admin)" in said  # as text
    assert "stays queued" in said
    assert bubbles(at)[-2:] == [("user", QUEUED[1]), ("user", QUEUED[2])]
    assert at.button(key=f"chat_queued_cancel_{queued[1].id}")  # each keeps its Cancel
    assert len(AuditLog(app_store.engine).entries(kinds=[BUDGET_REFUSAL])) == 1

    at.run()  # the page comes back: it says so again, and neither sends nor refuses anew
    assert not at.exception, at.exception
    assert len(chat_requests()) == sent_before + 1
    assert "Not sent: you have used this month's budget" in texts(at.caption)
    assert len(AuditLog(app_store.engine).entries(kinds=[BUDGET_REFUSAL])) == 1

    at.button(key=f"chat_queued_send_{queued[0].id}").click().run()  # still used up
    assert not at.exception, at.exception
    assert len(chat_requests()) == sent_before + 1
    assert "stays queued" in texts(at.error)
    assert len(AuditLog(app_store.engine).entries(kinds=[BUDGET_REFUSAL])) == 2

    book.set_member_limit(member.username, used * 10 + 10_000, "words", actor="demo-admin")
    at.button(key=f"chat_queued_send_{queued[0].id}").click().run()
    assert not at.exception, at.exception
    assert [r["messages"][-1]["content"] for r in chat_requests()[sent_before:]] == QUEUED
    assert app_store.queued_prompts(member, conversation.id) == []
    rows = app_store.all_messages(member, conversation.id)
    assert [(m.role, m.status) for m in rows] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ] * 3
    assert [m.text for m in rows][::2] == QUEUED
    assert "Not sent" not in texts(at.caption) + texts(at.error)
