"""`EvaluationRunner`: moves evaluation runs on in the background.

One per app process, beside its answer service (`runner_for`): `webapp.backend`
starts it with the service (on its first use by any page), so queued runs
resume after a restart without anyone opening the Evaluations page.
A daemon thread takes `step()`s while any run is active:

- each running cell whose answer ended is recorded (an answer of this
  process wakes the runner the moment it ends; others are polled) (its text, words, and the
  times its worker measured from the request: first words, end), or marked
  failed with the answer's own reason (rate limit, dropped stream, timeout);
- a stopped run's pending cells are cancelled;
- pending cells are started, oldest run first, while fewer than `parallel()`
  answers of all runs are being written: each is an ordinary answer of a
  hidden conversation (kind "evaluation"), started through the answer
  service, so the admission rules (the month's budget), the team's slots and
  the worker cap hold for every one. `parallel()` is the team's limit on
  simultaneous answers in force (`DEFAULT_PARALLEL` without one), so a run
  never floods the team's line: a teammate's chat waits behind at most that
  many evaluation answers;
- a bot the run's owner may no longer use (their groups, `webapp.groups`)
  is not asked: its pending cells are marked refused with the reason, the
  other bots' answers go on (the admission rule would refuse each anyway);
- before each start, the member's budget must still cover that answer's
  estimate (`budget`): if not, the rest of the run is cancelled with the
  reason, so a run never takes a member past their limit;
- a run with nothing pending or running ends.

State is in the database only (`webapp.evaluations.store`), so a reload or a
closed tab changes nothing, and after a restart any process picks the run up
(a cell whose worker died is settled `interrupted` by the answer service's
rule and shows Retry).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from webapp.answers.admission import AnswerRefused
from webapp.answers.service import OPEN_SERVICES
from webapp.budgets.check import BudgetGate
from webapp.conversations.model import KIND_EVALUATION, AnswerStatus
from webapp.evaluations.model import (
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    Cell,
    Run,
    in_unit,
)
from webapp.evaluations.store import Evaluations
from webapp.groups.model import BotAccess
from webapp.groups.store import access_for
from webapp.ui.i18n import N_

if TYPE_CHECKING:
    from webapp.answers import AnswerService
    from webapp.answers.live import LiveAnswer
    from webapp.budgets.count import BudgetStatus
    from webapp.conversations.store import Owner

log = logging.getLogger(__name__)

DEFAULT_PARALLEL: Final = 4  # answers of evaluation runs at once without a team limit
MAX_PARALLEL: Final = 16
POLL: Final = 0.25  # seconds between steps while a run is active
IDLE_WAIT: Final = 5.0  # seconds between looks for runs of other processes when idle
ANSWER_WAIT: Final = 3600.0  # seconds a waiter thread waits for its answer's end at most
SETTLE_EVERY: Final = 5.0  # seconds between checks for answers whose worker died
# A cell claimed this long ago whose answer was never sent: its process died
# between the claim and the send (a send takes well under a second).
UNSTARTED_AFTER: Final = timedelta(minutes=2)
NEVER_SENT: Final = N_("This answer was never sent (the app restarted meanwhile). Retry it.")
INTERRUPTED: Final = N_("The answer was cut off before it ended.")
BUDGET_STOP: Final = N_(
    "Not started: this answer could take you past your monthly budget, so the run stopped here."
)
NOT_STARTED: Final = N_("Not started: ")
REFUSED_BOT: Final = N_("Not asked: ")  # + why the owner may not use the bot
COULD_NOT_START: Final = N_(
    "This answer could not be started (the database or the API did not answer). Retry it."
)


def _estimate(run: Run, cell: Cell, unit: str) -> int:
    from webapp.budgets.holds import estimate_words

    return in_unit(estimate_words(run.bots[cell.bot_index].options.max_words), unit)


class EvaluationRunner:
    """Starts and records the answers of active runs (see the module).

    `parallel`: how many evaluation answers may be written at once (default:
    the team's limit in force, else `DEFAULT_PARALLEL`, at most `MAX_PARALLEL`).
    `budget(owner)`: the member's budget status now (None: not checked).
    `start_thread=False` leaves the stepping to the caller (tests).
    """

    def __init__(
        self,
        evaluations: Evaluations,
        answers: AnswerService,
        *,
        parallel: Callable[[], int] | None = None,
        budget: Callable[[Owner], BudgetStatus | None] | None = None,
        poll: float = POLL,
        start_thread: bool = True,
    ) -> None:
        self.evaluations = evaluations
        self.answers = answers
        self.parallel = parallel or self._team_parallel
        self.budget = budget
        self.poll = poll
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._settled_at = 0.0
        self._thread: threading.Thread | None = None
        if start_thread:
            self._thread = threading.Thread(target=self._loop, name="ablt-evals", daemon=True)
            self._thread.start()

    def _team_parallel(self) -> int:
        try:
            limit = self.answers.team.book.status().effective
        except Exception:
            log.warning("Could not read the team's limit on simultaneous answers", exc_info=True)
            limit = None
        return min(limit or DEFAULT_PARALLEL, MAX_PARALLEL)

    def wake(self) -> None:
        """A run started, stopped or was retried: step at once."""
        self._wake.set()

    def close(self) -> None:
        """Stop stepping (the answers already started go on in the service)."""
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5.0)

    def _loop(self) -> None:
        # Ends with its answer service (closed at shutdown, or between tests).
        while not self._closed.is_set() and self.answers in OPEN_SERVICES:
            try:
                busy = self.step()
            except Exception:
                log.exception("An evaluation step failed; trying again")
                busy = True
            self._wake.wait(self.poll if busy else IDLE_WAIT)
            self._wake.clear()

    # ---------------------------------------------------------------- a step

    def step(self) -> bool:
        """One pass over the active runs; True while any is still active."""
        runs = self.evaluations.active_runs()
        if not runs:
            return False
        settle = time.monotonic() - self._settled_at > SETTLE_EVERY
        if settle:
            self._settled_at = time.monotonic()
            self.evaluations.fail_unstarted(UNSTARTED_AFTER, NEVER_SENT)
        for run in runs:
            for cell in self.evaluations.cells(run.id, states=("running",)):
                self._check(run, cell, settle)
        room = self.parallel() - self.evaluations.count_running()
        for run in runs:
            if run.stop_requested:
                self.evaluations.cancel_pending(run.id, "Stopped before it started.")
            else:
                room = self._start_some(run, room)
            self.evaluations.finish_if_settled(run.id)
        return True

    def _check(self, run: Run, cell: Cell, settle: bool) -> None:
        """Record the cell's answer if it ended."""
        if cell.answer_id is None or cell.conversation_id is None:
            return  # being started right now (by this or another process)
        state = self.evaluations.answer_state(cell.answer_id)
        if state is None:
            self.evaluations.ended(cell.id, FAILED, error="The answer was deleted.")
            return
        status, text, error = state
        if status == AnswerStatus.STREAMING:
            if settle:
                try:
                    self.answers.settle(run, cell.conversation_id)
                except Exception:
                    log.warning("Could not settle an evaluation answer", exc_info=True)
            return
        live = self.answers.live(cell.answer_id)
        if live is not None and not live.done:
            return  # saved, not yet ended here: its end time comes in a moment
        first = total = None
        if live is not None and live.requested_at is not None:
            if live.first_text_at is not None:
                first = max(live.first_text_at - live.requested_at, 0.0)
            if live.ended_at is not None:
                total = max(live.ended_at - live.requested_at, 0.0)
        if status == AnswerStatus.COMPLETE:
            self.evaluations.ended(cell.id, DONE, text=text, first_words_s=first, total_s=total)
        elif status == AnswerStatus.STOPPED:
            self.evaluations.ended(cell.id, CANCELLED, error="Stopped while it was written.")
        else:
            reason = error or (INTERRUPTED if status == AnswerStatus.INTERRUPTED else None)
            self.evaluations.ended(cell.id, FAILED, error=reason or "The answer failed.")

    def _start_some(self, run: Run, room: int) -> int:
        """Start the run's pending cells while there is `room`; the room left."""
        if room <= 0:
            return room
        pending = self.evaluations.cells(run.id, states=(PENDING,))
        access = self._access(run) if pending else None
        refused: set[int] = set()
        for cell in pending:
            if room <= 0:
                break
            bot = run.bots[cell.bot_index]
            if access is not None and not access.allows(bot.slug):
                if cell.bot_index not in refused:
                    refused.add(cell.bot_index)
                    reason = REFUSED_BOT + access.why_not(bot.label)
                    self.evaluations.refuse_pending(run.id, cell.bot_index, reason)
                continue
            if not self._fits_budget(run, cell):
                self.evaluations.cancel_pending(run.id, BUDGET_STOP)
                break
            if not self.evaluations.claim(cell.id):
                continue  # another process took it
            room -= 1
            if not self._start(run, cell):
                break
        return room

    def _access(self, run: Run) -> BotAccess | None:
        """The bots the run's owner may use now (None when unreadable: the
        admission rule still decides each answer)."""
        try:
            return access_for(self.answers.store.engine, run.owner)
        except Exception:
            log.warning("Could not read the groups before an evaluation answer", exc_info=True)
            return None

    def _fits_budget(self, run: Run, cell: Cell) -> bool:
        if self.budget is None:
            return True
        try:
            status = self.budget(run)
        except Exception:
            log.warning("Could not read a budget before an evaluation answer", exc_info=True)
            return True  # the admission rule still decides, and refuses when it must
        if status is None or status.left is None:
            return True
        return status.left >= _estimate(run, cell, status.limit.unit)

    def _start(self, run: Run, cell: Cell) -> bool:
        """Send one cell's prompt to its bot; False when the run cannot go on
        (the admission refused: the rest is cancelled with its reason)."""
        bot = run.bots[cell.bot_index]
        store = self.answers.store
        conversation = store.create_conversation(
            run,
            bot.slug,
            bot.name,
            bot.options,
            title=f"{run.name} · {cell.prompt_index + 1}",
            kind=KIND_EVALUATION,
        )
        try:
            admission = self.answers.admit(run, conversation_id=conversation.id)
            submitted = self.answers.submit(
                run, conversation.id, run.prompts[cell.prompt_index], admission=admission
            )
        except AnswerRefused as refused:
            self._abandon(cell, conversation.id, refused.reason)
            self.evaluations.cancel_pending(run.id, NOT_STARTED + refused.reason)
            return False
        except Exception:
            log.warning("Could not start an evaluation answer", exc_info=True)
            self._abandon(cell, conversation.id, COULD_NOT_START)
            return True
        self.evaluations.started(cell.id, conversation.id, submitted.answer_id)
        live = self.answers.live(submitted.answer_id or "")
        if live is not None:
            # Step the moment it ends, not at the next poll: the next answer
            # starts at once (with a limit of 1, polls add up answer after answer).
            threading.Thread(
                target=self._wake_when_done, args=(live,), name="ablt-evals-wait", daemon=True
            ).start()
        return True

    def _wake_when_done(self, live: LiveAnswer) -> None:
        live.wait_done(ANSWER_WAIT)
        self.wake()

    def _abandon(self, cell: Cell, conversation_id: str, reason: str) -> None:
        self.evaluations.ended(cell.id, FAILED, error=reason)
        try:
            self.answers.store.delete_conversation(
                self.evaluations.run(cell.run_id), conversation_id
            )
        except Exception:
            log.warning("Could not delete an unused evaluation conversation", exc_info=True)


_RUNNERS: dict[int, EvaluationRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner_for(answers: AnswerService) -> EvaluationRunner:
    """The process's runner beside `answers`, made (and its thread started) on
    the first call; a new one when the service was replaced (e.g. between
    tests), the old one closed. It picks up every active run of the database,
    so runs go on after a restart. Its budget check is the service's
    `BudgetGate` rule, when it has one."""
    with _RUNNERS_LOCK:
        for key, old in list(_RUNNERS.items()):
            if old.answers not in OPEN_SERVICES:
                old.close()
                del _RUNNERS[key]
        runner = _RUNNERS.get(id(answers))
        if runner is None:
            gate = next((r for r in answers.rules if isinstance(r, BudgetGate)), None)
            runner = EvaluationRunner(
                Evaluations(answers.store),
                answers,
                budget=gate.status if gate is not None else None,
            )
            _RUNNERS[id(answers)] = runner
        return runner
