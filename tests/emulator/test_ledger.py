"""Usage ledger: seeded history, chats moving the counters, per-user split, -1 = all."""

from __future__ import annotations

import math
import threading
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from ablt_core.emulator import EmulatorHandle
from ablt_core.emulator.ledger import COUNTER_NAMES, Ledger, Usage
from tests.emulator.helpers import CHAT_URL, STATS_URL, sse_events

TODAY = date.today()


def stats(http: httpx.Client, user_id: int, start: date = TODAY, end: date = TODAY) -> Any:
    response = http.post(
        STATS_URL,
        json={"user_id": user_id, "start_date": start.isoformat(), "end_date": end.isoformat()},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_seeded_history_ends_yesterday_for_users_1_to_3() -> None:
    fixed_today = date(2024, 3, 15)
    ledger = Ledger(history_days=90, today=fixed_today)
    everything = ledger.statistics(-1, date(2000, 1, 1), date(2100, 1, 1))
    days = [date.fromisoformat(item["date"]) for item in everything["items"]]
    assert days == sorted(days)
    assert days[-1] == fixed_today - timedelta(days=1)
    assert days[0] >= fixed_today - timedelta(days=90)
    assert ledger.statistics(-1, fixed_today, fixed_today)["items"] == []
    for user_id in (1, 2, 3):
        assert ledger.statistics(user_id, days[0], days[-1])["items"]
    assert ledger.statistics(4, days[0], days[-1])["items"] == []


def test_seeded_history_is_deterministic_and_busier_on_weekdays() -> None:
    first = Ledger(history_days=60, today=date(2024, 3, 15))
    second = Ledger(history_days=60, today=date(2024, 3, 15))
    span = (date(2024, 1, 1), date(2024, 3, 15))
    assert first.statistics(-1, *span) == second.statistics(-1, *span)
    items = first.statistics(1, *span)["items"]
    weekday = [i["total_words"] for i in items if date.fromisoformat(i["date"]).weekday() < 5]
    weekend = [i["total_words"] for i in items if date.fromisoformat(i["date"]).weekday() >= 5]
    assert sum(weekday) / len(weekday) > 2 * (sum(weekend) / max(len(weekend), 1))


def test_ledger_is_thread_safe() -> None:
    ledger = Ledger(history_days=0)
    one = Usage(original_words=1, original_tokens=2, response_words=3)

    def add_many() -> None:
        for _ in range(500):
            ledger.add(5, one)

    threads = [threading.Thread(target=add_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = ledger.statistics(5, TODAY, TODAY)["total"]
    assert (total["original_words"], total["response_words"]) == (4000, 12000)
    assert total["total_words"] == 16000


def test_a_chat_moves_its_users_counters_by_what_it_said(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    before_user, before_other, before_all = stats(http, 4242), stats(http, 4343), stats(http, -1)
    prompt = "Please summarise the quarterly report"
    answer = http.post(
        CHAT_URL,
        json={
            "bot_slug": "omni",
            "prompt": prompt,
            "stream": True,
            "user_id": 4242,
            "use_search": True,
        },
    )
    assert answer.status_code == 200
    text = "".join(event["content"] for event in sse_events(answer.content)[:-1])
    after_user, after_other, after_all = stats(http, 4242), stats(http, 4343), stats(http, -1)

    delta = {k: after_user["total"][k] - before_user["total"][k] for k in COUNTER_NAMES}
    assert delta["original_words"] == len(prompt.split())
    assert delta["original_tokens"] == math.ceil(len(prompt) / 4)
    assert delta["response_words"] == len(text.split())
    assert delta["response_tokens"] == math.ceil(len(text) / 4)
    assert delta["enchancement_words"] > 0  # bot instructions + search context
    assert delta["total_words"] == (
        delta["original_words"] + delta["enchancement_words"] + delta["response_words"]
    )
    assert after_other == before_other
    all_delta = after_all["total"]["total_words"] - before_all["total"]["total_words"]
    assert all_delta == delta["total_words"]
    assert [i["date"] for i in after_user["items"]] == [TODAY.isoformat()]


def test_chat_without_user_id_counts_for_user_0(http: httpx.Client) -> None:
    before = stats(http, 0)["total"]["response_words"]
    http.post(CHAT_URL, json={"bot_slug": "omni", "prompt": "hi", "stream": False, "max_words": 9})
    assert stats(http, 0)["total"]["response_words"] == before + 9


def test_all_users_is_the_sum_of_each_user(http: httpx.Client) -> None:
    start, end = TODAY - timedelta(days=30), TODAY - timedelta(days=1)
    per_user = [stats(http, uid, start, end)["total"] for uid in (1, 2, 3)]
    everyone = stats(http, -1, start, end)
    for name in COUNTER_NAMES:
        assert everyone["total"][name] == sum(u[name] for u in per_user)


def test_statistics_shape_items_and_total(http: httpx.Client, emulator: EmulatorHandle) -> None:
    start, end = TODAY - timedelta(days=14), TODAY - timedelta(days=1)
    body = stats(http, 1, start, end)
    assert set(body) == {"total", "items"}
    assert list(body["total"]) == list(COUNTER_NAMES)
    dates = [item["date"] for item in body["items"]]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)
    assert all(start.isoformat() <= d <= end.isoformat() for d in dates)
    for item in body["items"]:
        assert set(item) == {*COUNTER_NAMES, "date"}
        assert item["total_tokens"] > 0
    for name in COUNTER_NAMES:
        assert body["total"][name] == sum(item[name] for item in body["items"])
    assert emulator.usage(user_id=1, start=start, end=end) == body


def test_range_without_usage_is_empty(http: httpx.Client) -> None:
    body = stats(http, 1, date(1999, 1, 1), date(1999, 12, 31))
    assert body["items"] == []
    assert set(body["total"].values()) == {0}


@pytest.mark.parametrize(
    "body",
    [
        {"user_id": 1, "start_date": "2024-13-45", "end_date": "2024-01-01"},
        {"user_id": 1, "start_date": "yesterday", "end_date": "2024-01-01"},
        {"user_id": 1, "start_date": "2024-01-01"},
        {"user_id": "all", "start_date": "2024-01-01", "end_date": "2024-01-02"},
        {"start_date": "2024-01-01", "end_date": "2024-01-02"},
    ],
    ids=["impossible-date", "words", "no-end", "user-id-text", "no-user-id"],
)
def test_bad_statistics_body_is_422(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post(STATS_URL, json=body)
    assert response.status_code == 422
    assert all(item["loc"][0] == "body" for item in response.json()["detail"])
