"""How much of a monthly budget a member has used: the API's figure plus what
this app sent and received since that figure was read.

- The month is the calendar month in UTC (`month_start`). The aBLT API
  counts usage per day without saying in which zone; UTC is the one choice
  that is the same for every member and every app process, so a budget
  starts again at 00:00 UTC on the 1st for the whole team.
- The API figure is the member's `total_words` / `total_tokens` from
  `POST /v1/user/usage-statistics` for their `user_id`, from the 1st of the
  month to today (the same counters as the Statistics page), read at most
  every `FIGURE_TTL` seconds per process (`FigureCache`).
- Between two readings, answers this app generated for the member count
  too (`local_usage`): each answer created at or after the moment the
  figure arrived (one still arriving with its text so far), with the prompt
  it answers, measured as the emulator's
  ledger measures them (words: whitespace-separated runs; tokens: ceil of
  characters / 4). An answer created before that moment is left to the API
  figure, so nothing is counted twice after a refresh. The local count is an
  estimate (the API also counts the earlier turns sent as context and the
  bot's own instructions); the next API figure replaces it.
- When the API cannot be read, the month's local count alone stands in
  (from the 1st), so a budget still holds while the API is down.

No Streamlit here: `webapp.budgets.view` passes the API read in as `fetch`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final

import sqlalchemy as sa

from ablt_core import AbltError, UsageTotals
from webapp.budgets.book import Limit, Unit
from webapp.conversations.store import ConversationStore
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M

FIGURE_TTL: Final = 60.0  # seconds, as the Statistics page's cache (STATS_TTL_SECONDS)
WARN_AT: Final = 0.8  # the share of the limit at which the member is warned

# Fetch: (user_id, first day, last day) -> the API's totals for that range.
Fetch = Callable[[int, date, date], UsageTotals]


def month_start(now: datetime) -> datetime:
    """00:00 UTC on the 1st of `now`'s month (UTC); `now` must be aware."""
    utc = now.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


def next_month_start(now: datetime) -> datetime:
    """00:00 UTC on the 1st of the month after `now`'s (when budgets start again)."""
    start = month_start(now)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def count_words(text: str) -> int:
    """Words as the API's ledger counts them: whitespace-separated runs."""
    return len(text.split())


def estimate_tokens(text: str) -> int:
    """Tokens as the emulator estimates them: ceil(characters / 4), 0 for ''."""
    return math.ceil(len(text) / 4)


def measure(text: str, unit: Unit) -> int:
    """`text` in `unit` (see `count_words` and `estimate_tokens`)."""
    return count_words(text) if unit == "words" else estimate_tokens(text)


@dataclass(frozen=True, slots=True)
class Figure:
    """The API's totals for a member's month so far, and when they arrived (UTC).

    `ok` False: the API could not be read; the totals are 0 and `at` is the
    month's start, so the local count covers the whole month.
    """

    words: int
    tokens: int
    at: datetime
    ok: bool = True

    def amount(self, unit: Unit) -> int:
        """The figure in `unit` (the API's total_words or total_tokens)."""
        return self.words if unit == "words" else self.tokens


class FigureCache:
    """API figures per (base URL, user_id, month), each kept `ttl` seconds.

    Process-wide and thread-safe; `clear()` forgets all (after a Refresh, in
    tests). A failed read is kept only `retry_after` seconds, so a recovering
    API is asked again soon.
    """

    def __init__(self, ttl: float = FIGURE_TTL, retry_after: float = 10.0) -> None:
        self.ttl = ttl
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, int, date], tuple[float, Figure]] = {}

    def clear(self) -> None:
        """Forget every figure: the next `get` of each key reads the API."""
        with self._lock:
            self._kept.clear()

    def get(self, key: tuple[str, int, date], load: Callable[[], Figure]) -> Figure:
        """The kept figure for `key`, or `load()`'s (kept from now on)."""
        now = time.monotonic()
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None:
            expires, figure = kept
            if now < expires:
                return figure
        figure = load()
        life = self.ttl if figure.ok else min(self.ttl, self.retry_after)
        with self._lock:
            self._kept[key] = (time.monotonic() + life, figure)
        return figure


FIGURES: Final = FigureCache()


def read_figure(store: ConversationStore, fetch: Fetch, user_id: int, now: datetime) -> Figure:
    """Ask the API for the member's month so far; the moment of the answer is
    taken from the store's clock (the one that stamps answers)."""
    start = month_start(now)
    try:
        totals = fetch(user_id, start.date(), now.astimezone(UTC).date())
    except AbltError:
        return Figure(0, 0, start, ok=False)
    return Figure(int(totals.total_words), int(totals.total_tokens), store.now())


def local_usage(store: ConversationStore, username: str, since: datetime) -> tuple[int, int]:
    """(words, tokens) of the member's answers created at or after `since`, each
    with its prompt. Answers with no text yet (failed before the first piece)
    count nothing: the API billed nothing either. Answers of every kind of
    conversation count (chats and comparison columns)."""
    prompt = M.alias("prompt")
    stmt = (
        sa.select(M.c.text, prompt.c.text)
        .select_from(
            M.join(C, C.c.id == M.c.conversation_id).outerjoin(prompt, prompt.c.id == M.c.reply_to)
        )
        .where(
            C.c.owner == username,
            M.c.role == "assistant",
            M.c.reply_to.is_not(None),  # generated here (imported answers have none)
            M.c.created_at >= since,
            M.c.text != "",
        )
    )
    words = tokens = 0
    with store.transaction() as conn:
        for answer, asked in conn.execute(stmt):
            for text in (answer or "", asked or ""):
                words += count_words(text)
                tokens += estimate_tokens(text)
    return words, tokens


@dataclass(frozen=True, slots=True)
class Used:
    """A member's usage this month in words and tokens: the API's part and this app's."""

    figure: Figure
    local_words: int
    local_tokens: int

    def amount(self, unit: Unit) -> int:
        """The month's usage in `unit`: the API figure plus the local count."""
        local = self.local_words if unit == "words" else self.local_tokens
        return self.figure.amount(unit) + local


def month_usage(
    store: ConversationStore,
    username: str,
    user_id: int,
    fetch: Fetch,
    *,
    base_url: str = "",
    cache: FigureCache = FIGURES,
    now: datetime | None = None,
) -> Used:
    """The member's usage of this UTC month: API figure + local since it arrived."""
    moment = now or store.now()
    start = month_start(moment)
    figure = cache.get(
        (base_url, user_id, start.date()), lambda: read_figure(store, fetch, user_id, moment)
    )
    since = max(figure.at, start)
    words, tokens = local_usage(store, username, since)
    return Used(figure, words, tokens)


OK: Final = "ok"
WARNING: Final = "warning"
EXHAUSTED: Final = "exhausted"
UNLIMITED: Final = "unlimited"


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """Where a member stands: `used` of `limit.amount` `limit.unit` this month.

    `state`: `UNLIMITED` (no limit), `OK`, `WARNING` (at least `WARN_AT` of
    the limit used) or `EXHAUSTED` (the limit reached: sending is refused).
    """

    limit: Limit
    used: int
    resets_at: datetime
    api_ok: bool = True

    @property
    def left(self) -> int | None:
        """What is left of the limit (0 when over it); None without a limit."""
        return None if self.limit.amount is None else max(self.limit.amount - self.used, 0)

    @property
    def share(self) -> float:
        """Used / limit, from 0 (1.0 for a limit of 0; 0.0 without a limit)."""
        if self.limit.amount is None:
            return 0.0
        if self.limit.amount == 0:
            return 1.0
        return self.used / self.limit.amount

    @property
    def state(self) -> str:
        """`UNLIMITED`, `OK`, `WARNING` or `EXHAUSTED` (see the class)."""
        if self.limit.amount is None:
            return UNLIMITED
        if self.used >= self.limit.amount:
            return EXHAUSTED
        return WARNING if self.share >= WARN_AT else OK

    @property
    def may_send(self) -> bool:
        """False once the limit is reached: sending is refused."""
        return self.state != EXHAUSTED


def status_of(limit: Limit, used: Used, now: datetime) -> BudgetStatus:
    """The status for `limit` given the month's `used` counts."""
    return BudgetStatus(limit, used.amount(limit.unit), next_month_start(now), used.figure.ok)


def refusal_message(
    status: BudgetStatus, admins: list[str], *, kept: str = "Your message is kept in the box."
) -> str:
    """The plain sentence shown when sending is refused: how much, until when,
    who can raise the limit (the team's admins, by name: `admins` already
    escaped for Markdown, as `check.admin_names` gives them), then `kept`: where
    the refused prompt is now (the message box; a queued prompt stays queued)."""
    limit = status.limit
    amount = f"{limit.amount:,}" if limit.amount is not None else "no"
    who = ", ".join(admins) if admins else "an admin of the team"
    return (
        f"Not sent: you have used this month's budget ({status.used:,} of {amount} "
        f"{limit.unit}). It starts again on {status.resets_at:%B} 1 (UTC). "
        f"To send now, ask an admin to raise your limit: {who}. {kept}"
    )


def exhausted_message(status: BudgetStatus, admins: list[str]) -> str:
    """The status line once the budget is used up (before anything is sent);
    `admins` as for `refusal_message`."""
    limit = status.limit
    who = ", ".join(admins) if admins else "an admin of the team"
    return (
        f"This month's budget is used up: {status.used:,} of {limit.amount or 0:,} "
        f"{limit.unit}. Sending is paused until {status.resets_at:%B} 1 (UTC), or until "
        f"an admin raises your limit: {who}."
    )


def warning_message(status: BudgetStatus) -> str:
    """The 80% warning: how much is used and left."""
    left = status.left or 0
    return (
        f"You have used {status.share:.0%} of this month's budget: "
        f"{left:,} {status.limit.unit} left."
    )
