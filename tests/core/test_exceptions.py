"""status_to_error: one status -> one class, and a safe, short, token-free detail."""

from __future__ import annotations

import httpx
import pytest

from ablt_core import (
    AbltError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ablt_core._constants import MAX_DETAIL_CHARS
from ablt_core._exceptions import FieldError, status_to_error

SECRET = "sk-live-abcdef123456"


def response(status: int, content: str | bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=content, headers=headers, request=httpx.Request("POST", "http://x/v1/chat")
    )


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
def test_status_maps_to_its_class(status: int, cls: type[APIStatusError]) -> None:
    error = status_to_error(response(status, '{"detail": "nope"}', **{"x-request-id": "r-9"}))
    assert type(error) is cls
    assert isinstance(error, AbltError)
    assert error.status_code == status
    assert error.detail == "nope"
    assert error.request_id == "r-9"
    assert "nope" in str(error) and "r-9" in str(error)


def test_fastapi_validation_list_is_parsed() -> None:
    body = (
        '{"detail": [{"loc": ["body", "max_words"], "msg": "must be >= 1",'
        ' "type": "greater_than_equal"},'
        ' {"loc": ["body"], "msg": "exactly one of prompt or messages", "type": "value_error"}]}'
    )
    error = status_to_error(response(422, body, **{"content-type": "application/json"}))
    assert isinstance(error, UnprocessableEntityError)
    assert error.errors == [
        FieldError(("body", "max_words"), "must be >= 1", "greater_than_equal"),
        FieldError(("body",), "exactly one of prompt or messages", "value_error"),
    ]
    assert error.detail == "body.max_words: must be >= 1; body: exactly one of prompt or messages"


def test_plain_text_and_html_bodies() -> None:
    assert status_to_error(response(502, "Bad gateway\n  upstream down")).detail == (
        "Bad gateway upstream down"
    )
    page = (
        "<html><head><title>503 Service Temporarily Unavailable</title><style>b{}</style></head>"
        "<body><h1>503</h1></body></html>"
    )
    html_error = status_to_error(response(503, page, **{"content-type": "text/html"}))
    assert html_error.detail == "503 Service Temporarily Unavailable"
    untitled = status_to_error(
        response(500, "<html><body><p>Oops &amp; <b>sorry</b></p></body></html>")
    )
    assert untitled.detail == "Oops & sorry"


def test_odd_bodies_never_break_the_mapping() -> None:
    assert status_to_error(response(500, b"")).detail == ""
    assert status_to_error(response(500, b"\xff\xfe\x00garbage")).status_code == 500
    assert status_to_error(response(500, '{"error": "x"}')).detail == '{"error": "x"}'
    assert status_to_error(response(500, '{"detail": {"code": 7}}')).detail == '{"code": 7}'
    assert status_to_error(response(500, "{not json")).detail == "{not json"


def test_detail_is_truncated() -> None:
    error = status_to_error(response(500, "x" * 10_000))
    assert len(error.detail) == MAX_DETAIL_CHARS
    assert error.detail.endswith("…")
    assert len(str(error)) < MAX_DETAIL_CHARS + 100


def test_the_token_is_redacted_from_an_echoing_server() -> None:
    body = f'{{"detail": [{{"loc": ["header"], "msg": "bad token Bearer {SECRET}", "type": "x"}}]}}'
    for status in (401, 422):
        error = status_to_error(response(status, body), secret=SECRET)
        assert SECRET not in str(error)
        assert SECRET not in error.detail
        assert "[redacted]" in error.detail
    assert isinstance(error, UnprocessableEntityError)
    assert all(SECRET not in e.msg for e in error.errors)


def test_rate_limit_carries_retry_after() -> None:
    error = status_to_error(response(429, "slow down", **{"retry-after": "7"}))
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0
    assert status_to_error(response(429)).retry_after is None  # type: ignore[attr-defined]


def test_every_error_has_a_request_id_the_api_sent_or_none() -> None:
    """Logs quote `err.request_id` for any `AbltError` (webapp.operations.metrics)."""
    from ablt_core import APIConnectionError, APITimeoutError, StreamInterruptedError

    assert status_to_error(response(503, "down", **{"x-request-id": "r-9"})).request_id == "r-9"
    assert status_to_error(response(503, "down")).request_id is None
    assert StreamInterruptedError("cut", partial_text="", request_id="r-8").request_id == "r-8"
    for err in (APIConnectionError(), APITimeoutError(), AbltError("client side")):
        assert err.request_id is None
