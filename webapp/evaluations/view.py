"""The Evaluations page's widgets around a run: the page's session, the
process's runner (`get_runner`), the run picker, starting a run once its cost is checked
against the member's budget, the run's progress and grid (live), Stop, a
failed answer's Retry, and "Run again". The setup of a new run is in
`webapp.evaluations.setup_view`; rating and the report in `.rating_view`.

Rendering and callbacks only: the rules are in the package's other modules.
Every callback is a `member_action` (or a `view_action` for what only this
session shows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd
import streamlit as st

from webapp.auth.guard import member_action, view_action
from webapp.backend import get_answers, get_store
from webapp.budgets import view as budgets_view
from webapp.chat import open_chat as chat
from webapp.evaluations.model import (
    CANCELLED,
    DONE,
    FAILED,
    REFUSED,
    RETRYABLE,
    RUNNING,
    EvalSet,
    EvaluationError,
    EvaluationNotFound,
    Run,
    RunBot,
    cost_refusal,
    estimate_run_words,
    progress_of,
)
from webapp.evaluations.runner import EvaluationRunner, runner_for
from webapp.evaluations.store import Evaluations
from webapp.groups.store import access_for
from webapp.text import csv_safe
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import N_, _, column_labels, ngettext
from webapp.ui.member import current_member
from webapp.ui.session import page_state
from webapp.ui.state import Keys

FLASH_AREA: Final = "evals"  # where the page's notices wait (`webapp.ui.flash`)
RUN_PARAM: Final = "run"  # the query parameter naming the open run
REFRESH_EVERY: Final = 1.0  # seconds between redraws of a running run's progress
STATE_MARKS: Final = {
    "pending": N_("· waiting"),
    RUNNING: N_("… writing"),
    DONE: "✓",
    FAILED: N_("✗ failed"),
    CANCELLED: N_("– not started"),
    REFUSED: N_("⊘ refused"),
}


@dataclass
class EvalSession:
    """What the Evaluations page keeps between runs besides its widgets."""

    open_run: str | None = None  # the run shown; None: the setup of a new run
    draft: list[str] = field(default_factory=list)  # a new set's prompts so far


def session() -> EvalSession:
    """This session's Evaluations page state."""
    return page_state(Keys.EVALS, EvalSession)


def get_evaluations() -> Evaluations:
    return Evaluations(get_store())


def get_runner() -> EvaluationRunner:
    """The process's runner (started with its answer service, `webapp.backend`)."""
    return runner_for(get_answers())


def _notice(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


def show_notice() -> None:
    """The last action's outcome, once."""
    flash.show(FLASH_AREA)


# ------------------------------------------------------------- callbacks


def _affordable(member: Any, prompts: int, bots: Sequence[RunBot]) -> str | None:
    """The refusal when the run's estimate does not fit the member's budget."""
    try:
        status = budgets_view.status_for(member)
    except chat.DATABASE_ERRORS:
        return _("Your budget could not be read; try again in a moment.")
    return cost_refusal(estimate_run_words(prompts, bots), status)


def _forbidden(member: Any, bots: Sequence[RunBot]) -> str | None:
    """The refusal when the member may not use some of `bots` (their groups)."""
    try:
        access = access_for(get_store().engine, member.username)
    except chat.DATABASE_ERRORS:
        return _("Your groups could not be read; try again in a moment.")
    barred = [md.escape(b.label) for b in bots if not access.allows(b.slug)]
    if not barred:
        return None
    return _("Nothing was started: {why} Pick other bots.").format(
        why=access.why_not(", ".join(barred))
    )


def launch(eval_set: EvalSet, bots: Sequence[RunBot]) -> None:
    """Start a run of `eval_set` by `bots` for the acting member (a callback's
    helper): refused with a notice when a bot is one the member may not use,
    its estimate does not fit the budget or the bots break the limits; else
    saved, the runner woken, the run opened."""
    member = current_member()
    refusal = _forbidden(member, bots) or _affordable(member, len(eval_set.prompts), bots)
    if refusal:
        _notice("error", refusal)
        return
    try:
        run = get_evaluations().create_run(member, eval_set, bots)
    except EvaluationError as err:
        _notice("error", str(err))
        return
    except chat.DATABASE_ERRORS:
        _notice("error", _("The run could not be saved; nothing was started. Try again."))
        return
    get_runner().wake()
    session().open_run = run.id


@member_action(FLASH_AREA)
def run_again(run_id: str) -> None:
    """The same prompts and bots once more; both runs are kept."""
    try:
        run = get_evaluations().run(run_id)
    except EvaluationNotFound:
        _notice("error", _("That run no longer exists."))
        return
    same = EvalSet(run.set_id, run.owner, run.name, run.prompts, run.created_at, run.created_at)
    launch(same, run.bots)


@member_action(FLASH_AREA)
def stop_run(run_id: str) -> None:
    try:
        cancelled = get_evaluations().stop(current_member(), run_id)
    except EvaluationNotFound:
        _notice("error", _("Only the member who started a run can stop it."))
        return
    get_runner().wake()
    _notice(
        "info",
        ngettext(
            "Stopped: {count} answer that had not started was cancelled.",
            "Stopped: {count} answers that had not started were cancelled.",
            cancelled,
        ).format(count=cancelled),
    )


@member_action(FLASH_AREA)
def retry_cell(cell_id: str) -> None:
    try:
        get_evaluations().retry(current_member(), cell_id)
    except EvaluationNotFound:
        _notice("error", _("Only the member who started a run can retry its answers."))
        return
    except EvaluationError as err:
        _notice("error", str(err))
        return
    get_runner().wake()


def picker_key(open_run: str | None) -> str:
    """The run picker's key: one per open run, so the picker always shows the
    run that is open (a run started or reopened elsewhere) without writing
    to a widget's state."""
    return f"{Keys.EVALS_RUN}_{open_run or 'new'}"


@view_action
def open_picked_run(key: str) -> None:
    picked = st.session_state.get(key)
    if picked:
        session().open_run = picked


@view_action
def new_run() -> None:
    session().open_run = None


# ---------------------------------------------------------------- drawing


def render_run_picker(runs: Sequence[Run]) -> None:
    """The team's runs to open, newest first, and "New evaluation"."""
    # Each label unique and fixed for the run's life (Streamlit may send back
    # the label picked: two alike, or one that changed, would open another run).
    labels: dict[str, str] = {}
    for r in runs:
        label = f"{r.name} · {r.created_at:%Y-%m-%d %H:%M:%S} · {r.owner}"
        while label in labels.values():
            label += " ·"
        labels[r.id] = label
    open_run = session().open_run
    key = picker_key(open_run)
    ids = list(labels)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    left.selectbox(
        _("Open a run"),
        ids,
        index=ids.index(open_run) if open_run in labels else None,
        format_func=lambda run_id: labels.get(run_id, "A run"),
        placeholder=_("The team's runs…") if runs else _("No runs yet"),
        key=key,
        on_change=open_picked_run,
        args=(key,),
    )
    right.button(_("New evaluation"), icon=":material/add:", on_click=new_run)


def grid_frame(run: Run, cells: Sequence[Any]) -> pd.DataFrame:
    """Prompt x bot: each answer's state (its words, or why it failed)."""
    rows = []
    for index, prompt in enumerate(run.prompts):
        row: dict[str, str] = {"Prompt": f"{index + 1}. {prompt[:80]}"}
        for cell in (c for c in cells if c.prompt_index == index):
            # No lengths here: a rater could match them to the blind answers.
            mark = _(STATE_MARKS.get(cell.state, cell.state))
            if cell.state in RETRYABLE and cell.error:
                mark = f"{mark}: {cell.error[:120]}"
            row[run.bot_label(cell.bot_index)] = mark
        rows.append(row)
    return pd.DataFrame(rows)


def render_progress(run_id: str, drawn_active: bool = False) -> None:
    """The run's progress, grid, failures with Retry, and Stop (owner).
    `drawn_active`: the page was drawn while the run was active; once it has
    ended, the whole page reruns so the Rate and Report tabs catch up."""
    evaluations = get_evaluations()
    try:
        run = evaluations.run(run_id)
    except EvaluationNotFound:
        st.warning(_("That run no longer exists."))
        return
    if drawn_active and not run.active:
        st.rerun()
    cells = evaluations.cells(run.id)
    progress = progress_of(cells)
    mine = run.owner == current_member().username
    st.progress(progress.ended / max(progress.total, 1), text=progress.caption())
    if run.active and mine and not run.stop_requested:
        st.button(
            _("Stop"), icon=":material/stop:", key="evals_stop", on_click=stop_run, args=(run.id,)
        )
    elif run.active:
        st.caption(_("Running in the background: you can close this tab."))
    st.dataframe(
        csv_safe.safe_frame(grid_frame(run, cells)),
        hide_index=True,
        width="stretch",
        column_config=column_labels({"Prompt": N_("Prompt")}),  # the others: the bots
    )
    failed = [c for c in cells if c.state in RETRYABLE]
    for cell in failed:
        left, right = st.columns([6, 1], vertical_alignment="center")
        left.markdown(
            _("Prompt {value}, {label}: {value2}").format(
                value=cell.prompt_index + 1,
                label=md.escape(run.bot_label(cell.bot_index)),
                value2=md.escape(cell.error or "failed"),
            )
        )
        if mine:
            right.button(
                _("Retry"),
                key=f"evals_retry_{cell.id}",
                icon=":material/refresh:",
                on_click=retry_cell,
                args=(cell.id,),
            )


def render_live_progress(run: Run) -> None:
    """`render_progress` in a fragment redrawn every second while the run is active."""
    every = REFRESH_EVERY if run.active else None
    st.fragment(render_progress, run_every=every)(run.id, run.active)
