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
- Answers in flight (admitted, not ended) count at their estimate
  (`webapp.budgets.holds`: the conversation's `max_words`, else
  `BOT_DEFAULT_ANSWER_WORDS`; in tokens `words_as_tokens`), or at their text
  so far when that is more, whenever they were created: the API may not have
  billed them yet. When an answer ends its own words replace the estimate.

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
from sqlalchemy.engine import Connection

from ablt_core import AbltError, UsageTotals
from webapp.budgets import holds
from webapp.budgets.book import Limit, Unit
from webapp.conversations.store import ConversationStore
from webapp.db.schema import conversations as C
from webapp.db.schema import messages as M

FIGURE_TTL: Final = 60.0  # seconds, as the Statistics page's cache (STATS_TTL_SECONDS)
WARN_AT: Final = 0.8  # the share of the limit at which the member is warned
CHARS_PER_TOKEN: Final = 4  # the ledger's tokens: ceil(characters / 4)
# A word with the space after it, in characters, for turning an estimate in
# words into tokens as the ledger would bill that text (English averages ~5
# letters a word; rounded up, an estimate errs on the side of the budget).
CHARS_PER_WORD: Final = 6

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
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def words_as_tokens(words: int) -> int:
    """An estimate of `words` words in tokens, as the ledger would bill a text
    that long: ceil(words × `CHARS_PER_WORD` / `CHARS_PER_TOKEN`)."""
    return math.ceil(words * CHARS_PER_WORD / CHARS_PER_TOKEN)


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
    conversation count (chats and comparison columns). An answer in flight
    with a budget hold is left out: `in_flight` counts it."""
    with store.transaction() as conn:
        return _local_on(conn, username, since, set())


def _local_on(conn: Connection, username: str, since: datetime, held: set[str]) -> tuple[int, int]:
    prompt = M.alias("prompt")
    stmt = (
        sa.select(M.c.id, M.c.text, prompt.c.text)
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
    for answer_id, answer, asked in conn.execute(stmt):
        if answer_id in held:
            continue
        for text in (answer or "", asked or ""):
            words += count_words(text)
            tokens += estimate_tokens(text)
    return words, tokens


def in_flight(held: list[holds.Held]) -> tuple[int, int]:
    """(words, tokens) the counting holds stand for: an unbound hold its
    estimate; a bound one its prompt plus the larger of the estimate and the
    answer's text so far."""
    words = tokens = 0
    for hold in held:
        words += count_words(hold.prompt_text) + max(hold.words, count_words(hold.answer_text))
        tokens += estimate_tokens(hold.prompt_text) + max(
            words_as_tokens(hold.words), estimate_tokens(hold.answer_text)
        )
    return words, tokens


@dataclass(frozen=True, slots=True)
class Used:
    """A member's usage this month in words and tokens: the API's part, this
    app's finished answers since, and the answers in flight (`held_*`, at
    their estimate; see `in_flight`)."""

    figure: Figure
    local_words: int
    local_tokens: int
    held_words: int = 0
    held_tokens: int = 0

    def amount(self, unit: Unit) -> int:
        """The month's usage in `unit`: the API figure, the local count, and
        the answers in flight."""
        return self.figure.amount(unit) + self.local(unit) + self.held(unit)

    def local(self, unit: Unit) -> int:
        """This app's answers since the figure, in `unit` (not those in flight)."""
        return self.local_words if unit == "words" else self.local_tokens

    def held(self, unit: Unit) -> int:
        """The answers in flight, at their estimate, in `unit`."""
        return self.held_words if unit == "words" else self.held_tokens


def month_figure(
    store: ConversationStore,
    user_id: int,
    fetch: Fetch,
    *,
    base_url: str = "",
    cache: FigureCache = FIGURES,
    now: datetime,
) -> Figure:
    """The API's figure for the member's month of `now` (kept in `cache`)."""
    start = month_start(now)
    return cache.get(
        (base_url, user_id, start.date()), lambda: read_figure(store, fetch, user_id, now)
    )


def usage_on(
    conn: Connection,
    username: str,
    figure: Figure,
    now: datetime,
    held: list[holds.Held] | None = None,
) -> Used:
    """The month's usage given the API's `figure`, read on `conn` (inside the
    caller's transaction: the budget check's, serialised per member). `held`:
    the member's counting holds when the caller read them already
    (`holds.counting` on the same `conn`)."""
    if held is None:
        held = holds.counting(conn, username, now)
    since = max(figure.at, month_start(now))
    words, tokens = _local_on(conn, username, since, {h.answer_id for h in held if h.answer_id})
    held_words, held_tokens = in_flight(held)
    return Used(figure, words, tokens, held_words, held_tokens)


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
    """The member's usage of this UTC month: API figure + local since it
    arrived + answers in flight at their estimate."""
    moment = now or store.now()
    figure = month_figure(store, user_id, fetch, base_url=base_url, cache=cache, now=moment)
    with store.transaction() as conn:
        return usage_on(conn, username, figure, moment)


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
    held: int = 0  # the part of `used` that answers in flight hold (their estimate)

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
    def percent(self) -> int:
        """The share used as a whole percentage, rounded down (`percent_used`):
        never 100 while anything is left, never 80 below the warning."""
        if self.limit.amount is None:
            return 0
        return percent_used(self.used, self.limit.amount)

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


def percent_used(used: int, amount: int) -> int:
    """`used` of `amount` as a whole percentage for display, rounded DOWN in
    integer arithmetic (no float error): a rounded-up figure would show 100%
    with 20 words left, or cross a threshold (80%) the state has not. 100 for
    an `amount` of 0 (nothing may be used); above 100 when over the limit."""
    if amount <= 0:
        return 100
    return max(used, 0) * 100 // amount


def status_of(limit: Limit, used: Used, now: datetime) -> BudgetStatus:
    """The status for `limit` given the month's `used` counts."""
    return BudgetStatus(
        limit,
        used.amount(limit.unit),
        next_month_start(now),
        used.figure.ok,
        used.held(limit.unit),
    )


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
        f"{limit.unit}{in_flight_note(status)}). It starts again on {status.resets_at:%B} 1 (UTC). "
        f"To send now, ask an admin to raise your limit: {who}. {kept}"
    )


def in_flight_note(status: BudgetStatus) -> str:
    """ ", counting 500 for answers still being written" when answers in flight
    hold part of `status.used`, else ""."""
    if not status.held:
        return ""
    return f", counting {status.held:,} for answers still being written"


def exhausted_message(status: BudgetStatus, admins: list[str]) -> str:
    """The status line once the budget is used up (before anything is sent);
    `admins` as for `refusal_message`."""
    limit = status.limit
    who = ", ".join(admins) if admins else "an admin of the team"
    return (
        f"This month's budget is used up: {status.used:,} of {limit.amount or 0:,} "
        f"{limit.unit}{in_flight_note(status)}. Sending is paused until "
        f"{status.resets_at:%B} 1 (UTC), or until an admin raises your limit: {who}."
    )


def warning_message(status: BudgetStatus) -> str:
    """The 80% warning: how much is used and left."""
    left = status.left or 0
    return (
        f"You have used {status.percent}% of this month's budget: "
        f"{left:,} {status.limit.unit} left."
    )
