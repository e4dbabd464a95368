"""One answer's request to the aBLT API, streamed into its `LiveAnswer`: the
part of `AnswerService`'s worker that talks to the API.

`stream_answer` sends the conversation's context (`ContextWindow`) with its
options, appends every piece to the `LiveAnswer` as it comes, says what the
answer waits for meanwhile (a first byte, a retry after a failure), and turns
the API's errors into the answer's final status and the sentence shown with
it (`webapp.errors.describe`). Retries are `ablt_core`'s (streams are never
retried once an answer has started: the aBLT contract, docs/ablt-api.md).
No I/O but the API's; nothing here imports Streamlit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from ablt_core import AbltError, APITimeoutError, RateLimitError, StreamInterruptedError
from webapp.answers.live import LiveAnswer, Wait
from webapp.chat import open_chat as chat
from webapp.conversations.model import AnswerStatus
from webapp.errors import describe
from webapp.operations import metrics
from webapp.ui.i18n import N_

if TYPE_CHECKING:
    from ablt_core import AsyncAbltClient
    from webapp.conversations.context import ContextWindow, Conversation

FIRST_BYTE_TIMEOUT: Final = N_(
    "The aBLT API did not start answering (it was asked more than "
    "once). It may be overloaded; retry in a while."
)

# (final status, the error shown with it or None, the text to save when it is
# not the live text: a dropped stream's part received)
Outcome = tuple[AnswerStatus, str | None, str | None]


async def stream_answer(
    client: AsyncAbltClient,
    live: LiveAnswer,
    conversation: Conversation,
    window: ContextWindow,
    user_id: int,
    *,
    rate_limited: Callable[[float | None], None],
) -> Outcome:
    """Ask the API for the answer to `window` in `conversation` (its bot and
    options) for the end user `user_id`, streaming into `live`.

    `rate_limited(retry_after_seconds)` is told of every 429 (the team's
    slots back off). Raises only `asyncio.CancelledError` (Stop); every API
    failure is an `Outcome`: a dropped stream `interrupted` with its part, a
    timeout or another error `error` with its sentence, an empty stream
    `error` (Retry offered)."""
    live.context_omitted = window.omitted
    live.set_wait(Wait("first_byte", time.time()))

    def on_retry(delay: float, err: AbltError) -> None:
        metrics.api_retry(err)
        if isinstance(err, RateLimitError):
            rate_limited(err.retry_after)
        reason = (
            "Rate limited by the aBLT API"
            if isinstance(err, RateLimitError)
            else "The aBLT API did not answer properly"
        )
        now = time.time()
        live.set_wait(Wait("retry", now, until=now + delay, reason=reason))

    timer = metrics.AnswerTimer(conversation.bot_slug)
    try:
        stream = await client.chat(
            bot_slug=conversation.bot_slug,
            messages=window.messages,
            stream=True,
            user_id=user_id,
            on_retry=on_retry,
            **chat.api_options(conversation.options),
        )
        live.set_wait(Wait("first_byte", time.time()))
        try:
            async for piece in stream:
                live.append(piece)
                timer.piece(piece)
        finally:
            await stream.aclose()
    except StreamInterruptedError as err:
        metrics.api_error(err, bot=conversation.bot_slug)
        return AnswerStatus.INTERRUPTED, describe(err), err.partial_text or live.text
    except APITimeoutError as err:
        metrics.api_error(err, bot=conversation.bot_slug)
        if live.text:
            return AnswerStatus.ERROR, describe(err), None
        # No byte came at all: the length asked for is not the cause.
        return AnswerStatus.ERROR, FIRST_BYTE_TIMEOUT, None
    except AbltError as err:
        metrics.api_error(err, bot=conversation.bot_slug)
        if isinstance(err, RateLimitError):
            rate_limited(err.retry_after)
        return AnswerStatus.ERROR, describe(err), None
    if not live.text.strip():
        # A stream of only [DONE] (or blank text) is no answer: a failure, with Retry.
        return AnswerStatus.ERROR, chat.EMPTY_ANSWER, None
    timer.complete()
    return AnswerStatus.COMPLETE, None, None
