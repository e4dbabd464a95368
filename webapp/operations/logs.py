"""The app's log lines: one line per event, as text or as JSON lines.

`configure_logging()` (called by `serve.py` as the process starts) puts one
handler on the root logger, so `webapp.*`, `ablt_core` and the libraries'
loggers write through it; Streamlit keeps its own. `ABLT_LOG_FORMAT=json`
writes one JSON object per line (`time`, `level`, `logger`, `message`, and
`exception` when there is one); the default, `text`, writes
``2026-12-06T18:00:00.123Z WARNING webapp.x: message``. A traceback or a
message with line breaks stays on its line (breaks written as ``\\n``), so
a log shipper never splits an event. `ABLT_LOG_LEVEL` (default INFO) sets
the level; httpx's per-request lines are kept to warnings.

What is never written: prompts and answers (no log call passes them; the
database engine hides statement values, `webapp.db.engine`), passwords
(the login check logs only why a login failed), and tokens: the configured
secrets (`secret_values`) and anything after ``Bearer`` are replaced by
``[redacted]`` in every line, as a last line of defence.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import IO, Final

import sqlalchemy as sa

from webapp.settings import Settings, SettingsError, get_settings

ENV_LOG_FORMAT: Final = "ABLT_LOG_FORMAT"
ENV_LOG_LEVEL: Final = "ABLT_LOG_LEVEL"
FORMATS: Final = ("text", "json")
REDACTED: Final = "[redacted]"
# Shorter values are not treated as secrets (they would redact ordinary words).
MIN_SECRET_CHARS: Final = 8
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
# Loggers that log every request at INFO.
QUIET_LOGGERS: Final = ("httpx", "httpcore")


def secret_values(settings: Settings) -> list[str]:
    """The configured secrets a log line must never show: the API token, the
    cookie key, the metrics token and the database password."""
    found = [settings.bearer_token, settings.cookie_key, settings.metrics_token]
    if settings.db_url:
        with contextlib.suppress(sa.exc.ArgumentError, ValueError):
            found.append(sa.make_url(settings.db_url).password)
    return [value for value in found if value and len(value) >= MIN_SECRET_CHARS]


def startup_secrets() -> list[str]:
    """`secret_values` of the settings as the process starts; none when the
    settings are unusable (the app's pages say why)."""
    try:
        return secret_values(get_settings())
    except SettingsError:
        return []


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each of `secrets` and every ``Bearer <token>`` redacted."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def _one_line(text: str) -> str:
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Formatter(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def _exception(self, record: logging.LogRecord) -> str | None:
        if record.exc_info:
            return self.formatException(record.exc_info)
        if record.exc_text:
            return record.exc_text
        return None


class TextFormatter(_Formatter):
    """``time LEVEL logger: message | traceback`` on one line, secrets redacted."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        exception = self._exception(record)
        if exception:
            line += f" | {exception}"
        return _one_line(scrub(line, self.secrets))


class JsonFormatter(_Formatter):
    """One JSON object per line: time, level, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, str] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage(), self.secrets),
        }
        exception = self._exception(record)
        if exception:
            event["exception"] = scrub(exception, self.secrets)
        # json.dumps escapes line breaks, so the event stays on one line.
        return json.dumps(event, ensure_ascii=False)


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs (found again and replaced by it)."""


def log_format(env: Mapping[str, str]) -> str:
    """`ABLT_LOG_FORMAT` ("text" or "json"); anything else is "text"."""
    value = env.get(ENV_LOG_FORMAT, "").strip().lower()
    return value if value in FORMATS else "text"


def configure_logging(
    secrets: Iterable[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Install (or replace) the app's one root handler; returns it.

    `secrets`: values to redact from every line (`secret_values(settings)`).
    `env`: where `ABLT_LOG_FORMAT` / `ABLT_LOG_LEVEL` are read (default
    `os.environ`); `stream`: where lines go (default stderr).
    """
    env = os.environ if env is None else env
    formatter: logging.Formatter = (
        JsonFormatter(secrets) if log_format(env) == "json" else TextFormatter(secrets)
    )
    handler = _AppHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _AppHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    level = env.get(ENV_LOG_LEVEL, "").strip().upper() or "INFO"
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
