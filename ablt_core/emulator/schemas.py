"""Request bodies, validated the way the real FastAPI service does it.

Pydantic parses the raw JSON, so a body that breaks the contract yields the
same 422 shape FastAPI sends: ``{"detail": [{"loc": ["body", ...], "msg": ...,
"type": ...}]}``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class MessageBody(BaseModel):
    """One message of ``messages``."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant"]
    content: str


class ChatBody(BaseModel):
    """``POST /v1/chat``."""

    model_config = ConfigDict(extra="ignore")

    bot_uid: str | None = None
    bot_slug: str | None = None
    prompt: str | None = None
    messages: list[MessageBody] | None = None
    stream: bool
    language: str | None = None
    max_words: int | None = Field(default=None, ge=1)
    user_id: int | None = None
    use_search: bool | None = False
    assumptions: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _exactly_one_of_each(self) -> ChatBody:
        if (self.bot_uid is None) == (self.bot_slug is None):
            raise ValueError("exactly one of bot_uid or bot_slug is required")
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("exactly one of prompt or messages is required")
        if self.messages is not None:
            if not self.messages:
                raise ValueError("messages must not be empty")
            if self.messages[-1].role != "user":
                raise ValueError("the last message must come from the user")
        return self


class StatisticsBody(BaseModel):
    """``POST /v1/user/usage-statistics``."""

    model_config = ConfigDict(extra="ignore")

    user_id: int
    start_date: date
    end_date: date


def error_detail(err: ValidationError) -> list[dict[str, Any]]:
    """FastAPI's 422 ``detail`` list for a body validation error."""
    detail = []
    for item in err.errors(include_url=False, include_context=False):
        detail.append(
            {
                "type": item["type"],
                "loc": ["body", *item["loc"]],
                "msg": item["msg"],
                "input": item.get("input"),
            }
        )
    return detail
