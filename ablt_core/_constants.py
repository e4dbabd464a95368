"""Every tunable of the client, named in one place."""

from __future__ import annotations

__version__ = "0.1.0"

# Where the client talks to, and where it looks for its settings.
DEFAULT_BASE_URL = "https://api.ablt.ai"
ENV_BEARER_TOKEN = "ABLT_BEARER_TOKEN"
ENV_BASE_URL = "ABLT_BASE_URL"
USER_AGENT = f"ablt-core/{__version__}"

# Timeouts, in seconds.
# connect: establishing the TCP/TLS connection.
# read: the longest silence allowed between two chunks of a response (for a
#   non-streamed answer, the time the server may take before it replies at all;
#   long answers take a while, hence the generous value).
# write / pool: sending the body / waiting for a free pooled connection.
# total: the budget of one call across all its retries; no new attempt starts
#   once it would be exceeded.
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
DEFAULT_WRITE_TIMEOUT = 30.0
DEFAULT_POOL_TIMEOUT = 10.0
DEFAULT_TOTAL_TIMEOUT = 600.0
HEALTH_CHECK_TIMEOUT = 10.0

# Connection pool: one httpx client per AbltClient, reused across calls.
MAX_CONNECTIONS = 20
MAX_KEEPALIVE_CONNECTIONS = 10
KEEPALIVE_EXPIRY = 30.0

# Retries: how many after the first attempt, and how long to wait between them.
DEFAULT_MAX_RETRIES = 2
RETRY_BACKOFF_BASE = 0.5  # first backoff; doubles every attempt
RETRY_BACKOFF_CAP = 8.0  # backoff never grows past this
RETRY_JITTER = 0.25  # up to this fraction of the backoff is taken off at random
RETRY_AFTER_CAP = 60.0  # a server's Retry-After is honoured up to this many seconds
RETRYABLE_STATUS_CODES = frozenset({408, 409, 429})  # plus every status >= 500

# The API's advice on max_words (a logged warning, never an error).
MIN_WORDS_WITH_SEARCH = 100
MAX_WORDS_ADVISED = 2000

# Error messages quote at most this many characters of the server's reply.
MAX_DETAIL_CHARS = 500

# The marker that ends a complete answer stream.
STREAM_DONE_MARKER = "[DONE]"
