"""The app's Prometheus metrics: what happens, counted where it happens.

One `CollectorRegistry` per process (`REGISTRY`), not prometheus-client's
global default, so the app's figures never mix with a library's and tests
can build their own. `/metrics` (`webapp.operations.routes`) exposes it in
the Prometheus text format; the gauges read at scrape time (answers in
progress, team slots, sessions) come from `webapp.operations.collect`.

The counters and histograms are moved by small calls at the single points:
the answer service's worker (`answer_finished`, `AnswerTimer`, `api_error`,
`api_retry`), the admission point (`answer_refused`) and the login check
(`login_succeeded`, `login_failed`). Each of those also writes one log line
(`webapp.operations.logs`), never with a prompt, an answer, a token or a
password. Names follow Prometheus conventions (https://prometheus.io/docs/practices/naming/):
`ablt_chat_` prefix, the unit in the name, `_total` for counters.

Nothing here imports another feature package, so every package may call it.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

log = logging.getLogger(__name__)
# No `_created` series beside each counter and histogram: they double the output
# and Prometheus does not need them (prometheus-client's own switch, process-wide).
disable_created_metrics()  # type: ignore[no-untyped-call]

PREFIX: Final = "ablt_chat"
# This process's registry (never prometheus-client's global REGISTRY).
REGISTRY: Final = CollectorRegistry(auto_describe=True)

# Seconds: a first piece usually comes within a few; whole answers take up to minutes.
FIRST_PIECE_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)
ANSWER_BUCKETS: Final = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# Label values for an error or refusal that has no status / rule name.
NO_STATUS: Final = "none"
# A bot slug as a label is cut to this (a bot's slug comes from the catalogue).
MAX_BOT_LABEL: Final = 64

ANSWERS_FINISHED: Final = Counter(
    f"{PREFIX}_answers_finished",
    "Answers this process generated, by final status (complete, stopped, error, interrupted).",
    ["status"],
    registry=REGISTRY,
)
FIRST_PIECE_SECONDS: Final = Histogram(
    f"{PREFIX}_answer_first_piece_seconds",
    "Seconds from sending a chat request to the API until its first piece of text, by bot.",
    ["bot"],
    buckets=FIRST_PIECE_BUCKETS,
    registry=REGISTRY,
)
ANSWER_SECONDS: Final = Histogram(
    f"{PREFIX}_answer_duration_seconds",
    "Seconds from sending a chat request to the API until the whole answer arrived "
    "(complete answers only), by bot.",
    ["bot"],
    buckets=ANSWER_BUCKETS,
    registry=REGISTRY,
)
API_ERRORS: Final = Counter(
    f"{PREFIX}_api_errors",
    "aBLT API errors met after retries (answers, the bot catalogue, statistics), by "
    "HTTP status ('none' without one) and kind.",
    ["status", "kind"],
    registry=REGISTRY,
)
API_RETRIES: Final = Counter(
    f"{PREFIX}_api_retries",
    "Chat requests retried after an API failure, by status ('none' without one) and kind.",
    ["status", "kind"],
    registry=REGISTRY,
)
ANSWERS_REFUSED: Final = Counter(
    f"{PREFIX}_answers_refused",
    "Answers refused at admission, by rule (budget: the month's budget is used up).",
    ["rule"],
    registry=REGISTRY,
)
LOGINS: Final = Counter(
    f"{PREFIX}_logins",
    "Successful logins with a password.",
    registry=REGISTRY,
)
LOGIN_FAILURES: Final = Counter(
    f"{PREFIX}_login_failures",
    "Failed logins, by reason (wrong_credentials, throttled, missing, too_long).",
    ["reason"],
    registry=REGISTRY,
)


# Series that exist from the start at 0, so a rate() over them is defined at once.
for _final in ("complete", "stopped", "error", "interrupted"):
    ANSWERS_FINISHED.labels(status=_final)
for _reason in ("wrong_credentials", "throttled", "missing", "too_long"):
    LOGIN_FAILURES.labels(reason=_reason)
ANSWERS_REFUSED.labels(rule="budget")


def error_kind(err: BaseException) -> str:
    """A short, stable name for an API error's kind, e.g. "rate_limit",
    "timeout", "stream_interrupted", from the `ablt_core` class name."""
    name = type(err).__name__
    for suffix in ("Error", "Exception"):
        name = name.removesuffix(suffix)
    words: list[str] = []
    for char in name:
        if char.isupper() and words:
            words.append("_")
        words.append(char.lower())
    return "".join(words) or "error"


def _status(err: BaseException) -> str:
    status = getattr(err, "status_code", None)
    return str(status) if isinstance(status, int) else NO_STATUS


def api_error(err: BaseException, *, call: str = "chat", bot: str = "-") -> None:
    """Count an API error the app met (after the client's retries) and log it
    with the API's request id (its `x-request-id`), never the error's text (a
    detail may echo the prompt). `call`: chat, bots, statistics."""
    kind, status = error_kind(err), _status(err)
    API_ERRORS.labels(status=status, kind=kind).inc()
    log.warning(
        "aBLT API error: call=%s kind=%s status=%s request_id=%s bot=%s",
        call,
        kind,
        status,
        getattr(err, "request_id", None) or "-",
        bot,
    )


def api_retry(err: BaseException) -> None:
    """Count a retried chat request (ablt_core logs the retry itself)."""
    API_RETRIES.labels(status=_status(err), kind=error_kind(err)).inc()


def answer_finished(status: str) -> None:
    """Count an answer this process ended, by its final status, and log it."""
    ANSWERS_FINISHED.labels(status=status).inc()
    log.info("Answer finished: status=%s", status)


def rule_name(rule: object) -> str:
    """An admission rule's label: its `metric_name` attribute, else its class name."""
    name = getattr(rule, "metric_name", None)
    return name if isinstance(name, str) else type(rule).__name__


def answer_refused(rule: object) -> None:
    """Count a refusal at admission (the rule records its own reason)."""
    label = rule_name(rule)
    ANSWERS_REFUSED.labels(rule=label).inc()
    log.info("Answer refused at admission: rule=%s", label)


def login_succeeded() -> None:
    """Count a login with the right password (the member is not logged)."""
    LOGINS.inc()
    log.info("Login succeeded")


def login_failed(reason: str) -> None:
    """Count a failed login; `reason` is one of the label values above. Neither
    the username (it may be a password typed in the wrong box) nor the
    password is logged."""
    LOGIN_FAILURES.labels(reason=reason).inc()
    log.info("Login failed: reason=%s", reason)


class AnswerTimer:
    """The timings of one chat request, for the histograms: make it just
    before the request is sent, call `piece(text)` for every piece and
    `complete()` when the whole answer arrived (not on a failure)."""

    __slots__ = ("_bot", "_first", "_started")

    def __init__(self, bot: str) -> None:
        self._bot = bot[:MAX_BOT_LABEL]
        self._started = time.monotonic()
        self._first = False

    def piece(self, text: str) -> None:
        """Note a piece; the first one with text is timed."""
        if not self._first and text:
            self._first = True
            FIRST_PIECE_SECONDS.labels(bot=self._bot).observe(time.monotonic() - self._started)

    def complete(self) -> float:
        """Time the whole answer; returns its seconds."""
        seconds = time.monotonic() - self._started
        ANSWER_SECONDS.labels(bot=self._bot).observe(seconds)
        return seconds
