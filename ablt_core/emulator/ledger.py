"""The usage ledger behind ``POST /v1/user/usage-statistics``.

Counters are kept per (user_id, day). Each chat adds its original / enchancement
/ response words and tokens (see ``answers`` for how they are measured) to its
``user_id`` (0 when the request had none) on today's date in UTC (``usage_day``):
the contract's dates carry no zone, and the app reads them as UTC days (its
budgets' months and the Statistics page's calendar), whatever the host's zone. A fresh ledger is
seeded with ``history_days`` of plausible, deterministic history for
``seed_users`` (default users 1, 2 and 3; weekdays busier than weekends)
ending YESTERDAY, so "today" holds only what the current run did. All methods
are thread-safe: uvicorn's thread writes while a test thread reads.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

SEED_USERS = (1, 2, 3)
SEED_RANDOM = 20231103  # fixed: the seeded history is the same on every start
ALL_USERS = -1

# The eight counters, spelled as on the wire (the API's "enchancement" included).
COUNTER_NAMES = (
    "original_tokens",
    "enchancement_tokens",
    "response_tokens",
    "total_tokens",
    "original_words",
    "enchancement_words",
    "response_words",
    "total_words",
)


@dataclass
class Usage:
    """Six measured counters; the two totals are derived."""

    original_tokens: int = 0
    enchancement_tokens: int = 0
    response_tokens: int = 0
    original_words: int = 0
    enchancement_words: int = 0
    response_words: int = 0

    def add(self, other: Usage) -> None:
        """Accumulate ``other`` into this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_json(self) -> dict[str, int]:
        """The eight wire counters, in the contract's order."""
        return {
            "original_tokens": self.original_tokens,
            "enchancement_tokens": self.enchancement_tokens,
            "response_tokens": self.response_tokens,
            "total_tokens": self.original_tokens + self.enchancement_tokens + self.response_tokens,
            "original_words": self.original_words,
            "enchancement_words": self.enchancement_words,
            "response_words": self.response_words,
            "total_words": self.original_words + self.enchancement_words + self.response_words,
        }


def _seeded_day(rng: random.Random, weekday: bool) -> Usage:
    """One user's usage for one day: a handful of chats of realistic sizes."""
    chats = rng.randint(3, 12) if weekday else rng.randint(0, 3)
    usage = Usage()
    for _ in range(chats):
        original = rng.randint(8, 220)
        enhancement = rng.randint(30, 320)
        response = rng.randint(60, 650)
        usage.add(
            Usage(
                original_words=original,
                enchancement_words=enhancement,
                response_words=response,
                original_tokens=round(original * rng.uniform(1.2, 1.5)),
                enchancement_tokens=round(enhancement * rng.uniform(1.2, 1.5)),
                response_tokens=round(response * rng.uniform(1.2, 1.5)),
            )
        )
    return usage


def usage_day(now: datetime | None = None) -> date:
    """The day usage made at ``now`` (aware; default: this instant) is booked
    on: its date in UTC, the same for every host and every member."""
    return (now or datetime.now(UTC)).astimezone(UTC).date()


class Ledger:
    """Thread-safe per-user, per-day usage counters."""

    def __init__(
        self,
        history_days: int = 90,
        today: date | None = None,
        seed_users: Sequence[int] = SEED_USERS,
    ) -> None:
        self._lock = threading.Lock()
        self._days: dict[int, dict[date, Usage]] = defaultdict(dict)
        self._seed(history_days, today or usage_day(), seed_users)

    def _seed(self, history_days: int, today: date, seed_users: Sequence[int]) -> None:
        rng = random.Random(SEED_RANDOM)
        for back in range(history_days, 0, -1):  # oldest first, ends yesterday
            day = today - timedelta(days=back)
            for user_id in seed_users:
                usage = _seeded_day(rng, weekday=day.weekday() < 5)
                if usage.original_words:
                    self._days[user_id][day] = usage

    def add(self, user_id: int, usage: Usage, day: date | None = None) -> None:
        """Record one chat's usage for ``user_id`` on ``day`` (default: today in UTC)."""
        day = day or usage_day()
        with self._lock:
            self._days[user_id].setdefault(day, Usage()).add(usage)

    def statistics(self, user_id: int, start: date, end: date) -> dict[str, Any]:
        """The statistics body: per-day items with usage in [start, end] and their total.

        ``user_id`` -1 sums over every user.
        """
        with self._lock:
            users = list(self._days) if user_id == ALL_USERS else [user_id]
            per_day: dict[date, Usage] = {}
            for uid in users:
                for day, usage in self._days.get(uid, {}).items():
                    if start <= day <= end:
                        per_day.setdefault(day, Usage()).add(usage)
        total = Usage()
        items = []
        for day in sorted(per_day):
            total.add(per_day[day])
            items.append({**per_day[day].to_json(), "date": day.isoformat()})
        return {"total": total.to_json(), "items": items}
