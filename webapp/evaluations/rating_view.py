"""The Evaluations page's rating and report: blind rating prompt by prompt,
the run's report with its exports and share link, and a shared report.

Blind: a rater sees a prompt's answers in their own stable order
(`webapp.evaluations.blind`), without bot names (in the text too), rates each
1 to 5 and may pick the best of the set; only then are the bots and the
team's ratings of that prompt shown. The report's ratings are shown to a
member once they have rated every prompt there is to rate (before that, the
run's own figures only), so nobody rates knowing the team's verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pandas as pd
import streamlit as st

from webapp import render
from webapp.auth.guard import member_action
from webapp.backend import get_store
from webapp.chat import open_chat as chat
from webapp.evaluations.blind import answer_order, mask_names
from webapp.evaluations.model import DONE, Cell, EvaluationError, EvaluationNotFound, Run
from webapp.evaluations.report import (
    Report,
    build_report,
    compare_runs,
    csv_text,
    table_rows,
    to_markdown,
)
from webapp.evaluations.shares import ReportNotAvailable, ReportShares, report_path
from webapp.evaluations.view import FLASH_AREA, get_evaluations
from webapp.team import Member
from webapp.text import csv_safe
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import N_, _, column_labels, ngettext
from webapp.ui.member import current_member
from webapp.ui.state import Keys

SCORES: Final = ["1", "2", "3", "4", "5"]
NO_BEST: Final = N_("No pick")
RATING_COLUMNS: Final = ("Mean rating", "Spread (SD)", "Ratings", "Best on prompts")
# The report table's headers (`report.table_rows`' columns, which the CSV keeps).
REPORT_LABELS: Final = {
    "Bot": N_("Bot"),
    "Mean rating": N_("Mean rating"),
    "Spread (SD)": N_("Spread (SD)"),
    "Ratings": N_("Ratings"),
    "Best on prompts": N_("Best on prompts"),
    "First words (s)": N_("First words (s)"),
    "Total time (s)": N_("Total time (s)"),
    "Length (words)": N_("Length (words)"),
    "Answers": N_("Answers"),
    "Failed": N_("Failed"),
    "Change in mean rating": N_("Change in mean rating"),
}
# The rated prompts' tables.
REVEALED_LABELS: Final = {
    "Bot": N_("Bot"),
    "Your rating": N_("Your rating"),
    "Your best": N_("Your best"),
    "Team's ratings": N_("Team's ratings"),
}


def _notice(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


# ------------------------------------------------------------- callbacks


@member_action(FLASH_AREA)
def rate_prompt(run_id: str, prompt_index: int, order: tuple[str, ...]) -> None:
    """Save the member's ratings of one prompt (once: a replay is refused)."""
    state = st.session_state
    scores: dict[str, int | None] = {}
    for cell_id in order:
        picked = state.get(Keys.evals_score(cell_id))
        scores[cell_id] = int(picked) if picked else None
    best_label = state.get(Keys.evals_best(run_id, prompt_index))
    best = None
    if best_label and best_label != NO_BEST:
        best = order[int(best_label.split()[-1]) - 1]
    try:
        get_evaluations().rate(current_member().username, run_id, prompt_index, scores, best)
    except EvaluationError as err:
        _notice("warning", str(err))
    except chat.DATABASE_ERRORS:
        _notice("error", _("Your ratings could not be saved; try again."))


@member_action(FLASH_AREA)
def share_report(run_id: str) -> None:
    """A read-only link to the run's report as it is now."""
    member = current_member()
    evaluations = get_evaluations()
    try:
        run = evaluations.run(run_id)
    except EvaluationNotFound:
        _notice("error", _("That run no longer exists."))
        return
    if run.owner != member.username:
        _notice("error", _("Only the member who started a run can share its report."))
        return
    ReportShares(get_store()).share(member, run_id, report_for(run))
    _notice("success", _("Share link made: anyone of the team with it can read the report."))


@member_action(FLASH_AREA)
def revoke_share(token: str) -> None:
    if ReportShares(get_store()).revoke(current_member(), token):
        _notice("info", _("That link no longer opens the report."))


# ---------------------------------------------------------------- rating


def ratable_prompts(cells: Sequence[Cell]) -> list[int]:
    """Prompts whose answers have all ended, with at least one answer to rate."""
    by_prompt: dict[int, list[Cell]] = {}
    for cell in cells:
        by_prompt.setdefault(cell.prompt_index, []).append(cell)
    return [
        p
        for p, own in sorted(by_prompt.items())
        if all(c.ended for c in own) and any(c.state == DONE for c in own)
    ]


def render_rating(run: Run, member: Member) -> None:
    """The member's next prompt to rate, then what they rated, revealed."""
    evaluations = get_evaluations()
    cells = evaluations.cells(run.id)
    ratable = ratable_prompts(cells)
    rated = evaluations.rated_prompts(run.id, member.username)
    todo = [p for p in ratable if p not in rated]
    st.caption(
        _(
            "You have rated {rated} of {prompts} prompts. Answers are shown in "
            "a random order, without the bots' names."
        ).format(rated=len(rated), prompts=len(run.prompts))
    )
    if todo:
        _render_prompt_form(run, cells, todo[0], member)
    elif len(ratable) < len(run.prompts) and run.active:
        st.info(_("The next prompts are still being answered: come back in a moment."))
    else:
        st.success(_("You have rated every prompt of this run."))
    if rated:
        _render_revealed(run, cells, sorted(rated), member)


def _render_prompt_form(run: Run, cells: Sequence[Cell], prompt: int, member: Member) -> None:
    answered = [c for c in cells if c.prompt_index == prompt and c.state == DONE]
    order = answer_order(answered, run.id, prompt, member.username)
    names = [n for b in run.bots for n in (b.name, b.slug)]
    st.markdown(
        _("**Prompt {value} of {prompts}**").format(value=prompt + 1, prompts=len(run.prompts))
    )
    st.markdown(render.prompt_html(run.prompts[prompt]), unsafe_allow_html=True)
    with st.form(f"evals_rate_{run.id}_{prompt}", border=False):
        for number, cell in enumerate(order, start=1):
            with st.container(border=True):
                st.markdown(_("**Answer {number}**").format(number=number))
                st.markdown(
                    render.answer_html(mask_names(cell.text, names)), unsafe_allow_html=True
                )
                st.segmented_control(
                    _("Your rating of answer {number} (1 poor, 5 excellent)").format(number=number),
                    SCORES,
                    key=Keys.evals_score(cell.id),
                )
        st.radio(
            _("Best of the set (optional)"),
            [NO_BEST, *[f"Answer {n}" for n in range(1, len(order) + 1)]],
            horizontal=True,
            key=Keys.evals_best(run.id, prompt),
        )
        st.form_submit_button(
            _("Save my ratings"),
            type="primary",
            on_click=rate_prompt,
            args=(run.id, prompt, tuple(c.id for c in order)),
        )


def _render_revealed(
    run: Run, cells: Sequence[Cell], prompts: Sequence[int], member: Member
) -> None:
    """Each rated prompt's answers with their bots and everyone's ratings."""
    ratings = get_evaluations().ratings(run.id)
    with st.expander(
        _("Prompts you rated ({prompts}): the bots and the team's ratings").format(
            prompts=len(prompts)
        )
    ):
        for prompt in prompts:
            rows = []
            for cell in (c for c in cells if c.prompt_index == prompt and c.state == DONE):
                own = [r for r in ratings if r.cell_id == cell.id]
                mine = next((r for r in own if r.rater == member.username), None)
                rows.append(
                    {
                        "Bot": run.bot_label(cell.bot_index),
                        "Your rating": mine.score if mine else None,
                        "Your best": bool(mine and mine.best),
                        "Team's ratings": ", ".join(
                            f"{r.rater}: {r.score if r.score is not None else '–'}"
                            + (" (" + _("best") + ")" if r.best else "")
                            for r in own
                        ),
                    }
                )
            st.markdown(_("**Prompt {value}**").format(value=prompt + 1))
            st.dataframe(
                csv_safe.safe_frame(pd.DataFrame(rows)),
                hide_index=True,
                width="stretch",
                column_config=column_labels(REVEALED_LABELS),
            )


# ---------------------------------------------------------------- report


def report_for(run: Run) -> Report:
    """The run's report, with the change since the set's previous run if any."""
    evaluations = get_evaluations()
    report = build_report(run, evaluations.cells(run.id), evaluations.ratings(run.id))
    earlier = [r for r in evaluations.runs_of_set(run.set_id) if r.created_at < run.created_at]
    if earlier:
        previous = earlier[-1]
        before = build_report(
            previous, evaluations.cells(previous.id), evaluations.ratings(previous.id)
        )
        report = compare_runs(report, before)
    return report


def render_report_table(report: Report, *, ratings: bool = True) -> None:
    """The bots' table, the agreement's reading and the failures."""
    frame = pd.DataFrame(table_rows(report))
    if not ratings:
        frame = frame.drop(columns=[c for c in RATING_COLUMNS if c in frame])
        frame = frame.drop(columns=["Change in mean rating"], errors="ignore")
    st.dataframe(
        csv_safe.safe_frame(frame),
        hide_index=True,
        width="stretch",
        column_config=column_labels({k: v for k, v in REPORT_LABELS.items() if k in frame}),
    )
    if ratings:
        st.markdown(md.escape(report.agreement.reading))
        rated = ngettext(
            "{prompts} prompt rated by {raters} members",
            "{prompts} prompts rated by {raters} members",
            report.rated_prompts,
        ).format(prompts=report.rated_prompts, raters=len(report.raters))
        if report.raters:
            rated += " (" + ", ".join(md.escape(r) for r in report.raters) + ")"
        if report.compared_to:
            rated += _("; change against the run of {run}").format(run=report.compared_to)
        st.caption(rated + ".")
    if report.failed:
        failed = ngettext("{count} answer failed", "{count} answers failed", report.failed).format(
            count=report.failed
        )
    else:
        failed = _("no answer failed")
    if report.refused:
        caption = _(
            "{answers} answers of {prompts} prompts; {failed}; {refused} refused "
            "(a bot its owner may no longer use)."
        )
    else:
        caption = _("{answers} answers of {prompts} prompts; {failed}.")
    st.caption(
        caption.format(
            answers=report.answers,
            prompts=report.prompts,
            failed=failed,
            refused=report.refused,
        )
    )


def render_report(run: Run, member: Member) -> None:
    """The report; its ratings once the member rated every prompt to rate."""
    evaluations = get_evaluations()
    report = report_for(run)
    todo = [
        p
        for p in ratable_prompts(evaluations.cells(run.id))
        if p not in evaluations.rated_prompts(run.id, member.username)
    ]
    if todo:
        st.info(
            _(
                "The team's ratings show here once you have rated the {todo} "
                "prompts left for you (Rate), so your ratings stay your own."
            ).format(todo=len(todo))
        )
        render_report_table(report, ratings=False)
        return
    render_report_table(report)
    slug = "".join(ch if ch.isalnum() else "-" for ch in run.name.lower()).strip("-") or "run"
    left, right, share = st.columns(3)
    left.download_button(
        _("Markdown"),
        to_markdown(report),
        file_name=f"evaluation-{slug}.md",
        mime="text/markdown",
        icon=":material/download:",
        on_click="ignore",
    )
    right.download_button(
        _("CSV"),
        csv_text(report),
        file_name=f"evaluation-{slug}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )
    if run.owner == member.username:
        share.button(
            _("Share link"), icon=":material/share:", on_click=share_report, args=(run.id,)
        )
        for token in ReportShares(get_store()).tokens(member, run.id):
            link, revoke = st.columns([5, 1], vertical_alignment="center")
            link.code(report_path(token), language=None)
            revoke.button(
                _("Stop sharing"), key=f"evals_revoke_{token}", on_click=revoke_share, args=(token,)
            )


def render_shared(token: str) -> None:
    """A shared report, read-only (`?report=<token>`)."""
    try:
        report = ReportShares(get_store()).open(token)
    except ReportNotAvailable as err:
        st.warning(str(err), icon=":material/link_off:")
        return
    st.header(_("Evaluation: {run_name}").format(run_name=md.escape(report.run_name)))
    st.caption(
        _("Run of {created_at}; a read-only copy of its report.").format(
            created_at=report.created_at
        )
    )
    render_report_table(report)
