"""docs/reliability.md is exactly the table the tests declare (see tests/reliability.py)."""

from __future__ import annotations

from tests.reliability import DOC, collect, render


def test_the_reliability_table_matches_the_tests_that_prove_it() -> None:
    rows = collect()
    assert len(rows) >= 10, "every fault and race test should carry its row"
    expected = render(rows)
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/reliability.md is stale: run `python -m tests.reliability`"
    )
