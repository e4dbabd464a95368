"""Typed results. Unknown fields are ignored; wire names stay as the API spells them."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Bot", "ChatMessage", "Role", "UsageDay", "UsageStatistics", "UsageTotals"]

Role = Literal["system", "user", "assistant"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Bot(_Model):
    """A published bot, as `GET /v1/bots` lists it."""

    uid: str
    slug: str
    name: str
    description: str = ""
    welcome_message: str = ""
    model: str = ""
    avatar_url: str | None = None


class ChatMessage(_Model):
    """One message of a conversation sent to `/v1/chat`."""

    role: Role
    content: str


class UsageTotals(_Model):
    """The eight usage counters.

    The wire spells "enchancement"; `enhancement_tokens` / `enhancement_words`
    are correctly spelled read-only aliases of those two fields.
    """

    original_tokens: int = 0
    enchancement_tokens: int = 0
    response_tokens: int = 0
    total_tokens: int = 0
    original_words: int = 0
    enchancement_words: int = 0
    response_words: int = 0
    total_words: int = 0

    @property
    def enhancement_tokens(self) -> int:
        """Tokens the service added (bot instructions, search context)."""
        return self.enchancement_tokens

    @property
    def enhancement_words(self) -> int:
        """Words the service added (bot instructions, search context)."""
        return self.enchancement_words


class UsageDay(UsageTotals):
    """The counters of one day."""

    date: dt.date


class UsageStatistics(_Model):
    """`POST /v1/user/usage-statistics`: the totals of a range and its days."""

    total: UsageTotals
    items: list[UsageDay] = []

    def day(self, date: dt.date) -> UsageDay | None:
        """The item of `date`, or None when that day has no entry."""
        return next((item for item in self.items if item.date == date), None)
