"""MUST-SHOW compatibility: the official aBLT wrapper and its schemas accept the emulator."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import httpx
import pytest
from ablt_python_api import ABLTApi, ABLTApi_async, DoneException
from ablt_python_api.schemas import BotSchema, StatisticsSchema

from ablt_core.emulator import EmulatorHandle
from tests.emulator.helpers import STATS_URL

QUIET = logging.getLogger("tests.official-wrapper")  # keeps the wrapper from writing api.log


@pytest.fixture
def official(emulator: EmulatorHandle, test_token: str) -> ABLTApi:
    return ABLTApi(bearer_token=test_token, base_api_url=emulator.base_url, logger=QUIET)


def test_official_bot_schema_validates_every_bot(http: httpx.Client) -> None:
    bots = [BotSchema.model_validate(bot) for bot in http.get("/v1/bots").json()]
    assert "omni" in {bot.slug for bot in bots}


def test_official_statistics_schema_validates_the_statistics(http: httpx.Client) -> None:
    today = date.today()
    body = {
        "user_id": -1,
        "start_date": (today - timedelta(days=30)).isoformat(),
        "end_date": today.isoformat(),
    }
    stats = StatisticsSchema.model_validate(http.post(STATS_URL, json=body).json())
    assert stats.items and stats.total.total_words == sum(i.total_words for i in stats.items)


def test_official_wrapper_health_bots_and_statistics(official: ABLTApi) -> None:
    assert official.health_check() is True
    assert official.find_bot_by_slug("omni")["model"] == "gpt-4"
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    day = official.get_statistics_for_a_day(date=yesterday, user_id=-1)
    assert day is not None and day["date"] == yesterday


def test_official_wrapper_chats_streamed_and_not(official: ABLTApi) -> None:
    messages = [
        {"role": "user", "content": "Plan a weekend in Lisbon"},
        {"role": "assistant", "content": "Happy to!"},
        {"role": "user", "content": "On a budget, please"},
    ]
    plain = list(official.chat(bot_slug="travel-planner", messages=messages, max_words=60))
    assert len(plain) == 1 and "\u201cOn a budget, please\u201d" in plain[0]

    pieces: list[str] = []
    with pytest.raises(DoneException):  # the wrapper's way of saying [DONE] arrived
        for piece in official.chat(
            bot_slug="travel-planner", messages=messages, max_words=60, stream=True
        ):
            pieces.append(piece)
    assert len(pieces) > 10
    assert "".join(pieces) == plain[0]


async def test_official_async_wrapper_streams_the_same_answer(
    emulator: EmulatorHandle, test_token: str
) -> None:
    official = ABLTApi_async(bearer_token=test_token, base_api_url=emulator.base_url, logger=QUIET)
    plain = [p async for p in official.chat(bot_slug="chef", prompt="Soup ideas?")]
    pieces: list[str] = []
    with pytest.raises(DoneException):
        async for piece in official.chat(bot_slug="chef", prompt="Soup ideas?", stream=True):
            pieces.append(piece)
    assert "".join(pieces) == plain[0]
