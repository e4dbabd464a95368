"""A run's report from cells and ratings: per bot mean and spread, best
share, measured times and lengths, failures, change since an earlier run,
and exports (Markdown, spreadsheet-safe CSV, a share snapshot)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pg import BACKENDS, db_url_on
from webapp.conversations.context import ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.evaluations.model import DONE, FAILED, Cell, Rating, Run, RunBot
from webapp.evaluations.report import build_report, compare_runs, csv_text, to_markdown
from webapp.evaluations.shares import ReportNotAvailable, ReportShares

BOTS = (
    RunBot("omni", "Omni", ConversationOptions()),
    RunBot("chef", "=HYPERLINK(1)", ConversationOptions()),
)


def _run(name: str = "Kitchen") -> Run:
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    return Run("r1", "s1", "ann", 42, name, ("p0", "p1"), BOTS, False, when, when)


def _cells() -> list[Cell]:
    def cell(p: int, b: int, words: int, first: float, state: str = DONE) -> Cell:
        text = " ".join(["w"] * words) if state == DONE else ""
        return Cell(
            f"c{p}{b}", "r1", p, b, state, None, None, text, None, first, first * 4, words, 1
        )

    return [cell(0, 0, 10, 0.5), cell(0, 1, 30, 1.0), cell(1, 0, 20, 1.5), cell(1, 1, 0, 0, FAILED)]


def _ratings() -> list[Rating]:
    return [
        Rating("c00", 0, "ann", 5, True),
        Rating("c01", 0, "ann", 3, False),
        Rating("c00", 0, "bob", 4, False),
        Rating("c01", 0, "bob", 4, False),  # a tie at the top: both named best by bob
        Rating("c10", 1, "ann", 2, False),
    ]


def test_per_bot_figures_come_from_the_ratings_and_the_measured_run() -> None:
    report = build_report(_run(), _cells(), _ratings())
    omni, chef = report.rows
    assert omni.mean_rating == pytest.approx((5 + 4 + 2) / 3)
    assert omni.spread == pytest.approx(1.5275, abs=1e-3)
    assert chef.mean_rating == pytest.approx(3.5) and chef.ratings == 2
    # Prompt 0: ann picked omni, bob scored both top -> omni named twice, chef once.
    # Prompt 1: only omni was answered and rated.
    assert omni.best_share == 1.0 and chef.best_share == 0.0
    assert omni.words == 15 and chef.words == 30
    assert omni.first_words_s == pytest.approx(1.0) and omni.total_s == pytest.approx(4.0)
    assert (omni.failed, chef.failed, report.failed, report.answers) == (0, 1, 1, 3)
    assert report.raters == ("ann", "bob") and report.rated_prompts == 2


def test_two_bots_sharing_a_name_keep_apart_in_the_report_and_the_run() -> None:
    # Found by a new user: two "Omni" bots could not be told apart in a run.
    twins = (
        RunBot("omni", "Omni", ConversationOptions()),
        RunBot("omni-fast", "Omni", ConversationOptions()),
    )
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    run = Run("r1", "s1", "ann", 42, "Twins", ("p0", "p1"), twins, False, when, when)
    assert [run.bot_label(i) for i in range(2)] == ["Omni (omni)", "Omni (omni-fast)"]
    rows = build_report(run, _cells(), _ratings()).rows
    assert [row.bot for row in rows] == ["Omni (omni)", "Omni (omni-fast)"]
    assert _run().bot_label(0) == "Omni", "a name of its own stays as it is"


def test_a_rerun_shows_the_change_per_bot() -> None:
    earlier = build_report(_run(), _cells(), [Rating("c00", 0, "ann", 2, False)])
    later = compare_runs(build_report(_run(), _cells(), _ratings()), earlier)
    assert later.rows[0].change == pytest.approx((5 + 4 + 2) / 3 - 2)
    assert later.rows[1].change is None  # no earlier rating to compare with
    assert later.compared_to == earlier.created_at
    assert "Change in mean rating" in csv_text(later)


def test_exports_keep_names_as_text() -> None:
    report = build_report(_run("A | B\nrun"), _cells(), _ratings())
    rows = list(csv.DictReader(io.StringIO(csv_text(report))))
    assert [r["Bot"] for r in rows] == ["Omni", "'=HYPERLINK(1)"]
    assert rows[1]["Failed"] == "1"
    markdown = to_markdown(report)
    assert markdown.startswith("# Evaluation: A \\| B run\n")
    assert "| Omni | 3.67 | 1.53 | 3 | 100% |" in markdown
    assert "failed: 1" in markdown and "Not enough ratings" not in markdown


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with db_url_on(request.param, tmp_path, "reports") as url, ConversationStore(url) as opened:
        yield opened


def test_a_share_link_shows_the_snapshot_until_revoked(store: ConversationStore) -> None:
    class Ann:
        username, user_id = "ann", 42

    shares = ReportShares(store)
    report = build_report(_run(), _cells(), _ratings())
    token = shares.share(Ann(), "r1", report)
    assert shares.open(token) == report
    assert shares.tokens(Ann(), "r1") == [token]
    assert shares.revoke(Ann(), token)
    with pytest.raises(ReportNotAvailable):
        shares.open(token)
    with pytest.raises(ReportNotAvailable):
        shares.open("not-a-token")
