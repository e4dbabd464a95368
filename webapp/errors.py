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
from webapp.ui.i18n import _, ngettext


def describe(err: AbltError) -> str:
    """One or two sentences a team member can act on."""
    if isinstance(err, RateLimitError):
        if err.retry_after:
            seconds = max(1, math.ceil(err.retry_after))
            return ngettext(
                "The aBLT API is rate limiting requests. Try again in {seconds} second.",
                "The aBLT API is rate limiting requests. Try again in {seconds} seconds.",
                seconds,
            ).format(seconds=seconds)
        return _("The aBLT API is rate limiting requests. Wait a moment, then try again.")
    if isinstance(err, APITimeoutError):
        return _(
            "The aBLT API took too long to answer. Try again, or ask for fewer "
            "words (lower “Max words”) so the answer comes back sooner."
        )
    if isinstance(err, StreamInterruptedError):
        return _(
            "The answer was cut off before it finished. The part received so "
            "far is kept; retry to ask again."
        )
    if isinstance(err, APIConnectionError):
        return _("The aBLT API cannot be reached right now. Check the connection and try again.")
    if isinstance(err, AuthenticationError):
        return _(
            "The aBLT API refused the configured token (401). Ask an admin to "
            "check ABLT_BEARER_TOKEN."
        )
    if isinstance(err, PermissionDeniedError):
        return _(
            "The aBLT API token is not allowed to do this (403). Your plan may not include it."
        )
    if isinstance(err, NotFoundError):
        return _(
            "The aBLT API does not know this bot any more. Pick another bot from the catalogue."
        )
    if isinstance(err, UnprocessableEntityError):
        return _("The aBLT API rejected the request as invalid: {detail}").format(
            detail=_short(err.detail)
        )
    if isinstance(err, InternalServerError):
        return _(
            "The aBLT API had an internal error or is restarting. Wait a moment, then try again."
        )
    if isinstance(err, APIStatusError):
        return _("The aBLT API answered with an error ({status_code}): {detail}").format(
            status_code=err.status_code, detail=_short(err.detail)
        )
    if isinstance(err, InvalidRequestError):
        return str(err)
    return _("Something went wrong talking to the aBLT API. Try again.")


def _short(detail: object, limit: int = 200) -> str:
    text = detail if isinstance(detail, str) else str(detail)
    text = " ".join(text.split())
    return truncate_text(text, limit)  # whole characters only
