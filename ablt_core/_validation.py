"""Request bodies, built and checked before anything is sent.

A call that can never be valid raises `InvalidRequestError` here; the API's
advice (web search with few words, very long answers) is a logged warning.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._constants import MAX_WORDS_ADVISED, MIN_WORDS_WITH_SEARCH
from ._exceptions import InvalidRequestError
from ._models import ChatMessage

__all__ = ["build_chat_body", "build_usage_body", "parse_date"]

_ROLES = ("system", "user", "assistant")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

MessageLike = ChatMessage | Mapping[str, Any]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _exactly_one(first: str, first_value: object, second: str, second_value: object) -> None:
    if first_value is None and second_value is None:
        raise InvalidRequestError(f"Pass one of {first} or {second}; neither was given.")
    if first_value is not None and second_value is not None:
        raise InvalidRequestError(f"Pass only one of {first} or {second}, not both.")


def _non_empty_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a string, not {type(value).__name__}.")
    if not value.strip():
        raise InvalidRequestError(f"{name} must not be empty.")
    return value


def _message_dict(index: int, message: object) -> dict[str, str]:
    if isinstance(message, ChatMessage):
        return {"role": message.role, "content": message.content}
    if not isinstance(message, Mapping):
        raise InvalidRequestError(
            f"messages[{index}] must be a ChatMessage or a mapping with role and content, "
            f"not {type(message).__name__}."
        )
    role = message.get("role")
    content = message.get("content")
    if role not in _ROLES:
        raise InvalidRequestError(
            f"messages[{index}].role must be one of {', '.join(_ROLES)}; got {role!r}."
        )
    if not isinstance(content, str):
        raise InvalidRequestError(f"messages[{index}].content must be a string.")
    return {"role": str(role), "content": content}


def _messages(messages: object) -> list[dict[str, str]]:
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise InvalidRequestError("messages must be a list of messages.")
    if not messages:
        raise InvalidRequestError("messages must not be empty.")
    result = [_message_dict(index, message) for index, message in enumerate(messages)]
    last = result[-1]
    if last["role"] != "user":
        raise InvalidRequestError(
            f"The last message must be the user's prompt (role 'user'), not {last['role']!r}."
        )
    if not last["content"].strip():
        raise InvalidRequestError("The last (user) message must not be empty.")
    return result


def build_chat_body(
    *,
    bot_uid: str | None,
    bot_slug: str | None,
    prompt: str | None,
    messages: Sequence[MessageLike] | None,
    stream: bool,
    language: str | None,
    max_words: int | None,
    user_id: int | None,
    use_search: bool | None,
    assumptions: Mapping[str, Any] | None,
    logger: logging.Logger,
) -> dict[str, Any]:
    """The JSON body of `POST /v1/chat`, with only the options given."""
    _exactly_one("bot_uid", bot_uid, "bot_slug", bot_slug)
    _exactly_one("prompt", prompt, "messages", messages)
    body: dict[str, Any] = {}
    if bot_uid is not None:
        body["bot_uid"] = _non_empty_str("bot_uid", bot_uid)
    else:
        body["bot_slug"] = _non_empty_str("bot_slug", bot_slug)
    if prompt is not None:
        body["prompt"] = _non_empty_str("prompt", prompt)
    else:
        body["messages"] = _messages(messages)
    if not isinstance(stream, bool):
        raise InvalidRequestError("stream must be True or False.")
    body["stream"] = stream
    if language is not None:
        if not isinstance(language, str):
            raise InvalidRequestError("language must be a string, e.g. 'English'.")
        body["language"] = language
    if max_words is not None:
        if not _is_int(max_words):
            raise InvalidRequestError("max_words must be an integer.")
        if max_words < 1:
            raise InvalidRequestError(f"max_words must be at least 1; got {max_words}.")
        body["max_words"] = max_words
    if user_id is not None:
        body["user_id"] = check_user_id(user_id)
    if use_search is not None:
        if not isinstance(use_search, bool):
            raise InvalidRequestError("use_search must be True or False.")
        body["use_search"] = use_search
    if assumptions is not None:
        if not isinstance(assumptions, Mapping):
            raise InvalidRequestError("assumptions must be a mapping.")
        body["assumptions"] = dict(assumptions)

    if use_search and max_words is not None and max_words < MIN_WORDS_WITH_SEARCH:
        logger.warning(
            "use_search with max_words=%d: the API advises at least %d words with web search; "
            "the answer may be cut off.",
            max_words,
            MIN_WORDS_WITH_SEARCH,
        )
    if max_words is not None and max_words > MAX_WORDS_ADVISED:
        logger.warning(
            "max_words=%d: above %d words regular models may time out; consider streaming.",
            max_words,
            MAX_WORDS_ADVISED,
        )
    return body


def check_user_id(user_id: object) -> int:
    """`user_id` if it is an int (bools refused), else InvalidRequestError."""
    if not _is_int(user_id):
        raise InvalidRequestError(f"user_id must be an integer, not {type(user_id).__name__}.")
    assert isinstance(user_id, int)
    return user_id


def parse_date(value: dt.date | str | None, name: str) -> dt.date:
    """A `date`, a `YYYY-MM-DD` string, or None for today (in UTC: the API's days)."""
    if value is None:
        return dt.datetime.now(dt.UTC).date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _DATE_RE.fullmatch(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                pass
        raise InvalidRequestError(f"{name} must be a date or 'YYYY-MM-DD'; got {value!r}.")
    raise InvalidRequestError(f"{name} must be a date or 'YYYY-MM-DD', not {type(value).__name__}.")


def build_usage_body(
    start_date: dt.date | str | None, end_date: dt.date | str | None, user_id: int
) -> dict[str, Any]:
    """The JSON body of `POST /v1/user/usage-statistics`."""
    start = parse_date(start_date, "start_date")
    end = parse_date(end_date, "end_date")
    if end < start:
        raise InvalidRequestError(f"end_date {end} is before start_date {start}.")
    return {
        "user_id": check_user_id(user_id),
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
    }
