"""Retry policy as small pure functions: what retries, and how long to wait.

`sleep` and `async_sleep` are looked up on this module at call time, so tests
replace them (``monkeypatch.setattr(ablt_core._retry, "sleep", ...)``) to record
the delays instead of waiting them out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import anyio
import httpx

from ._constants import (
    RETRY_AFTER_CAP,
    RETRY_BACKOFF_BASE,
    RETRY_BACKOFF_CAP,
    RETRY_JITTER,
    RETRYABLE_STATUS_CODES,
)
from ._exceptions import APIConnectionError, APIStatusError
from ._retry_after import parse_retry_after

__all__ = [
    "async_sleep",
    "backoff_delay",
    "parse_retry_after",
    "retry_delay",
    "should_retry",
    "should_retry_status",
    "sleep",
]

sleep: Callable[[float], None] = time.sleep
async_sleep = anyio.sleep


def should_retry_status(status_code: int) -> bool:
    """True for the statuses worth another attempt: 408, 409, 429 and every 5xx."""
    return status_code in RETRYABLE_STATUS_CODES or status_code >= 500


def should_retry(failure: BaseException | httpx.Response | int) -> bool:
    """True when `failure` (an exception, a response or a status code) may be retried.

    Connection errors and timeouts (both before any reply) retry; so do the
    statuses of `should_retry_status`. Anything else (a client-side error, a
    4xx that will not change, a stream already cut mid-answer) does not.
    """
    if isinstance(failure, int):
        return should_retry_status(failure)
    if isinstance(failure, httpx.Response):
        return should_retry_status(failure.status_code)
    if isinstance(failure, APIStatusError):
        return should_retry_status(failure.status_code)
    return isinstance(failure, APIConnectionError | httpx.TransportError)


def backoff_delay(attempt: int, *, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter for retry number `attempt` (0 = first retry).

    RETRY_BACKOFF_BASE * 2**attempt, capped at RETRY_BACKOFF_CAP, minus up to
    RETRY_JITTER of itself at random so that clients hit together spread out.
    """
    base = min(RETRY_BACKOFF_CAP, RETRY_BACKOFF_BASE * 2.0 ** max(0, attempt))
    return base * (1.0 - RETRY_JITTER * rand())


def retry_delay(
    attempt: int,
    retry_after: str | float | None = None,
    *,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (0 = first retry).

    A usable `Retry-After` (header text or seconds) is honoured, capped at
    RETRY_AFTER_CAP; otherwise `backoff_delay`.
    """
    hinted = parse_retry_after(retry_after)
    if hinted is not None:
        return min(hinted, RETRY_AFTER_CAP)
    return backoff_delay(attempt, rand=rand)
