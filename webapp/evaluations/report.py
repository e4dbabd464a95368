"""A run's report: per bot, how the team rated its answers and how they ran.

Per bot (`BotRow`): the mean 1-5 rating and its spread (the sample standard
deviation), how many ratings, the share of rated prompts where it was best,
the mean time to first words and total time (seconds, from the request, as
measured by the run), the mean length in words, and how many of its answers
failed. Below, the raters' agreement (`webapp.evaluations.agreement`).

"Best on a prompt": each rater names the answer they picked best of the set,
or, without a pick, the answer(s) they scored highest; the bot(s) named by
most raters win the prompt (a tie counts for each). The share is prompts won
/ prompts rated.

`compare_runs` gives the change per bot against an earlier run of the same
set. Exports: Markdown (`to_markdown`) and CSV rows safe for spreadsheets
(`csv_text`, through `webapp.text.csv_safe`). No Streamlit here.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from webapp.evaluations.agreement import Agreement, agreement
from webapp.evaluations.model import DONE, FAILED, Cell, Rating, Run, progress_of
from webapp.text.csv_safe import csv_bytes


@dataclass(frozen=True, slots=True)
class BotRow:
    """One bot's line of the report (None where nothing was measured)."""

    bot: str
    slug: str
    mean_rating: float | None
    spread: float | None
    ratings: int
    best_share: float | None
    first_words_s: float | None
    total_s: float | None
    words: float | None
    answers: int
    failed: int
    change: float | None = None  # mean rating minus the earlier run's (same set)


@dataclass(frozen=True, slots=True)
class Report:
    """A run's report: its bots' rows, the agreement, the failures, the raters."""

    run_name: str
    created_at: str
    prompts: int
    answers: int
    failed: int
    raters: tuple[str, ...]
    rated_prompts: int
    rows: tuple[BotRow, ...]
    agreement: Agreement
    compared_to: str | None = None  # the earlier run's date, when changes are shown
    refused: int = 0  # answers not asked: a bot the run's owner may no longer use


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _best_by_prompt(
    run: Run, cells: Sequence[Cell], ratings: Sequence[Rating]
) -> dict[int, set[int]]:
    """Prompt index -> the bot indexes that won it (see the module)."""
    bot_of = {c.id: c.bot_index for c in cells}
    by_rater: dict[tuple[int, str], list[Rating]] = defaultdict(list)
    for r in ratings:
        if r.cell_id in bot_of:
            by_rater[(r.prompt_index, r.rater)].append(r)
    named: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (prompt, _), own in by_rater.items():
        picked = [r for r in own if r.best]
        if not picked:
            scored = [r for r in own if r.score is not None]
            top = max((r.score or 0 for r in scored), default=None)
            picked = [r for r in scored if r.score == top]
        for r in picked:
            named[prompt][bot_of[r.cell_id]] += 1
    return {
        prompt: {bot for bot, n in counts.items() if n == max(counts.values())}
        for prompt, counts in named.items()
    }


def build_report(run: Run, cells: Sequence[Cell], ratings: Sequence[Rating]) -> Report:
    """The report of `run` from its cells and ratings."""
    bot_of = {c.id: c.bot_index for c in cells}
    winners = _best_by_prompt(run, cells, ratings)
    rated_prompts = len(winners)
    rows = []
    for index, bot in enumerate(run.bots):
        own = [c for c in cells if c.bot_index == index]
        done = [c for c in own if c.state == DONE]
        scores = [
            float(r.score)
            for r in ratings
            if r.score is not None and bot_of.get(r.cell_id) == index
        ]
        won = sum(1 for bots in winners.values() if index in bots)
        rows.append(
            BotRow(
                bot=run.bot_label(index),
                slug=bot.slug,
                mean_rating=_mean(scores),
                spread=statistics.stdev(scores) if len(scores) > 1 else None,
                ratings=len(scores),
                best_share=won / rated_prompts if rated_prompts else None,
                first_words_s=_mean([c.first_words_s for c in done if c.first_words_s is not None]),
                total_s=_mean([c.total_s for c in done if c.total_s is not None]),
                words=_mean([float(c.words) for c in done if c.words is not None]),
                answers=len(done),
                failed=sum(1 for c in own if c.state == FAILED),
            )
        )
    scored = {(r.rater, r.cell_id): r.score for r in ratings if r.score is not None}
    progress = progress_of(cells)
    return Report(
        run_name=run.name,
        created_at=f"{run.created_at:%Y-%m-%d %H:%M} UTC",
        prompts=len(run.prompts),
        answers=progress.done,
        failed=progress.failed,
        refused=progress.refused,
        raters=tuple(sorted({r.rater for r in ratings})),
        rated_prompts=rated_prompts,
        rows=tuple(rows),
        agreement=agreement(scored),
    )


def compare_runs(report: Report, earlier: Report) -> Report:
    """`report` with each bot's change in mean rating since `earlier` (same
    set; bots matched by slug; None where either has no rating)."""
    before = {row.slug: row.mean_rating for row in earlier.rows}
    rows = []
    for row in report.rows:
        old = before.get(row.slug)
        change = None if old is None or row.mean_rating is None else row.mean_rating - old
        rows.append(_with_change(row, change))
    return Report(**{**_fields(report), "rows": tuple(rows), "compared_to": earlier.created_at})


def _with_change(row: BotRow, change: float | None) -> BotRow:
    values = asdict(row)
    values["change"] = change
    return BotRow(**values)


def _fields(report: Report) -> dict[str, Any]:
    return {name: getattr(report, name) for name in Report.__dataclass_fields__}


# ------------------------------------------------------------------ exports


def _num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{suffix}"


def _pct(value: float | None) -> str:
    # Rounded down, like every percentage the app shows (0.998 is not "100%").
    return "–" if value is None else f"{math.floor(value * 100)}%"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def table_rows(report: Report) -> list[dict[str, Any]]:
    """The bots' rows as a table (the page's dataframe and the CSV)."""
    rows = []
    for row in report.rows:
        line: dict[str, Any] = {
            "Bot": row.bot,
            "Mean rating": None if row.mean_rating is None else round(row.mean_rating, 2),
            "Spread (SD)": None if row.spread is None else round(row.spread, 2),
            "Ratings": row.ratings,
            "Best on prompts": None if row.best_share is None else round(row.best_share, 3),
            "First words (s)": None if row.first_words_s is None else round(row.first_words_s, 2),
            "Total time (s)": None if row.total_s is None else round(row.total_s, 2),
            "Length (words)": None if row.words is None else round(row.words, 1),
            "Answers": row.answers,
            "Failed": row.failed,
        }
        if report.compared_to is not None:
            line["Change in mean rating"] = None if row.change is None else round(row.change, 2)
        rows.append(line)
    return rows


def csv_text(report: Report) -> str:
    """The report's table as CSV (`csv_safe.csv_bytes`: every text cell safe
    from spreadsheet formulas); '' when there are no rows."""
    rows = table_rows(report)
    if not rows:
        return ""
    return csv_bytes(pd.DataFrame(rows)).decode("utf-8")


def _cell(text: str) -> str:
    """Text in a Markdown table cell: pipes and line breaks cannot break the row."""
    return " ".join(text.split()).replace("|", "\\|")


def to_markdown(report: Report) -> str:
    """The report as a Markdown document (headers, the bots' table, the agreement)."""
    lines = [
        f"# Evaluation: {_cell(report.run_name)}",
        "",
        f"- Run: {report.created_at}",
        f"- Prompts: {report.prompts}; answers: {report.answers}; failed: {report.failed}"
        + (f"; refused (bot not allowed): {report.refused}" if report.refused else ""),
        f"- Rated prompts: {report.rated_prompts}; raters: {len(report.raters)}",
        f"- Agreement: {report.agreement.reading}",
    ]
    if report.compared_to:
        lines.append(f"- Change: against the run of {report.compared_to}")
    header = (
        "| Bot | Mean rating | Spread | Ratings | Best | First words | Total | Words | Failed |"
    )
    if report.compared_to:
        header += " Change |"
    lines += ["", header, "|" + "---|" * (header.count("|") - 1)]
    for row in report.rows:
        line = (
            f"| {_cell(row.bot)} | {_num(row.mean_rating, 2)} | {_num(row.spread, 2)} | "
            f"{row.ratings} | {_pct(row.best_share)} | {_num(row.first_words_s, 1, ' s')} | "
            f"{_num(row.total_s, 1, ' s')} | {_num(row.words, 0)} | {row.failed} |"
        )
        if report.compared_to:
            line += f" {_signed(row.change)} |"
        lines.append(line)
    return "\n".join(lines) + "\n"
