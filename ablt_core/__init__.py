"""ablt_core: a typed, streaming client of the aBLT bots API (sync and async).

No Streamlit in here. See `AbltClient` / `AsyncAbltClient`; every error raised
is an `AbltError`.
"""

from ._async_client import AsyncAbltClient
from ._base import RetryListener
from ._client import AbltClient
from ._constants import DEFAULT_BASE_URL, ENV_BASE_URL, ENV_BEARER_TOKEN, __version__
from ._exceptions import (
    AbltError,
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    FieldError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamInterruptedError,
    UnprocessableEntityError,
)
from ._models import Bot, ChatMessage, Role, UsageDay, UsageStatistics, UsageTotals
from ._sse import ServerSentEvent, SSEDecoder, aiter_sse, iter_sse
from ._streaming import AsyncChatStream, ChatStream

__all__ = [
    "DEFAULT_BASE_URL",
    "ENV_BASE_URL",
    "ENV_BEARER_TOKEN",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AbltClient",
    "AbltError",
    "AsyncAbltClient",
    "AsyncChatStream",
    "AuthenticationError",
    "BadRequestError",
    "Bot",
    "ChatMessage",
    "ChatStream",
    "FieldError",
    "InternalServerError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryListener",
    "Role",
    "SSEDecoder",
    "ServerSentEvent",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "UsageDay",
    "UsageStatistics",
    "UsageTotals",
    "__version__",
    "aiter_sse",
    "iter_sse",
]
