# ruff: noqa: F811  (the answer-service fixtures are imported from answer_helpers)
"""Evaluation runs against the emulator and a real database: every prompt by
every bot in the background, a fault marked on its own answer with Retry,
Stop, the budget, the limits, blind ratings once per member."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ablt_core.emulator import EmulatorHandle, Fault
from tests.webapp.answer_helpers import (  # noqa: F401  (fixtures)
    ANN,
    Member,
    db_url,
    make_service,
    service,
    store,
    until,
)
from webapp import backend
from webapp.answers import AnswerService
from webapp.budgets.book import Limit
from webapp.budgets.count import BudgetStatus
from webapp.conversations.context import ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.evaluations import (
    AlreadyRated,
    EvaluationError,
    EvaluationRunner,
    Evaluations,
    RunBot,
    build_report,
)
from webapp.evaluations.model import (
    CANCELLED,
    DONE,
    FAILED,
    MAX_PROMPT_CHARS,
    REFUSED,
    check_bots,
    check_prompts,
    cost_refusal,
    estimate_run_words,
    progress_of,
)
from webapp.evaluations.report import to_markdown
from webapp.groups import store as groups
from webapp.groups.admission import BotAccessRule
from webapp.operations import collect
from webapp.operations.health import Readiness
from webapp.settings import Settings

BOB = Member("bob", 43)
THREE = [
    RunBot("omni", "Omni", ConversationOptions(max_words=50)),
    RunBot("chef", "Chef", ConversationOptions(max_words=50)),
    RunBot("code-mentor", "Code Mentor", ConversationOptions(max_words=50)),
]
PROMPTS = ["Soup tonight?", "Name a dessert.", "Explain recursion briefly."]


@pytest.fixture
def evaluations(store: ConversationStore) -> Evaluations:
    return Evaluations(store)


@pytest.fixture
def make_runner(
    evaluations: Evaluations, service: AnswerService
) -> Iterator[Callable[..., EvaluationRunner]]:
    made: list[EvaluationRunner] = []

    def make(**kw: object) -> EvaluationRunner:
        kw.setdefault("poll", 0.05)
        runner = EvaluationRunner(evaluations, service, **kw)  # type: ignore[arg-type]
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.close()


def ended(evaluations: Evaluations, run_id: str) -> bool:
    return not evaluations.run(run_id).active


def test_three_prompts_by_three_bots_with_one_dropped_stream(
    evaluations: Evaluations,
    make_runner: Callable[..., EvaluationRunner],
    service: AnswerService,
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    emulator.inject(Fault(kind="drop_stream", bot="chef", times=1, after_pieces=2))
    eval_set = evaluations.create_set(ANN, "Kitchen", PROMPTS)
    run = evaluations.create_run(ANN, eval_set, THREE)
    runner = make_runner()
    runner.wake()
    until(lambda: ended(evaluations, run.id), timeout=30)

    cells = evaluations.cells(run.id)
    progress = progress_of(cells)
    assert (progress.total, progress.ended, progress.done, progress.failed) == (9, 9, 8, 1)
    assert progress.caption() == "9 of 9 answers · 1 failed"
    failed = next(c for c in cells if c.state == FAILED)
    assert run.bots[failed.bot_index].slug == "chef"
    assert failed.error  # the answer's own reason, shown in the grid
    for cell in cells:
        if cell.state == DONE:
            assert f"\u201c{PROMPTS[cell.prompt_index]}\u201d" in cell.text
            assert cell.words == len(cell.text.split())
            assert cell.first_words_s is not None and cell.total_s is not None
            assert cell.total_s >= cell.first_words_s
    # The run's answers stay out of the member's History.
    assert store.list_conversations(ANN) == []

    # Retry only the failed answer: the run opens again and completes.
    evaluations.retry(ANN, failed.id)
    assert evaluations.run(run.id).active
    runner.wake()
    until(lambda: ended(evaluations, run.id), timeout=30)
    assert progress_of(evaluations.cells(run.id)).done == 9
    report = build_report(evaluations.run(run.id), evaluations.cells(run.id), [])
    assert [r.answers for r in report.rows] == [3, 3, 3]
    assert report.failed == 0


def test_stop_cancels_what_has_not_started_and_the_rest_ends(
    evaluations: Evaluations,
    make_runner: Callable[..., EvaluationRunner],
    emulator: EmulatorHandle,
) -> None:
    emulator.set_delay(0.05)
    eval_set = evaluations.create_set(ANN, "Slow", PROMPTS)
    run = evaluations.create_run(ANN, eval_set, THREE)
    runner = make_runner(parallel=lambda: 1)
    runner.wake()
    until(lambda: progress_of(evaluations.cells(run.id)).running == 1)
    cancelled = evaluations.stop(ANN, run.id)
    assert cancelled == 8
    until(lambda: ended(evaluations, run.id), timeout=30)
    progress = progress_of(evaluations.cells(run.id))
    assert progress.cancelled == 8 and progress.done == 1
    assert "8 not started (stopped)" in progress.caption()
    with pytest.raises(Exception):  # noqa: B017  (only the owner stops it)
        evaluations.stop(BOB, run.id)


def test_the_budget_stops_a_run_before_it_can_be_exceeded(
    evaluations: Evaluations,
    make_runner: Callable[..., EvaluationRunner],
) -> None:
    eval_set = evaluations.create_set(ANN, "Budget", PROMPTS)
    run = evaluations.create_run(ANN, eval_set, THREE)
    now = datetime.now(UTC)

    def budget(owner: object) -> BudgetStatus:
        """120 words left before the run; each answer started holds its 50 (max words)."""
        progress = progress_of(evaluations.cells(run.id))
        return BudgetStatus(
            Limit(1000, "words", "member"), 880 + 50 * (progress.done + progress.running), now
        )

    runner = make_runner(budget=budget, parallel=lambda: 1)
    runner.wake()
    until(lambda: ended(evaluations, run.id), timeout=30)
    cells = evaluations.cells(run.id)
    progress = progress_of(cells)
    assert progress.done == 2 and progress.cancelled == 7
    assert all("monthly budget" in (c.error or "") for c in cells if c.state == CANCELLED)


def test_a_run_that_cannot_fit_the_budget_is_refused_before_it_starts() -> None:
    now = datetime.now(UTC)
    words = estimate_run_words(20, THREE)
    assert words == 20 * 3 * 50
    low = BudgetStatus(Limit(5000, "words", "member"), 4000, now)
    refusal = cost_refusal(words, low)
    assert refusal is not None and "3,000 words" in refusal and "1,000 words are left" in refusal
    assert cost_refusal(words, BudgetStatus(Limit(None, "words", "team"), 0, now)) is None
    assert cost_refusal(900, low) is None


def test_limits_refuse_with_plain_sentences() -> None:
    with pytest.raises(EvaluationError, match="at most 200 prompts; this one has 1,000"):
        check_prompts(["Hi"] * 1000)
    with pytest.raises(EvaluationError, match="Prompt 2 has 100,000 characters"):
        check_prompts(["Hi", "x" * 100_000])
    assert check_prompts(["x" * MAX_PROMPT_CHARS]) == ("x" * MAX_PROMPT_CHARS,)
    eight = [RunBot(f"bot{i}", "", ConversationOptions()) for i in range(8)]
    with pytest.raises(EvaluationError, match="1,600 answers; a run can ask for at most 400"):
        check_bots(eight, 200)
    assert len(check_bots(eight, 50)) == 8
    with pytest.raises(EvaluationError, match="Pick 2 to 8 bots"):
        check_bots([*eight, RunBot("ninth", "", ConversationOptions())], 1)
    with pytest.raises(EvaluationError, match="each bot once"):
        check_bots([THREE[0], THREE[0]], 1)


def _done_run(evaluations: Evaluations) -> str:
    """A run whose cells are marked done by hand (no API needed)."""
    eval_set = evaluations.create_set(ANN, "Rated", PROMPTS[:2])
    run = evaluations.create_run(ANN, eval_set, THREE[:2])
    for cell in evaluations.cells(run.id):
        assert evaluations.claim(cell.id)
        evaluations.ended(cell.id, DONE, text=f"answer {cell.prompt_index}/{cell.bot_index}")
    evaluations.finish_if_settled(run.id)
    return run.id


def test_a_member_rates_each_answer_once_and_a_replay_is_refused(
    evaluations: Evaluations,
) -> None:
    run_id = _done_run(evaluations)
    cells = [c for c in evaluations.cells(run_id) if c.prompt_index == 0]
    scores: dict[str, int | None] = {cells[0].id: 5, cells[1].id: 2}
    evaluations.rate("ann", run_id, 0, scores, best=cells[0].id)
    with pytest.raises(AlreadyRated):
        evaluations.rate("ann", run_id, 0, scores, best=cells[0].id)  # the replayed click
    evaluations.rate("bob", run_id, 0, {cells[0].id: 4, cells[1].id: 3}, best=None)
    ratings = evaluations.ratings(run_id)
    assert len(ratings) == 4
    assert {(r.rater, r.score, r.best) for r in ratings if r.cell_id == cells[0].id} == {
        ("ann", 5, True),
        ("bob", 4, False),
    }
    assert evaluations.rated_prompts(run_id, "ann") == {0}
    assert evaluations.rated_prompts(run_id, "bob") == {0}
    second = [c for c in evaluations.cells(run_id) if c.prompt_index == 1]
    with pytest.raises(EvaluationError, match="from 1 to 5"):
        evaluations.rate("cy", run_id, 1, {second[0].id: 6}, best=None)
    with pytest.raises(EvaluationError, match="at least one"):
        evaluations.rate("cy", run_id, 1, {second[0].id: None}, best=None)
    with pytest.raises(EvaluationError, match="not this prompt's"):
        evaluations.rate("cy", run_id, 1, {cells[0].id: 3}, best=None)


def test_a_cell_claimed_by_a_process_that_died_before_sending_fails_with_retry(
    evaluations: Evaluations, store: ConversationStore
) -> None:
    eval_set = evaluations.create_set(ANN, "Crash", PROMPTS[:1])
    run = evaluations.create_run(ANN, eval_set, THREE[:2])
    first = evaluations.cells(run.id)[0]
    assert evaluations.claim(first.id)  # ... and the process dies here
    assert evaluations.fail_unstarted(timedelta(minutes=2), "never sent") == 0
    assert evaluations.fail_unstarted(timedelta(seconds=-1), "never sent") == 1
    failed = evaluations.cell(first.id)
    assert (failed.state, failed.error) == (FAILED, "never sent")
    assert evaluations.retry(ANN, first.id).state == "pending"


def test_a_bot_the_owner_may_no_longer_use_is_refused_cell_by_cell_and_the_rest_goes_on(
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
) -> None:
    """Access taken away after the run was made (issue 22's groups): that
    bot's answers are marked refused with the reason, nothing is sent for
    them, and the other bots' answers are written (before, one refusal
    cancelled the whole run with "Your message is kept in the box")."""
    service = make_service(rules=[BotAccessRule(store)])
    evaluations = Evaluations(store)
    eval_set = evaluations.create_set(ANN, "Kitchen", PROMPTS)
    run = evaluations.create_run(ANN, eval_set, THREE)
    groups.set_team_bots(store.engine, False, ["omni", "code-mentor"], actor="admin")
    runner = EvaluationRunner(evaluations, service, poll=0.05)
    try:
        runner.wake()
        until(lambda: ended(evaluations, run.id), timeout=30)
        cells = evaluations.cells(run.id)
        progress = progress_of(cells)
        assert (progress.done, progress.refused, progress.failed, progress.cancelled) == (
            6,
            3,
            0,
            0,
        )
        assert "3 refused (a bot you may no longer use)" in progress.caption()
        refused = [c for c in cells if c.state == REFUSED]
        assert {run.bots[c.bot_index].slug for c in refused} == {"chef"}
        for cell in refused:
            assert (
                cell.error
                == "Not asked: Members in no group may not use Chef. Ask an admin for access."
            )
        asked = [r.json["bot_slug"] for r in emulator.requests if r.path == "/v1/chat"]
        assert "chef" not in asked and len(asked) == 6
        report = build_report(evaluations.run(run.id), cells, [])
        assert (report.failed, report.refused) == (0, 3)
        assert "refused (bot not allowed): 3" in to_markdown(report)

        # Access given back: Retry asks the refused answer again.
        groups.set_team_bots(store.engine, True, actor="admin")
        evaluations.retry(ANN, refused[0].id)
        runner.wake()
        until(lambda: ended(evaluations, run.id), timeout=30)
        assert evaluations.cell(refused[0].id).state == DONE
    finally:
        runner.close()


def test_a_run_queued_before_a_restart_completes_when_the_process_starts_its_service(
    evaluations: Evaluations, db_url: str, emulator: EmulatorHandle, test_token: str
) -> None:
    """Issue: the runner started only when someone opened the Evaluations page,
    so after a restart queued runs waited (and /readyz said "idle"). Now the
    process's answer service starts its runner (`backend.start_answers`,
    whichever page uses the service first): nobody opens Evaluations here."""
    eval_set = evaluations.create_set(ANN, "Kitchen", PROMPTS[:2])
    run = evaluations.create_run(ANN, eval_set, THREE[:2])  # queued, no runner yet
    settings = Settings(bearer_token=test_token, base_url=emulator.base_url, db_url=db_url)
    readiness = Readiness(lambda: backend.get_store(settings).engine, collect.open_services)
    service = backend.start_answers(settings)
    try:
        assert backend.start_answers(settings) is service  # once per process
        until(lambda: ended(evaluations, run.id), timeout=30)
        progress = progress_of(evaluations.cells(run.id))
        assert (progress.total, progress.done) == (4, 4)
        assert readiness.report().checks["answers"]["status"] == "ok"
    finally:  # this test's process-wide service and store end with it
        backend._answers_for.clear()
        service.close()
        backend.get_store(settings).close()
        backend._store_for.clear()
