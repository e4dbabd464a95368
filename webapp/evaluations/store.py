"""Evaluation sets, runs, cells and ratings in the app's database.

Everything a run is lives here (nothing in process memory), so a run goes on
and its page comes back whatever the browser does, and any app process's
runner (`webapp.evaluations.runner`) can move it on: a cell is claimed from
`pending` in one conditional UPDATE, so two processes never start it twice.

Sets are their owner's; runs are the team's to see and rate (any member),
their owner's to stop, retry and share. Ratings are written once per member
per answer (a unique constraint): a replayed click is refused, never counted twice.

Blocking; the database's errors propagate.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.conversations.context import ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore, Owner
from webapp.db.schema import eval_cells as EC
from webapp.db.schema import eval_ratings as ER
from webapp.db.schema import eval_runs as RN
from webapp.db.schema import eval_sets as ES
from webapp.db.schema import messages as M
from webapp.evaluations.model import (
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    REFUSED,
    RETRYABLE,
    RUNNING,
    STOPPED_BEFORE_START,
    Cell,
    EvalSet,
    EvaluationError,
    EvaluationNotFound,
    Rating,
    Run,
    RunBot,
    check_bots,
    check_prompts,
    clean_name,
)
from webapp.ui.i18n import N_, _

ALREADY_RATED = N_("You have already rated this prompt: each member rates an answer once.")


class AlreadyRated(EvaluationError):
    """The member has rated (some of) these answers already."""

    def __init__(self) -> None:
        super().__init__(ALREADY_RATED)


def _bots_json(bots: Sequence[RunBot]) -> str:
    return json.dumps(
        [{"slug": b.slug, "name": b.name, "options": b.options.model_dump()} for b in bots]
    )


def _bots_from(raw: str) -> tuple[RunBot, ...]:
    return tuple(
        RunBot(b["slug"], b.get("name", ""), ConversationOptions.model_validate(b["options"]))
        for b in json.loads(raw)
    )


def _to_set(row: Any) -> EvalSet:
    return EvalSet(
        row["id"],
        row["owner"],
        row["name"],
        tuple(json.loads(row["prompts"])),
        row["created_at"],
        row["updated_at"],
    )


def _to_run(row: Any) -> Run:
    return Run(
        row["id"],
        row["set_id"],
        row["owner"],
        row["owner_user_id"],
        row["name"],
        tuple(json.loads(row["prompts"])),
        _bots_from(row["bots"]),
        bool(row["stop_requested"]),
        row["created_at"],
        row["ended_at"],
    )


def _to_cell(row: Any) -> Cell:
    return Cell(
        row["id"],
        row["run_id"],
        row["prompt_index"],
        row["bot_index"],
        row["state"],
        row["conversation_id"],
        row["answer_id"],
        row["text"],
        row["error"],
        row["first_words_s"],
        row["total_s"],
        row["words"],
        row["attempts"],
    )


class Evaluations:
    """The evaluation tables of the conversation store's database."""

    def __init__(self, store: ConversationStore) -> None:
        self.store = store

    # ----------------------------------------------------------------- sets

    def create_set(self, owner: Owner, name: str, prompts: Sequence[str]) -> EvalSet:
        """A new named set; EvaluationError for a blank name or prompts over the limits."""
        clean = clean_name(name)
        checked = check_prompts(prompts)
        now = self.store.now()
        set_id = str(uuid.uuid4())
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.insert(ES).values(
                    id=set_id,
                    owner=owner.username,
                    name=clean,
                    prompts=json.dumps(list(checked), ensure_ascii=False),
                    created_at=now,
                    updated_at=now,
                )
            )
        return EvalSet(set_id, owner.username, clean, checked, now, now)

    def sets(self, owner: Owner) -> list[EvalSet]:
        """The member's sets, newest first."""
        stmt = sa.select(ES).where(ES.c.owner == owner.username).order_by(ES.c.created_at.desc())
        with self.store.transaction() as conn:
            return [_to_set(r) for r in conn.execute(stmt).mappings()]

    def get_set(self, owner: Owner, set_id: str) -> EvalSet:
        """One of the member's sets, or EvaluationNotFound."""
        stmt = sa.select(ES).where(ES.c.id == set_id, ES.c.owner == owner.username)
        with self.store.transaction() as conn:
            row = conn.execute(stmt).mappings().first()
        if row is None:
            raise EvaluationNotFound()
        return _to_set(row)

    # ----------------------------------------------------------------- runs

    def create_run(self, owner: Owner, eval_set: EvalSet, bots: Sequence[RunBot]) -> Run:
        """A run of `eval_set` by `bots` with every cell pending (the runner
        starts them). EvaluationError when the bots break the limits."""
        checked = check_bots(bots, len(eval_set.prompts))
        now = self.store.now()
        run_id = str(uuid.uuid4())
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.insert(RN).values(
                    id=run_id,
                    set_id=eval_set.id,
                    owner=owner.username,
                    owner_user_id=owner.user_id,
                    name=eval_set.name,
                    prompts=json.dumps(list(eval_set.prompts), ensure_ascii=False),
                    bots=_bots_json(checked),
                    stop_requested=False,
                    created_at=now,
                    ended_at=None,
                )
            )
            conn.execute(
                sa.insert(EC),
                [
                    {
                        "id": str(uuid.uuid4()),
                        "run_id": run_id,
                        "prompt_index": p,
                        "bot_index": b,
                        "state": PENDING,
                        "text": "",
                        "attempts": 0,
                    }
                    # Prompt by prompt, so the first prompts can be rated while the rest run.
                    for p in range(len(eval_set.prompts))
                    for b in range(len(checked))
                ],
            )
        return self.run(run_id)

    def run(self, run_id: str) -> Run:
        """Any run of the team, or EvaluationNotFound."""
        with self.store.transaction() as conn:
            row = conn.execute(sa.select(RN).where(RN.c.id == run_id)).mappings().first()
        if row is None:
            raise EvaluationNotFound()
        return _to_run(row)

    def runs(self, limit: int = 50) -> list[Run]:
        """The team's latest runs, newest first."""
        stmt = sa.select(RN).order_by(RN.c.created_at.desc(), RN.c.id).limit(limit)
        with self.store.transaction() as conn:
            return [_to_run(r) for r in conn.execute(stmt).mappings()]

    def runs_of_set(self, set_id: str) -> list[Run]:
        """Every run of a set, oldest first (re-runs keep the earlier ones)."""
        stmt = sa.select(RN).where(RN.c.set_id == set_id).order_by(RN.c.created_at, RN.c.id)
        with self.store.transaction() as conn:
            return [_to_run(r) for r in conn.execute(stmt).mappings()]

    def active_runs(self) -> list[Run]:
        """Runs with answers pending or running, oldest first."""
        stmt = sa.select(RN).where(RN.c.ended_at.is_(None)).order_by(RN.c.created_at, RN.c.id)
        with self.store.transaction() as conn:
            return [_to_run(r) for r in conn.execute(stmt).mappings()]

    def _owned(self, owner: Owner, run_id: str) -> Run:
        run = self.run(run_id)
        if run.owner != owner.username:
            raise EvaluationNotFound()
        return run

    def stop(self, owner: Owner, run_id: str) -> int:
        """Stop a run: nothing new starts and every pending answer is cancelled
        now (answers already being written end as they will). How many were cancelled."""
        self._owned(owner, run_id)
        with self.store.transaction(write=True) as conn:
            conn.execute(sa.update(RN).where(RN.c.id == run_id).values(stop_requested=True))
            done = conn.execute(
                sa.update(EC)
                .where(EC.c.run_id == run_id, EC.c.state == PENDING)
                .values(state=CANCELLED, error=STOPPED_BEFORE_START, ended_at=self.store.now())
            )
        return int(done.rowcount)

    def retry(self, owner: Owner, cell_id: str) -> Cell:
        """Ask a failed (or stopped-before-start, or refused) answer again: the
        cell is pending anew and its run open again. EvaluationNotFound otherwise."""
        cell = self.cell(cell_id)
        run = self._owned(owner, cell.run_id)
        if cell.state not in RETRYABLE:
            raise EvaluationError(_("Only an answer that failed or did not start can be retried."))
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(EC)
                .where(EC.c.id == cell_id, EC.c.state.in_(RETRYABLE))
                .values(state=PENDING, error=None, text="", ended_at=None)
            )
            if done.rowcount:
                conn.execute(
                    sa.update(RN)
                    .where(RN.c.id == run.id)
                    .values(ended_at=None, stop_requested=False)
                )
        return self.cell(cell_id)

    def finish_if_settled(self, run_id: str) -> bool:
        """Mark the run ended when no answer is pending or running; True if it ended now."""
        with self.store.transaction(write=True) as conn:
            busy = conn.execute(
                sa.select(sa.func.count())
                .select_from(EC)
                .where(EC.c.run_id == run_id, EC.c.state.in_((PENDING, RUNNING)))
            ).scalar_one()
            if busy:
                return False
            done = conn.execute(
                sa.update(RN)
                .where(RN.c.id == run_id, RN.c.ended_at.is_(None))
                .values(ended_at=self.store.now())
            )
        return bool(done.rowcount)

    # ---------------------------------------------------------------- cells

    def cells(self, run_id: str, states: Iterable[str] | None = None) -> list[Cell]:
        """A run's cells, prompt by prompt, bot by bot (only `states` when given)."""
        stmt = sa.select(EC).where(EC.c.run_id == run_id)
        if states is not None:
            stmt = stmt.where(EC.c.state.in_(tuple(states)))
        stmt = stmt.order_by(EC.c.prompt_index, EC.c.bot_index)
        with self.store.transaction() as conn:
            return [_to_cell(r) for r in conn.execute(stmt).mappings()]

    def cell(self, cell_id: str) -> Cell:
        with self.store.transaction() as conn:
            row = conn.execute(sa.select(EC).where(EC.c.id == cell_id)).mappings().first()
        if row is None:
            raise EvaluationNotFound()
        return _to_cell(row)

    def count_running(self) -> int:
        """Answers of every run being written now (the runners' share of the slots)."""
        stmt = sa.select(sa.func.count()).select_from(EC).where(EC.c.state == RUNNING)
        with self.store.transaction() as conn:
            return int(conn.execute(stmt).scalar_one())

    def claim(self, cell_id: str) -> bool:
        """Take a pending cell to start it (one process wins); False if it was not pending."""
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(EC)
                .where(EC.c.id == cell_id, EC.c.state == PENDING)
                .values(
                    state=RUNNING,
                    attempts=EC.c.attempts + 1,
                    started_at=self.store.now(),
                    conversation_id=None,
                    answer_id=None,
                )
            )
        return bool(done.rowcount)

    def started(self, cell_id: str, conversation_id: str, answer_id: str | None) -> None:
        """The cell's answer was sent: where to follow it."""
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.update(EC)
                .where(EC.c.id == cell_id)
                .values(conversation_id=conversation_id, answer_id=answer_id)
            )

    def ended(
        self,
        cell_id: str,
        state: str,
        *,
        text: str = "",
        error: str | None = None,
        first_words_s: float | None = None,
        total_s: float | None = None,
    ) -> None:
        """The cell's answer ended: `DONE` (its text, words and times), `FAILED`
        (the reason) or `CANCELLED`."""
        words = len(text.split()) if state == DONE else None
        with self.store.transaction(write=True) as conn:
            conn.execute(
                sa.update(EC)
                .where(EC.c.id == cell_id, EC.c.state == RUNNING)
                .values(
                    state=state,
                    text=text,
                    error=error,
                    words=words,
                    first_words_s=first_words_s,
                    total_s=total_s,
                    ended_at=self.store.now(),
                )
            )

    def fail_unstarted(self, older_than: timedelta, reason: str) -> int:
        """Fail cells claimed more than `older_than` ago whose answer was never
        sent (the process that claimed them died in between); how many."""
        now = self.store.now()
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(EC)
                .where(
                    EC.c.state == RUNNING,
                    EC.c.answer_id.is_(None),
                    EC.c.started_at < now - older_than,
                )
                .values(state=FAILED, error=reason, ended_at=now)
            )
        return int(done.rowcount)

    def cancel_pending(self, run_id: str, reason: str) -> int:
        """Cancel every pending cell of the run with `reason`; how many."""
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(EC)
                .where(EC.c.run_id == run_id, EC.c.state == PENDING)
                .values(state=CANCELLED, error=reason, ended_at=self.store.now())
            )
        return int(done.rowcount)

    def refuse_pending(self, run_id: str, bot_index: int, reason: str) -> int:
        """Mark the run's pending cells of bot `bot_index` `REFUSED` with
        `reason` (its owner may no longer use that bot); how many."""
        with self.store.transaction(write=True) as conn:
            done = conn.execute(
                sa.update(EC)
                .where(EC.c.run_id == run_id, EC.c.bot_index == bot_index, EC.c.state == PENDING)
                .values(state=REFUSED, error=reason, ended_at=self.store.now())
            )
        return int(done.rowcount)

    def answer_state(self, answer_id: str) -> tuple[AnswerStatus, str, str | None] | None:
        """The stored answer's (status, text, error), or None when it is gone."""
        stmt = sa.select(M.c.status, M.c.text, M.c.error).where(M.c.id == answer_id)
        with self.store.transaction() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return AnswerStatus(row[0]), row[1] or "", row[2]

    # -------------------------------------------------------------- ratings

    def rate(
        self,
        rater: str,
        run_id: str,
        prompt_index: int,
        scores: dict[str, int | None],
        best: str | None,
    ) -> None:
        """The member's ratings of one prompt's answers, all at once: `scores`
        maps each answered cell of the prompt to 1-5 (None: not scored),
        `best` the cell picked best of the set (or None). At least a score or
        a best pick. `AlreadyRated` when the member rated any of them before
        (nothing is written); EvaluationError for cells not of the prompt or
        scores out of range."""
        cells = {
            c.id: c for c in self.cells(run_id, states=(DONE,)) if c.prompt_index == prompt_index
        }
        if not cells:
            raise EvaluationError(_("This prompt has no answers to rate yet."))
        if set(scores) - set(cells) or (best is not None and best not in cells):
            raise EvaluationError(_("Those answers are not this prompt's."))
        if any(s is not None and not 1 <= s <= 5 for s in scores.values()):
            raise EvaluationError(_("Ratings go from 1 to 5."))
        if best is None and all(s is None for s in scores.values()):
            raise EvaluationError(_("Rate at least one answer, or pick the best one."))
        now = self.store.now()
        rows = [
            {
                "id": str(uuid.uuid4()),
                "run_id": run_id,
                "cell_id": cell_id,
                "prompt_index": prompt_index,
                "rater": rater,
                "score": scores.get(cell_id),
                "best": cell_id == best,
                "created_at": now,
            }
            for cell_id in cells
        ]
        try:
            with self.store.transaction(write=True) as conn:
                conn.execute(sa.insert(ER), rows)
        except IntegrityError as err:
            raise AlreadyRated() from err

    def ratings(self, run_id: str) -> list[Rating]:
        """Every rating of the run (who rated what)."""
        stmt = (
            sa.select(ER.c.cell_id, ER.c.prompt_index, ER.c.rater, ER.c.score, ER.c.best)
            .where(ER.c.run_id == run_id)
            .order_by(ER.c.prompt_index, ER.c.rater, ER.c.cell_id)
        )
        with self.store.transaction() as conn:
            return [Rating(r[0], r[1], r[2], r[3], bool(r[4])) for r in conn.execute(stmt)]

    def rated_prompts(self, run_id: str, rater: str) -> set[int]:
        """The prompts (indexes) the member has rated in the run."""
        stmt = (
            sa.select(ER.c.prompt_index)
            .where(ER.c.run_id == run_id, ER.c.rater == rater)
            .distinct()
        )
        with self.store.transaction() as conn:
            return {int(i) for i in conn.execute(stmt).scalars()}
