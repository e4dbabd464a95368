"""Monthly budgets: a limit per member (words or tokens) with a team default.

- `webapp.budgets.book`: the limits, in the database (migration v8).
- `webapp.budgets.count`: the month's usage (API figure + this app's answers
  since + answers in flight at their estimate) and the status (ok, warning
  at 80%, exhausted at 100%).
- `webapp.budgets.holds`: what answers in flight hold (migration v12),
  written by `webapp.budgets.check.BudgetGate` in the same per-member
  transaction as its check.
- `webapp.budgets.view`: the Chat page's status line, the send refusal, and
  the admin's section of the Team page.
"""

from __future__ import annotations

from webapp.budgets.book import TEAM_DEFAULT, UNITS, BudgetBook, BudgetError, Limit, Unit
from webapp.budgets.count import (
    EXHAUSTED,
    OK,
    UNLIMITED,
    WARN_AT,
    WARNING,
    BudgetStatus,
    FigureCache,
    Used,
    local_usage,
    month_start,
    month_usage,
    next_month_start,
    refusal_message,
    status_of,
)

__all__ = [
    "EXHAUSTED",
    "OK",
    "TEAM_DEFAULT",
    "UNITS",
    "UNLIMITED",
    "WARNING",
    "WARN_AT",
    "BudgetBook",
    "BudgetError",
    "BudgetStatus",
    "FigureCache",
    "Limit",
    "Unit",
    "Used",
    "local_usage",
    "month_start",
    "month_usage",
    "next_month_start",
    "refusal_message",
    "status_of",
]
