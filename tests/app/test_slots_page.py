"""The team's limit on simultaneous answers as members and admins see it (AppTest).

Demo mode with `ABLT_MAX_CONCURRENT_ANSWERS=1`; the one slot is held by
"another app process" (a `SlotBook` with its own holder id on the app's
database), so the member's answer waits in line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.testing.v1 import AppTest

from webapp import backend
from webapp.answers.slots_store import SlotBook
from webapp.audit import AuditLog
from webapp.chat import answer_view as answers_view
from webapp.conversations.store import ConversationStore
from webapp.ui.state import Keys


@pytest.fixture
def limit_one(demo_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABLT_MAX_CONCURRENT_ANSWERS", "1")


@pytest.fixture
def other_process(app_store: ConversationStore) -> Iterator[SlotBook]:
    """Another app process on the same database, holding the team's one slot."""
    book = SlotBook(app_store.engine, "another-process", configured=1)
    assert book.claim("answer-elsewhere", "someone").granted
    yield book
    book.release("answer-elsewhere")


def stop_run_when_in_line(monkeypatch: pytest.MonkeyPatch, seen: list[str]) -> None:
    """The page's status line, as drawn: the run ends at the next one after it
    named a place in line (drawn by then; the answer goes on waiting)."""
    real = answers_view.describe_wait

    def spy(*args: Any, **kwargs: Any) -> str:
        text = real(*args, **kwargs)
        seen.append(text)
        if sum("in line" in t for t in seen) >= 2:
            ctx = get_script_run_ctx()
            assert ctx is not None
            ctx.script_requests.request_stop()
        return text

    monkeypatch.setattr(answers_view, "describe_wait", spy)


@pytest.mark.usefixtures("limit_one")
def test_a_prompt_beyond_the_limit_shows_its_place_in_line_and_stop_cancels_the_wait(
    logged_in: Callable[[str], AppTest],
    other_process: SlotBook,
    app_store: ConversationStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = logged_in("demo-member")
    seen: list[str] = []
    stop_run_when_in_line(monkeypatch, seen)
    at.chat_input[0].set_value("Is there room for me?").run()
    assert not at.exception
    line = [c.value for c in at.caption if "in line" in c.value]
    assert line and "Waiting for a free slot (number 1 in line)" in line[0], seen
    assert "1 answer at once" in line[0]
    member = at.session_state[Keys.MEMBER]
    opened = at.session_state[Keys.CHAT_OPEN]
    answer = app_store.all_messages(member, opened.id)[-1]
    assert answer.status == "streaming"  # waiting, not failed
    assert {r.answer_id for r in other_process.status().rows} == {"answer-elsewhere", answer.id}

    at.button(key="chat_stop").click().run()  # Stop cancels the wait
    assert app_store.all_messages(member, opened.id)[-1].status == "stopped"
    assert [r.answer_id for r in other_process.status().rows] == ["answer-elsewhere"]
    demo = backend.demo_emulator()
    assert demo is not None and not [r for r in demo.requests if r.path == "/v1/chat"]


@pytest.mark.usefixtures("limit_one")
def test_an_admin_sees_the_limit_and_sets_it_for_every_process(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore
) -> None:
    at = logged_in("demo-admin")
    at.switch_page("views/team.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Limit now"] == "1"
    assert any("ABLT_MAX_CONCURRENT_ANSWERS (1)" in c.value for c in at.caption)
    at.number_input(key="slots_admin_value").set_value(3)
    at.checkbox(key="slots_admin_use_setting").uncheck()
    next(b for b in at.button if b.label == "Save limit").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Limit now"] == "3"
    # Stored in the database: another process (its own book) applies it too.
    elsewhere = SlotBook(app_store.engine, "another-process", configured=1)
    assert elsewhere.status().effective == 3
    (event,) = elsewhere.events()
    assert (event.actor, event.limit_before, event.limit_after) == ("demo-admin", 1, 3)
    # And in the team's audit log, with who and when.
    (entry,) = [e for e in AuditLog(app_store.engine).entries() if e.action == "set answer limit"]
    assert entry.actor == "demo-admin" and "3" in entry.detail


@pytest.mark.usefixtures("limit_one")
def test_the_admin_sees_when_a_429_lowered_the_limit(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore
) -> None:
    book = SlotBook(app_store.engine, "another-process", configured=4)
    for answer in ("a", "b", "c", "d"):
        book.claim(answer, "someone")
    book.set_limit(4, actor="demo-admin")
    assert book.note_rate_limited(retry_after=90) == 2  # as a worker does on a 429
    at = logged_in("demo-admin")
    at.switch_page("views/team.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Limit now"], metrics["Streaming"]) == ("2", "4")
    (warning,) = [w.value for w in at.warning if "429" in w.value]
    assert warning.startswith("Lowered to 2 after the aBLT API answered 429")
    (table,) = [d.value for d in at.dataframe if "limit before" in d.value.columns]
    assert list(table["what"][:2]) == ["429 from the API", "Limit changed"]
    for answer in ("a", "b", "c", "d"):
        book.release(answer)


def backed_off(app_store: ConversationStore) -> SlotBook:
    """Another process whose answers got `Retry-After: 3600` with the admin's
    limit at 4 and 4 streaming: the team's limit is down to 2 (now released)."""
    book = SlotBook(app_store.engine, "another-process", configured=4)
    for answer in ("a", "b", "c", "d"):
        book.claim(answer, "someone")
    book.set_limit(4, actor="demo-admin")
    assert book.note_rate_limited(retry_after=3600) == 2
    for answer in ("a", "b", "c", "d"):
        book.release(answer)
    return book


@pytest.mark.usefixtures("limit_one")
def test_an_admin_lifts_a_back_off_from_the_team_page_and_it_is_audit_logged(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore
) -> None:
    """Issue 28 item 6: an admin could not end a back-off after a 429."""
    book = backed_off(app_store)
    at = logged_in("demo-admin")
    at.switch_page("views/team.py").run()
    assert {m.label: m.value for m in at.metric}["Limit now"] == "2"
    next(b for b in at.button if b.label == "Lift the back-off").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Limit now"] == "4"
    assert not [w for w in at.warning if "429" in w.value]
    assert not [b for b in at.button if b.label == "Lift the back-off"]
    assert book.status().effective == 4 and book.status().backoff is None  # every process
    assert book.events()[0].actor == "demo-admin"
    (entry,) = [e for e in AuditLog(app_store.engine).entries() if "back-off" in e.action]
    assert entry.actor == "demo-admin"


@pytest.mark.usefixtures("limit_one")
def test_saving_the_limit_on_the_team_page_lifts_a_back_off(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore
) -> None:
    """Issue 28 item 6: Save did not lift the back-off (the limit stayed at 1 or 2)."""
    book = backed_off(app_store)
    at = logged_in("demo-admin")
    at.switch_page("views/team.py").run()
    next(b for b in at.button if b.label == "Save limit").click().run()  # 4, as stored
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Limit now"] == "4"
    assert book.status().backoff is None
    (entry,) = [e for e in AuditLog(app_store.engine).entries() if e.action == "set answer limit"]
    assert entry.actor == "demo-admin" and "back-off lifted" in entry.detail
