"""The retry policy's pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from ablt_core import (
    APIConnectionError,
    APITimeoutError,
    InvalidRequestError,
    StreamInterruptedError,
    _retry,
)
from ablt_core._constants import RETRY_AFTER_CAP, RETRY_BACKOFF_BASE, RETRY_BACKOFF_CAP
from ablt_core._exceptions import status_to_error
from ablt_core._retry import (
    backoff_delay,
    parse_retry_after,
    retry_delay,
    should_retry,
    should_retry_status,
)


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "http://x/"))


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(status: int) -> None:
    assert should_retry_status(status)
    assert should_retry(status)
    assert should_retry(response(status))
    assert should_retry(status_to_error(response(status)))


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 422])
def test_statuses_that_never_change_are_not_retried(status: int) -> None:
    assert not should_retry(status)
    assert not should_retry(response(status))


def test_connection_failures_retry_but_client_errors_and_cut_streams_do_not() -> None:
    assert should_retry(APIConnectionError())
    assert should_retry(APITimeoutError())
    assert should_retry(httpx.ConnectError("refused"))
    assert not should_retry(InvalidRequestError("bad"))
    assert not should_retry(StreamInterruptedError("cut", partial_text="x"))
    assert not should_retry(ValueError("x"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        (3, 3.0),
        (None, None),
        ("soon", None),
        ("-1", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after_seconds(value: str | float | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    )


def test_retry_after_is_honoured_and_capped() -> None:
    assert retry_delay(0, "3") == 3.0
    assert retry_delay(5, "0.25") == 0.25
    assert retry_delay(0, str(RETRY_AFTER_CAP * 10)) == RETRY_AFTER_CAP


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    no_jitter = [backoff_delay(attempt, rand=lambda: 0.0) for attempt in range(10)]
    assert no_jitter[:3] == [RETRY_BACKOFF_BASE, RETRY_BACKOFF_BASE * 2, RETRY_BACKOFF_BASE * 4]
    assert max(no_jitter) == RETRY_BACKOFF_CAP
    assert no_jitter == sorted(no_jitter)


def test_jitter_only_shortens_the_wait_and_varies() -> None:
    delays = {retry_delay(1, None) for _ in range(50)}
    assert len(delays) > 1
    assert all(0.5 * RETRY_BACKOFF_BASE * 2 < d <= RETRY_BACKOFF_BASE * 2 for d in delays)
    # An unusable Retry-After falls back to backoff.
    assert retry_delay(0, "garbage", rand=lambda: 0.0) == RETRY_BACKOFF_BASE


def test_sleeps_are_patchable_module_attributes() -> None:
    assert callable(_retry.sleep)
    assert callable(_retry.async_sleep)
