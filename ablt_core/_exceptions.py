"""The exception tree, rooted at `AbltError`, and the one status -> class mapping.

No message built here ever contains the bearer token: `status_to_error` redacts
the secret it is given from whatever the server sent back.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from ._constants import MAX_DETAIL_CHARS
from ._retry_after import parse_retry_after
from ._text import truncate_text

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AbltError",
    "AuthenticationError",
    "BadRequestError",
    "FieldError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "status_to_error",
]

REDACTED = "[redacted]"


class AbltError(Exception):
    """Base of every error this package raises.

    `request_id`: the API's `x-request-id` for the reply the error came from
    (None when there was no reply: a connection error, a client-side check).
    """

    message: str
    request_id: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(AbltError, ValueError):
    """A call that can never be valid; raised before anything is sent."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of a FastAPI-style validation `detail` list."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc)
        return f"{where}: {self.msg}" if where else self.msg


class APIStatusError(AbltError):
    """The server answered with a non-success status."""

    status_code: int
    detail: str
    request_id: str | None
    response: httpx.Response

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        detail: str,
        request_id: str | None,
    ) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code
        self.detail = detail
        self.request_id = request_id


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401: the bearer token was refused."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404: for a chat, usually an unknown bot."""


class UnprocessableEntityError(APIStatusError):
    """422: the server rejected the body; `errors` holds its parsed complaints."""

    errors: list[FieldError]

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        detail: str,
        request_id: str | None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message, response=response, detail=detail, request_id=request_id)
        self.errors = errors or []


class RateLimitError(APIStatusError):
    """429: wait and retry; `retry_after` is the server's hint in seconds, if any."""

    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        detail: str,
        request_id: str | None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, response=response, detail=detail, request_id=request_id)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """Any status >= 500."""


class APIConnectionError(AbltError):
    """The server could not be reached, or the connection failed before a reply."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None):
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout."""

    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None = None
    ):
        super().__init__(message, request=request)


class APIResponseValidationError(AbltError):
    """A success status with a body that does not match the contract."""

    def __init__(
        self, message: str, *, status_code: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id


class StreamInterruptedError(AbltError):
    """A streamed answer cut off before `[DONE]`; `partial_text` is what arrived."""

    def __init__(self, message: str, *, partial_text: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.partial_text = partial_text
        self.request_id = request_id


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_DROP_RE = re.compile(r"<(script|style|head)[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")


def truncate(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut; cut
    only between whole characters (grapheme clusters), never inside one."""
    return truncate_text(text, limit)


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced."""
    return text.replace(secret, REDACTED) if secret else text


def _field_errors(items: list[Any]) -> list[FieldError]:
    errors = []
    for item in items:
        if isinstance(item, dict):
            raw_loc = item.get("loc")
            loc = tuple(
                part if isinstance(part, int | str) else str(part)
                for part in (raw_loc if isinstance(raw_loc, list | tuple) else ())
            )
            errors.append(FieldError(loc, str(item.get("msg", "")), str(item.get("type", ""))))
        else:
            errors.append(FieldError((), str(item), ""))
    return errors


def _html_text(body: str) -> str:
    title = _TITLE_RE.search(body)
    if title and title.group(1).strip():
        return html.unescape(_SPACE_RE.sub(" ", title.group(1)).strip())
    text = _TAG_RE.sub(" ", _DROP_RE.sub(" ", body))
    return html.unescape(_SPACE_RE.sub(" ", text).strip())


def parse_error_body(response: httpx.Response) -> tuple[str, list[FieldError]]:
    """The human-readable detail and any field errors of a (read) error response.

    Copes with FastAPI JSON (`detail` as text or list), other JSON, plain text
    and HTML pages; never raises.
    """
    try:
        body = response.text
    except Exception:  # undecodable or unread body: say nothing rather than fail
        return "", []
    stripped = body.strip()
    if not stripped:
        return "", []
    content_type = response.headers.get("content-type", "").lower()
    if "json" in content_type or stripped[:1] in ("{", "["):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and "detail" in data:
            detail = data["detail"]
            if isinstance(detail, list):
                errors = _field_errors(detail)
                return "; ".join(str(error) for error in errors), errors
            if isinstance(detail, str):
                return detail, []
            return json.dumps(detail, ensure_ascii=False), []
        if data is not None:
            return json.dumps(data, ensure_ascii=False), []
    if "html" in content_type or stripped[:1] == "<":
        return _html_text(stripped), []
    return _SPACE_RE.sub(" ", stripped), []


def status_to_error(response: httpx.Response, *, secret: str | None = None) -> APIStatusError:
    """The exception for a non-success `response` (its body must have been read).

    The one place a status becomes a class. `secret` (the bearer token) is
    redacted from everything the server sent back.
    """
    status = response.status_code
    detail, errors = parse_error_body(response)
    detail = truncate(redact(detail, secret))
    errors = [
        FieldError(error.loc, truncate(redact(error.msg, secret)), error.type) for error in errors
    ]
    request_id = response.headers.get("x-request-id")
    reason = response.reason_phrase or "Error"
    message = f"{status} {reason}"
    if detail:
        message += f": {detail}"
    if request_id:
        message += f" (request id: {request_id})"

    if status == 422:
        return UnprocessableEntityError(
            message, response=response, detail=detail, request_id=request_id, errors=errors
        )
    if status == 429:
        return RateLimitError(
            message,
            response=response,
            detail=detail,
            request_id=request_id,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    cls = _STATUS_CLASSES.get(status)
    if cls is None:
        cls = InternalServerError if status >= 500 else APIStatusError
    return cls(message, response=response, detail=detail, request_id=request_id)
