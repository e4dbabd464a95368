"""What the sync and async clients share: settings, requests, retry decisions,
and turning responses into results or exceptions. Only the I/O loop differs."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeAlias, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from . import _retry
from ._constants import (
    DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POOL_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    ENV_BASE_URL,
    ENV_BEARER_TOKEN,
    HEALTH_CHECK_TIMEOUT,
    KEEPALIVE_EXPIRY,
    MAX_CONNECTIONS,
    MAX_DETAIL_CHARS,
    MAX_KEEPALIVE_CONNECTIONS,
    USER_AGENT,
)
from ._exceptions import (
    AbltError,
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    redact,
    status_to_error,
    truncate,
)
from ._models import Bot, UsageStatistics

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "BaseClient", "RetryListener", "make_limits"]

# Called before each retry's wait with (seconds to wait, the failure that caused it),
# so a caller can say what it waits for ("rate limited, retrying in 42 s").
RetryListener: TypeAlias = Callable[[float, AbltError], None]

DEFAULT_TIMEOUT = httpx.Timeout(
    connect=DEFAULT_CONNECT_TIMEOUT,
    read=DEFAULT_READ_TIMEOUT,
    write=DEFAULT_WRITE_TIMEOUT,
    pool=DEFAULT_POOL_TIMEOUT,
)
DEFAULT_LIMITS = httpx.Limits(
    max_connections=MAX_CONNECTIONS,
    max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
    keepalive_expiry=KEEPALIVE_EXPIRY,
)
HEALTH_TIMEOUT = httpx.Timeout(HEALTH_CHECK_TIMEOUT)

PATH_HEALTH = "/health-check"
PATH_BOTS = "/v1/bots"
PATH_CHAT = "/v1/chat"
PATH_USAGE = "/v1/user/usage-statistics"

_LOGGER_NAME = "ablt_core"
_BOTS = TypeAdapter(list[Bot])
_USAGE = TypeAdapter(UsageStatistics)
_T = TypeVar("_T")


def make_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """An httpx.Timeout from the constructor's `timeout`.

    A number sets the read, write and pool timeouts; the connect timeout is the
    smaller of it and DEFAULT_CONNECT_TIMEOUT. None disables timeouts.
    """
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if timeout is None:
        return httpx.Timeout(None)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise AbltError(
            "timeout must be a positive number of seconds, an httpx.Timeout or None; "
            f"got {timeout!r}."
        )
    return httpx.Timeout(float(timeout), connect=min(float(timeout), DEFAULT_CONNECT_TIMEOUT))


def make_limits(max_connections: int | None) -> httpx.Limits:
    """Pool limits for a client that runs at most `max_connections` requests at once.

    None gives DEFAULT_LIMITS. A caller that bounds its own concurrency (a worker
    pool) sizes the pool to match, so a request never waits for a pooled connection
    (and a wait of ours is never reported as the API being slow).
    """
    if max_connections is None:
        return DEFAULT_LIMITS
    if isinstance(max_connections, bool) or max_connections < 1:
        raise AbltError(f"max_connections must be an integer >= 1; got {max_connections!r}.")
    return httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )


def find_by_uid(bots: Iterable[Bot], uid: str) -> Bot | None:
    """The bot whose uid equals `uid`, compared case-insensitively."""
    wanted = uid.strip().casefold()
    return next((bot for bot in bots if bot.uid.casefold() == wanted), None)


def find_by_slug(bots: Iterable[Bot], slug: str) -> Bot | None:
    """The bot with this slug."""
    wanted = slug.strip()
    return next((bot for bot in bots if bot.slug == wanted), None)


def find_by_name(bots: Iterable[Bot], name: str) -> Bot | None:
    """The first bot with this display name (names are not unique)."""
    return next((bot for bot in bots if bot.name == name), None)


class BaseClient:
    """Settings and every step of a call that involves no I/O."""

    base_url: str
    max_retries: int
    timeout: httpx.Timeout
    total_timeout: float | None
    max_retry_after: float | None

    def __init__(
        self,
        bearer_token: str | None,
        base_url: str | None,
        *,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        total_timeout: float | None,
        logger: logging.Logger | None,
        max_retry_after: float | None = None,
    ) -> None:
        token = bearer_token if bearer_token is not None else os.environ.get(ENV_BEARER_TOKEN)
        if token is None or not token.strip():
            raise AbltError(
                f"No aBLT bearer token: pass bearer_token=... or set the {ENV_BEARER_TOKEN} "
                "environment variable."
            )
        self._token = token.strip()
        url = (base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL).strip().rstrip("/")
        try:
            scheme = httpx.URL(url).scheme
        except httpx.InvalidURL:
            scheme = ""
        if scheme not in ("http", "https"):
            raise AbltError(f"base_url must be an http(s) URL; got {url!r}.")
        self.base_url = url
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise AbltError(f"max_retries must be an integer >= 0; got {max_retries!r}.")
        self.max_retries = max_retries
        self.timeout = make_timeout(timeout)
        self.total_timeout = total_timeout
        if max_retry_after is not None and not max_retry_after >= 0:
            raise AbltError(f"max_retry_after must be >= 0 or None; got {max_retry_after!r}.")
        self.max_retry_after = max_retry_after
        self._logger = logger or logging.getLogger(_LOGGER_NAME)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, max_retries={self.max_retries})"

    # -- requests -------------------------------------------------------------

    @staticmethod
    def _default_headers() -> dict[str, str]:
        return {"User-Agent": USER_AGENT, "Accept": "application/json"}

    def _build_request(
        self,
        http: httpx.Client | httpx.AsyncClient,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        stream: bool = False,
    ) -> httpx.Request:
        headers = {"Authorization": f"Bearer {self._token}"}
        if stream:
            headers["Accept"] = "text/event-stream"
        return http.build_request(method, self.base_url + path, json=body, headers=headers)

    def _build_health_request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        # The health check is the one call that carries no token.
        return http.build_request("GET", self.base_url + PATH_HEALTH, timeout=HEALTH_TIMEOUT)

    # -- failures and retries -------------------------------------------------

    def _connection_error(self, err: httpx.HTTPError, request: httpx.Request) -> APIConnectionError:
        where = f"{request.method} {request.url.path}"
        if isinstance(err, httpx.TimeoutException):
            return APITimeoutError(f"{where} timed out ({type(err).__name__}).", request=request)
        reason = redact(str(err), self._token) or type(err).__name__
        return APIConnectionError(
            f"Could not reach the aBLT API at {self.base_url} ({where}): {truncate(reason)}",
            request=request,
        )

    def _status_error(self, response: httpx.Response) -> APIStatusError:
        return status_to_error(response, secret=self._token)

    def _retry_delay(
        self,
        attempt: int,
        error: AbltError,
        started: float,
        on_retry: RetryListener | None = None,
    ) -> float | None:
        """Seconds to wait before retrying after `error`, or None to give up.

        With `max_retry_after` set, a server asking for a longer wait (its
        `Retry-After`) is not waited for: the error is raised at once, carrying
        the wait, so the caller can show it with a Retry instead of hanging.
        `on_retry(delay, error)` is called before a retry's wait.
        """
        if attempt >= self.max_retries or not _retry.should_retry(error):
            return None
        retry_after = (
            error.response.headers.get("retry-after") if isinstance(error, APIStatusError) else None
        )
        hinted = _retry.parse_retry_after(retry_after)
        ceiling = self.max_retry_after
        if ceiling is not None and hinted is not None and hinted > ceiling:
            return None
        delay = _retry.retry_delay(attempt, retry_after)
        if self.total_timeout is not None and (
            time.monotonic() - started + delay > self.total_timeout
        ):
            return None
        self._logger.info(
            "aBLT request failed (%s); retry %d of %d in %.2f s.",
            error.message,
            attempt + 1,
            self.max_retries,
            delay,
        )
        if on_retry is not None:
            on_retry(delay, error)
        return delay

    # -- responses ------------------------------------------------------------

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as err:
            raise self._invalid(response, "the body is not JSON") from err

    def _invalid(self, response: httpx.Response, why: str) -> APIResponseValidationError:
        request_id = response.headers.get("x-request-id")
        message = f"Unexpected reply from {response.request.url.path}: {truncate(why)}"
        if request_id:
            message += f" (request id: {request_id})"
        return APIResponseValidationError(
            message, status_code=response.status_code, request_id=request_id
        )

    def _validated(self, response: httpx.Response, adapter: TypeAdapter[_T]) -> _T:
        data = self._json(response)
        try:
            return adapter.validate_python(data)
        except ValidationError as err:
            raise self._invalid(response, _summary(err)) from err

    def _parse_bots(self, response: httpx.Response) -> list[Bot]:
        return self._validated(response, _BOTS)

    def _parse_answer(self, response: httpx.Response) -> str:
        data = self._json(response)
        for key in ("content", "message"):
            value = data.get(key) if isinstance(data, dict) else None
            if isinstance(value, str):
                return value
        raise self._invalid(response, "a chat reply without 'content' or 'message' text")

    def _parse_usage(self, response: httpx.Response) -> UsageStatistics:
        return self._validated(response, _USAGE)

    def _is_healthy(self, response: httpx.Response) -> bool:
        if response.status_code != 200:
            self._logger.warning("aBLT health check: status %d.", response.status_code)
            return False
        try:
            data = response.json()
        except ValueError:
            data = None
        healthy = isinstance(data, dict) and data.get("status") == "ok"
        if not healthy:
            self._logger.warning("aBLT health check: unexpected body.")
        return healthy

    def _log_unhealthy(self, err: Exception) -> None:
        self._logger.warning(
            "aBLT health check failed: %s",
            truncate(redact(str(err), self._token)) or type(err).__name__,
        )


def _summary(err: ValidationError) -> str:
    parts = []
    for item in err.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in item["loc"])
        parts.append(f"{loc}: {item['msg']}" if loc else item["msg"])
    return truncate("; ".join(parts), MAX_DETAIL_CHARS)
