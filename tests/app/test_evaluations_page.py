"""The Evaluations page through app.py: a set of 3 prompts run by 3 bots in
the background with one fault injected (its answer failed, with its reason
and Retry, the rest complete), rated blind by two members, the report with
the raters' agreement, its exports and a read-only share link; the limits
refused with plain messages.

Demo mode against the embedded emulator.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import Fault
from webapp.budgets.book import BudgetBook
from webapp.conversations.store import ConversationStore
from webapp.evaluations import AlreadyRated, Evaluations, view
from webapp.evaluations.model import progress_of
from webapp.evaluations.shares import REPORT_PARAM
from webapp.groups import store as groups
from webapp.ui.state import Keys

from .test_chat_page import chat_requests, emulator

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]
BOTS = ["omni", "chef", "code-mentor"]
PROMPTS = ["Soup tonight?", "Name a dessert.", "Explain recursion briefly."]


def open_page(at: AppTest) -> AppTest:
    at.switch_page("views/evaluations.py").run()
    assert not at.exception, at.exception
    return at


def wait_for_end(store: ConversationStore, run_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while Evaluations(store).run(run_id).active:
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.1)


def texts(at: AppTest) -> str:
    return " ".join(m.value for m in [*at.markdown, *at.caption, *at.info, *at.warning])


def make_set(at: AppTest, prompts: str, name: str = "Kitchen") -> AppTest:
    at.text_input(key=Keys.EVALS_SET_NAME).set_value(name)
    at.text_area(key=Keys.EVALS_PASTE).set_value(prompts)
    next(b for b in at.button if b.label == "Add prompts").click().run()
    assert not at.exception, at.exception
    return at


def rate_all(
    at: AppTest,
    store: ConversationStore,
    run_id: str,
    score: Callable[[str], int],
    prompts: int = len(PROMPTS),
) -> None:
    """Rate every prompt as shown: each answer `score(its bot's slug)`, the first one best."""
    for _ in range(prompts):
        controls = [c for c in at.segmented_control if c.key and c.key.startswith("evals_score_")]
        assert controls, texts(at)
        cells = {c.id: c for c in Evaluations(store).cells(run_id)}
        bots = Evaluations(store).run(run_id).bots
        for control in controls:
            cell = cells[control.key.removeprefix("evals_score_")]
            control.set_value(str(score(bots[cell.bot_index].slug)))
        at.radio(key=next(r.key for r in at.radio if r.key and "evals_best" in r.key)).set_value(
            "Answer 1"
        )
        next(b for b in at.button if b.label == "Save my ratings").click().run()
        assert not at.exception, at.exception


def test_a_run_of_three_prompts_by_three_bots_with_a_fault_rated_by_two_members(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = open_page(logged_in("demo-member"))
    make_set(at, "\n".join(PROMPTS))
    assert at.session_state[Keys.EVALS].draft == PROMPTS
    next(b for b in at.button if b.label == "Save the set").click().run()
    assert "Saved the set" in " ".join(s.value for s in at.success)
    at.multiselect(key=Keys.EVALS_BOTS).set_value(BOTS).run()
    assert "3 prompts x 3 bots = 9 answers" in texts(at)

    emulator().inject(Fault(kind="drop_stream", bot="chef", times=1, after_pieces=2))
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    run_id = at.session_state[Keys.EVALS].open_run
    assert run_id
    wait_for_end(app_store, run_id)
    at.run()
    progress = progress_of(Evaluations(app_store).cells(run_id))
    assert (progress.done, progress.failed) == (8, 1)
    assert "9 of 9 answers · 1 failed" in texts(at) or any(
        "9 of 9 answers · 1 failed" in str(p.proto) for p in at.get("progress")
    )
    grid = at.dataframe[0].value
    assert grid["Chef Remy"].str.startswith("✗ failed").sum() == 1
    assert grid["Omni"].str.startswith("✓").all()
    retry = [b for b in at.button if b.key and b.key.startswith("evals_retry_")]
    assert len(retry) == 1

    # Blind: no bot name anywhere in the Rate tab, the answers in it.
    shown = " ".join(m.value for m in at.tabs[1].markdown)
    # Prompt 1 first: its two answers (the failed one is not rated).
    assert "Answer 2" in shown and "Answer 3" not in shown and "Soup tonight?" in shown
    assert "Chef Remy" not in shown and "Omni" not in shown and "Ada" not in shown
    rate_all(at, app_store, run_id, lambda slug: 5 if slug == "omni" else 2)
    assert len(Evaluations(app_store).ratings(run_id)) == 8
    # A replayed "Save my ratings" cannot rate twice: the page says so, nothing is added.
    first = [c for c in Evaluations(app_store).cells(run_id) if c.prompt_index == 0]
    with pytest.raises(AlreadyRated):
        Evaluations(app_store).rate("demo-member", run_id, 0, {first[0].id: 1}, None)
    assert len(Evaluations(app_store).ratings(run_id)) == 8

    other = open_page(logged_in("demo-admin"))
    other.selectbox(key=view.picker_key(None)).set_value(run_id).run()
    assert "The team's ratings show here once you have rated" in texts(other)
    rate_all(other, app_store, run_id, lambda slug: 4 if slug == "omni" else 2)
    ratings = Evaluations(app_store).ratings(run_id)
    assert {r.rater for r in ratings} == {"demo-member", "demo-admin"} and len(ratings) == 16

    other.run()
    report = next(d.value for d in other.dataframe if "Mean rating" in d.value.columns)
    omni = report[report["Bot"] == "Omni"].iloc[0]
    assert omni["Mean rating"] == pytest.approx(4.5)
    assert report[report["Bot"] == "Chef Remy"].iloc[0]["Failed"] == 1
    assert "agree" in texts(other)
    assert "1 answer failed" in texts(other)
    downloads = {d.proto.label: d for d in other.get("download_button")}
    assert set(downloads) == {"Markdown", "CSV"}

    # The owner shares the report; another session opens the link read-only.
    at.run()
    next(b for b in at.button if b.label == "Share link").click().run()
    token = next(c.value for c in at.code).split(f"{REPORT_PARAM}=")[1]
    reader = logged_in("demo-admin")
    reader.query_params[REPORT_PARAM] = token
    open_page(reader)
    shared = next(d.value for d in reader.dataframe if "Mean rating" in d.value.columns)
    assert list(shared["Bot"]) == ["Omni", "Chef Remy", "Ada the Code Mentor"]
    assert not [b for b in reader.button if b.label in ("Run", "Stop", "Retry")]


def test_a_failed_answer_is_retried_and_the_report_exports_as_markdown_and_csv(
    logged_in: Login, app_store: ConversationStore
) -> None:
    from webapp.evaluations.report import build_report, csv_text, to_markdown

    at = open_page(logged_in("demo-member"))
    make_set(at, "Hello?\nBye?", name="Short")
    next(b for b in at.button if b.label == "Save the set").click().run()
    at.multiselect(key=Keys.EVALS_BOTS).set_value(BOTS[:2]).run()
    emulator().inject(Fault(kind="rate_limit", retry_after=120, bot="chef", times=1))
    next(b for b in at.button if b.label == "Run").click().run()
    run_id = at.session_state[Keys.EVALS].open_run
    wait_for_end(app_store, run_id)
    at.run()
    reasons = [str(v) for v in at.dataframe[0].value["Chef Remy"]]
    assert sum("✗ failed" in r and "rate" in r.lower() for r in reasons) == 1, reasons
    # The failed answer's own Retry: asked again, the run completes.
    retry = [b for b in at.button if b.key and b.key.startswith("evals_retry_")]
    assert len(retry) == 1
    retry[0].click().run()
    wait_for_end(app_store, run_id)
    evaluations = Evaluations(app_store)
    assert progress_of(evaluations.cells(run_id)).done == 4
    report = build_report(evaluations.run(run_id), evaluations.cells(run_id), [])
    rows = list(csv.DictReader(io.StringIO(csv_text(report))))
    assert [r["Bot"] for r in rows] == ["Omni", "Chef Remy"]
    assert all(float(r["Length (words)"]) > 0 for r in rows)
    assert "# Evaluation: Short" in to_markdown(report)


def test_a_greyed_run_button_says_what_is_missing(logged_in: Login) -> None:
    # Found by a new user: Run stayed greyed with no word of why.
    at = open_page(logged_in("demo-member"))
    make_set(at, "\n".join(PROMPTS))
    at.multiselect(key=Keys.EVALS_BOTS).set_value(BOTS).run()
    run = next(b for b in at.button if b.label == "Run")
    assert run.disabled
    assert "Save the prompt set above first" in texts(at)
    next(b for b in at.button if b.label == "Save the set").click().run()
    at.multiselect(key=Keys.EVALS_BOTS).set_value(BOTS[:1]).run()
    assert next(b for b in at.button if b.label == "Run").disabled
    assert "Pick at least 2 bots to run." in texts(at)
    at.multiselect(key=Keys.EVALS_BOTS).set_value(BOTS).run()
    assert not next(b for b in at.button if b.label == "Run").disabled
    assert "Pick at least" not in texts(at) and "Save the prompt set" not in texts(at)


def test_limits_are_refused_with_plain_messages(logged_in: Login) -> None:
    at = open_page(logged_in("demo-member"))
    make_set(at, "\n".join(f"Prompt {i}" for i in range(1000)))
    assert at.session_state[Keys.EVALS].draft == []
    assert "at most 200 prompts; this one has 1,000" in " ".join(e.value for e in at.error)
    at.text_area(key=Keys.EVALS_PASTE).set_value("x" * 100_000)
    next(b for b in at.button if b.label == "Add prompts").click().run()
    assert not at.exception
    assert "100,000 characters" in " ".join(e.value for e in at.error)


def test_a_run_that_cannot_fit_the_budget_is_refused_before_anything_starts(
    logged_in: Login, app_store: ConversationStore
) -> None:
    BudgetBook(app_store.engine).set_member_limit("demo-member", 1000, "words", actor="demo-admin")
    at = open_page(logged_in("demo-member"))
    make_set(at, "One?\nTwo?", name="Costly")
    next(b for b in at.button if b.label == "Save the set").click().run()
    at.multiselect(key=Keys.EVALS_BOTS).set_value(BOTS).run()
    # The demo member has used some of it already (the emulator's usage history).
    assert "may use up to 1,800 words of the" in texts(at)
    before = len(chat_requests())
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    refusal = " ".join(e.value for e in at.error)
    assert "This run may use up to 1,800 words" in refusal
    assert "words are left of your monthly budget" in refusal
    assert Evaluations(app_store).runs() == []
    assert len(chat_requests()) == before


def _run_from_page(at: AppTest, prompts: str, bots: list[str]) -> str:
    make_set(at, prompts, name="Again")
    next(b for b in at.button if b.label == "Save the set").click().run()
    at.multiselect(key=Keys.EVALS_BOTS).set_value(bots).run()
    next(b for b in at.button if b.label == "Run").click().run()
    assert not at.exception, at.exception
    return str(at.session_state[Keys.EVALS].open_run)


def test_stop_cancels_the_answers_not_started_and_keeps_the_rest(
    logged_in: Login, app_store: ConversationStore
) -> None:
    emulator().inject(Fault(kind="slow_first_byte", seconds=3, times=None))
    at = open_page(logged_in("demo-member"))
    run_id = _run_from_page(at, "\n".join(f"Question {n}?" for n in range(5)), BOTS[:2])
    # 4 answers at once without a team limit: the other 6 wait their turn.
    next(b for b in at.button if b.label == "Stop").click().run()
    assert "answers that had not started were cancelled" in texts(at)
    emulator().clear_faults()
    wait_for_end(app_store, run_id)
    progress = progress_of(Evaluations(app_store).cells(run_id))
    assert progress.cancelled >= 6 and progress.done + progress.cancelled == 10
    at.run()
    assert f"{progress.cancelled} not started (stopped)" in str(at.get("progress")[0].proto)


def test_running_a_set_again_keeps_both_runs_and_shows_the_change_per_bot(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = open_page(logged_in("demo-member"))
    first = _run_from_page(at, "Only question?", BOTS[:2])
    wait_for_end(app_store, first)
    at.run()
    rate_all(at, app_store, first, lambda slug: 2 if slug == "omni" else 3, prompts=1)
    next(b for b in at.button if b.label == "Run again").click().run()
    second = str(at.session_state[Keys.EVALS].open_run)
    assert second != first
    wait_for_end(app_store, second)
    at.run()
    rate_all(at, app_store, second, lambda slug: 5 if slug == "omni" else 3, prompts=1)
    evaluations = Evaluations(app_store)
    assert [r.id for r in evaluations.runs_of_set(evaluations.run(first).set_id)] == [
        first,
        second,
    ]
    report = next(d.value for d in at.dataframe if "Mean rating" in d.value.columns)
    change = dict(zip(report["Bot"], report["Change in mean rating"], strict=True))
    assert change == {"Omni": pytest.approx(3.0), "Chef Remy": pytest.approx(0.0)}


def test_the_setup_offers_only_allowed_bots_and_run_again_refuses_a_forbidden_one(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = open_page(logged_in("demo-member"))
    make_set(at, "One?\nTwo?", name="Allowed")
    next(b for b in at.button if b.label == "Save the set").click().run()
    at.multiselect(key=Keys.EVALS_BOTS).set_value(BOTS).run()
    next(b for b in at.button if b.label == "Run").click().run()
    run_id = str(at.session_state[Keys.EVALS].open_run)
    wait_for_end(app_store, run_id)

    # Members in no group may now use two of the three bots.
    groups.set_team_bots(app_store.engine, False, ["omni", "code-mentor"], actor="demo-admin")
    st.cache_data.clear()  # the member's kept access
    at = open_page(logged_in("demo-member"))
    offered = at.multiselect(key=Keys.EVALS_BOTS).options
    assert sorted(offered) == sorted(["Omni", "Ada the Code Mentor"])
    assert "Only the 2 bots your groups allow are offered" in texts(at)

    # The earlier run names Chef: Run again is refused, nothing starts.
    runs, before = len(Evaluations(app_store).runs()), len(chat_requests())
    at.session_state[Keys.EVALS].open_run = run_id
    at.run()
    next(b for b in at.button if b.label == "Run again").click().run()
    assert not at.exception, at.exception
    refusal = " ".join(e.value for e in at.error)
    assert "Nothing was started: Members in no group may not use Chef" in refusal
    assert len(Evaluations(app_store).runs()) == runs
    assert len(chat_requests()) == before
