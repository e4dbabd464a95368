"""`AsyncAbltClient`: the asynchronous client, the same surface as `AbltClient`."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self, overload

import httpx

from . import _retry
from ._base import (
    DEFAULT_TIMEOUT,
    PATH_BOTS,
    PATH_CHAT,
    PATH_USAGE,
    BaseClient,
    RetryListener,
    find_by_name,
    find_by_slug,
    find_by_uid,
    make_limits,
)
from ._constants import DEFAULT_MAX_RETRIES, DEFAULT_TOTAL_TIMEOUT
from ._exceptions import APIConnectionError, APIStatusError
from ._models import Bot, UsageDay, UsageStatistics, UsageTotals
from ._streaming import AsyncChatStream
from ._validation import MessageLike, build_chat_body, build_usage_body, parse_date

__all__ = ["AsyncAbltClient"]


class AsyncAbltClient(BaseClient):
    """The async client of the aBLT bots API. One connection pool per instance.

    >>> async with AsyncAbltClient() as client:
    ...     async with await client.chat(bot_slug="omni", prompt="Hi") as stream:
    ...         async for piece in stream:
    ...             print(piece, end="")
    """

    def __init__(
        self,
        bearer_token: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        verify: bool | ssl.SSLContext = True,
        logger: logging.Logger | None = None,
        total_timeout: float | None = DEFAULT_TOTAL_TIMEOUT,
        max_retry_after: float | None = None,
        max_connections: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            bearer_token,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            total_timeout=total_timeout,
            logger=logger,
            max_retry_after=max_retry_after,
        )
        self._http = httpx.AsyncClient(
            timeout=self.timeout,
            verify=verify,
            limits=make_limits(max_connections),
            headers=self._default_headers(),
            transport=transport,
        )

    # -- lifecycle --------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def aclose(self) -> None:
        """Same as `close`."""
        await self.close()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- the I/O loop -----------------------------------------------------------

    async def _attempt(self, request: httpx.Request, stream: bool) -> httpx.Response:
        try:
            response = await self._http.send(request, stream=True)
        except httpx.RequestError as err:
            raise self._connection_error(err, request) from err
        if response.is_success:
            if stream:
                return response
            try:
                await response.aread()
            except httpx.RequestError as err:
                raise self._connection_error(err, request) from err
            finally:
                await response.aclose()
            return response
        try:
            await response.aread()
        except httpx.RequestError:
            pass  # the status alone still says what went wrong
        finally:
            await response.aclose()
        raise self._status_error(response)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        stream: bool = False,
        on_retry: RetryListener | None = None,
    ) -> httpx.Response:
        request = self._build_request(self._http, method, path, body=body, stream=stream)
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return await self._attempt(request, stream)
            except (APIConnectionError, APIStatusError) as error:
                delay = self._retry_delay(attempt, error, started, on_retry)
                if delay is None:
                    raise
            await _retry.async_sleep(delay)
            attempt += 1

    # -- the API ----------------------------------------------------------------

    async def health_check(self) -> bool:
        """True when the service answers `{"status": "ok"}`; never raises for a down service."""
        try:
            response = await self._http.send(self._build_health_request(self._http))
        except Exception as err:
            self._log_unhealthy(err)
            return False
        return self._is_healthy(response)

    async def get_bots(self) -> list[Bot]:
        """The published bots."""
        return self._parse_bots(await self._request("GET", PATH_BOTS))

    async def find_bot_by_uid(self, uid: str) -> Bot | None:
        """The bot with this uid (case-insensitive), or None."""
        return find_by_uid(await self.get_bots(), uid)

    async def find_bot_by_slug(self, slug: str) -> Bot | None:
        """The bot with this slug, or None."""
        return find_by_slug(await self.get_bots(), slug)

    async def find_bot_by_name(self, name: str) -> Bot | None:
        """The first bot with this display name, or None."""
        return find_by_name(await self.get_bots(), name)

    @overload
    async def chat(
        self,
        *,
        bot_uid: str | None = ...,
        bot_slug: str | None = ...,
        prompt: str | None = ...,
        messages: Sequence[MessageLike] | None = ...,
        stream: Literal[True] = ...,
        language: str | None = ...,
        max_words: int | None = ...,
        user_id: int | None = ...,
        use_search: bool | None = ...,
        assumptions: Mapping[str, Any] | None = ...,
        on_retry: RetryListener | None = ...,
    ) -> AsyncChatStream: ...

    @overload
    async def chat(
        self,
        *,
        bot_uid: str | None = ...,
        bot_slug: str | None = ...,
        prompt: str | None = ...,
        messages: Sequence[MessageLike] | None = ...,
        stream: Literal[False],
        language: str | None = ...,
        max_words: int | None = ...,
        user_id: int | None = ...,
        use_search: bool | None = ...,
        assumptions: Mapping[str, Any] | None = ...,
        on_retry: RetryListener | None = ...,
    ) -> str: ...

    @overload
    async def chat(
        self,
        *,
        bot_uid: str | None = ...,
        bot_slug: str | None = ...,
        prompt: str | None = ...,
        messages: Sequence[MessageLike] | None = ...,
        stream: bool,
        language: str | None = ...,
        max_words: int | None = ...,
        user_id: int | None = ...,
        use_search: bool | None = ...,
        assumptions: Mapping[str, Any] | None = ...,
        on_retry: RetryListener | None = ...,
    ) -> AsyncChatStream | str: ...

    async def chat(
        self,
        *,
        bot_uid: str | None = None,
        bot_slug: str | None = None,
        prompt: str | None = None,
        messages: Sequence[MessageLike] | None = None,
        stream: bool = True,
        language: str | None = None,
        max_words: int | None = None,
        user_id: int | None = None,
        use_search: bool | None = None,
        assumptions: Mapping[str, Any] | None = None,
        on_retry: RetryListener | None = None,
    ) -> AsyncChatStream | str:
        """Ask a bot. Exactly one of bot_uid/bot_slug and one of prompt/messages.

        The request is sent now: HTTP errors raise from here. With `stream=True`
        (the default) returns a `AsyncChatStream` of text pieces; else the answer.
        Only the options given are sent. `on_retry(delay, error)` is called
        before each retry's wait (e.g. to show "rate limited, retrying in 42 s").
        """
        body = build_chat_body(
            bot_uid=bot_uid,
            bot_slug=bot_slug,
            prompt=prompt,
            messages=messages,
            stream=stream,
            language=language,
            max_words=max_words,
            user_id=user_id,
            use_search=use_search,
            assumptions=assumptions,
            logger=self._logger,
        )
        response = await self._request(
            "POST", PATH_CHAT, body=body, stream=stream, on_retry=on_retry
        )
        if stream:
            return AsyncChatStream(response, logger=self._logger, secret=self._token)
        return self._parse_answer(response)

    async def get_usage_statistics(
        self,
        start_date: dt.date | str | None = None,
        end_date: dt.date | str | None = None,
        user_id: int = -1,
    ) -> UsageStatistics:
        """Usage from `start_date` to `end_date` (inclusive; each defaults to today).

        `user_id=-1` means every user of the token.
        """
        body = build_usage_body(start_date, end_date, user_id)
        return self._parse_usage(await self._request("POST", PATH_USAGE, body=body))

    async def get_usage_statistics_for_day(
        self, date: dt.date | str | None = None, user_id: int = -1
    ) -> UsageDay | None:
        """The usage of one day (default today), or None when that day has no entry."""
        day = parse_date(date, "date")
        return (await self.get_usage_statistics(day, day, user_id)).day(day)

    async def get_total_usage_statistics(
        self,
        start_date: dt.date | str | None = None,
        end_date: dt.date | str | None = None,
        user_id: int = -1,
    ) -> UsageTotals:
        """The totals of a date range (each end defaults to today)."""
        return (await self.get_usage_statistics(start_date, end_date, user_id)).total
