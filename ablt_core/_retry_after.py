"""`Retry-After`: how long a server asks a client to wait, as seconds.

Its own module because both the exceptions (a 429 carries it) and the retry
policy read it, and the policy imports the exceptions.
"""

from __future__ import annotations

import email.utils
import math
from datetime import UTC, datetime

__all__ = ["parse_retry_after"]


def parse_retry_after(value: str | float | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (seconds or an HTTP date), or None.

    Unparseable, negative or non-finite values give None; dates in the past give 0.
    """
    if value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds
