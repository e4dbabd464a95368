"""The fault and race table of docs/reliability.md, kept with the tests that prove it.

A test that drives a fault or a race carries its row:

    @row("Stop during a slow first byte", happens="...", sees="...", kept="...")
    def test_stop_during_a_slow_first_byte_...(...): ...

`python -m tests.reliability` writes docs/reliability.md from every such test
(their modules are found by scanning tests/ for `@row(`), and
`tests/test_reliability_doc.py` fails when the committed file differs, so the
table always names tests that exist and say what they check.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reliability.md"
_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Row:
    case: str
    happens: str
    sees: str
    kept: str
    test: str  # module::function


ROWS: dict[str, Row] = {}


def row(case: str, *, happens: str, sees: str, kept: str) -> Callable[[_F], _F]:
    """Declare the table row a test proves (what happens, what the user sees, what is kept)."""

    def mark(test: _F) -> _F:
        where = f"{test.__module__.replace('.', '/')}.py::{test.__name__}"
        ROWS[where] = Row(case, happens, sees, kept, where)
        return test

    return mark


def collect() -> list[Row]:
    """Every row, from every test module that declares one (sorted by module, then case)."""
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if "@row(" in path.read_text(encoding="utf-8"):
            importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return sorted(ROWS.values(), key=lambda r: (r.test.split("::")[0], r.case))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render(rows: list[Row]) -> str:
    """The Markdown of docs/reliability.md."""
    lines = [
        "# Faults and races: what happens, what you see, what is kept",
        "",
        "Generated from the tests that prove each row (`python -m tests.reliability`);",
        "`tests/test_reliability_doc.py` fails when this file and the tests disagree.",
        "",
        "| Case | What happens | What the user sees | What is kept | Test |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        cells = (r.case, r.happens, r.sees, r.kept, f"`{r.test}`")
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    # The test modules register with `tests.reliability`, not with this `__main__`.
    from tests import reliability

    rows = reliability.collect()
    DOC.write_text(reliability.render(rows), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)} ({len(rows)} rows)")
