"""Plain-words messages for everything the aBLT client can raise.

Pages never show a traceback: they catch `AbltError` and show `describe(err)`.
The messages say what happened and what to do next, and never include the
bearer token (the client's exceptions never carry it either).
"""

from __future__ import annotations

import math

from ablt_core import (
    AbltError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from webapp.text.graphemes import truncate_text


def describe(err: AbltError) -> str:
    """One or two sentences a team member can act on."""
    if isinstance(err, RateLimitError):
        if err.retry_after:
            seconds = max(1, math.ceil(err.retry_after))
            return (
                f"The aBLT API is rate limiting requests. Try again in {seconds} "
                f"second{'s' if seconds != 1 else ''}."
            )
        return "The aBLT API is rate limiting requests. Wait a moment, then try again."
    if isinstance(err, APITimeoutError):
        return (
            "The aBLT API took too long to answer. Try again, or ask for fewer words "
            "(lower “Max words”) so the answer comes back sooner."
        )
    if isinstance(err, StreamInterruptedError):
        return (
            "The answer was cut off before it finished. The part received so far is kept; "
            "retry to ask again."
        )
    if isinstance(err, APIConnectionError):
        return "The aBLT API cannot be reached right now. Check the connection and try again."
    if isinstance(err, AuthenticationError):
        return (
            "The aBLT API refused the configured token (401). Ask an admin to check "
            "ABLT_BEARER_TOKEN."
        )
    if isinstance(err, PermissionDeniedError):
        return "The aBLT API token is not allowed to do this (403). Your plan may not include it."
    if isinstance(err, NotFoundError):
        return "The aBLT API does not know this bot any more. Pick another bot from the catalogue."
    if isinstance(err, UnprocessableEntityError):
        return f"The aBLT API rejected the request as invalid: {_short(err.detail)}"
    if isinstance(err, InternalServerError):
        return "The aBLT API had an internal error or is restarting. Wait a moment, then try again."
    if isinstance(err, APIStatusError):
        return f"The aBLT API answered with an error ({err.status_code}): {_short(err.detail)}"
    if isinstance(err, InvalidRequestError):
        return str(err)
    return "Something went wrong talking to the aBLT API. Try again."


def _short(detail: object, limit: int = 200) -> str:
    text = detail if isinstance(detail, str) else str(detail)
    text = " ".join(text.split())
    return truncate_text(text, limit)  # whole characters only
