"""The Statistics page through the real app, against the demo emulator's usage ledger."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import EmulatorHandle
from webapp import backend
from webapp.auth.gate import list_members
from webapp.statistics import usage
from webapp.ui.state import Keys

PARTS = {
    "Total": "total",
    "Original": "original",
    "Enhancement": "enchancement",
    "Response": "response",
}
Login = Callable[..., AppTest]  # the `logged_in` fixture of tests/app/conftest.py


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    # Each test starts as a new server process would: nothing cached yet.
    st.cache_data.clear()


def emulator() -> EmulatorHandle:
    handle = backend.demo_emulator()
    assert handle is not None
    return handle


def open_statistics(at: AppTest) -> AppTest:
    at.switch_page("views/statistics.py").run()
    assert not at.exception
    return at


def pick_range(at: AppTest, start: dt.date, end: dt.date) -> AppTest:
    at.radio(key=Keys.STATS_PRESET).set_value(usage.CUSTOM).run()
    at.date_input(key=Keys.STATS_START).set_value(start)
    at.date_input(key=Keys.STATS_END).set_value(end).run()
    assert not at.exception
    return at


def tiles(at: AppTest) -> dict[str, int]:
    """{"Total": n, "Original": n, ...} from the metric tiles (unit word dropped)."""
    return {m.label.split()[0]: int(m.value.replace(",", "")) for m in at.metric}


def ledger(user_id: int, start: dt.date, end: dt.date, unit: str = "words") -> dict[str, int]:
    total = emulator().usage(user_id=user_id, start=start, end=end)["total"]
    return {label: total[f"{wire}_{unit}"] for label, wire in PARTS.items()}


def test_after_a_chat_todays_totals_include_its_words_as_the_ledger_counts_them(
    logged_in: Login,
) -> None:
    at = logged_in("demo-member")
    member = at.session_state[Keys.MEMBER]
    today = dt.date.today()
    before = ledger(member.user_id, today, today)

    # A chat through the chat page, sent with this member's user_id.
    at.chat_input[0].set_value("How many words does this chat add to my usage?").run()
    assert not at.exception
    after = ledger(member.user_id, today, today)
    assert after["Total"] > before["Total"]
    assert after["Response"] > before["Response"]

    pick_range(open_statistics(at), today, today)
    assert tiles(at) == after
    daily = at.dataframe[0].value
    assert daily["date"].tolist() == [today]
    assert int(daily["total"].iloc[0]) == after["Total"]

    at.radio(key=Keys.STATS_UNIT).set_value("tokens").run()
    assert tiles(at) == ledger(member.user_id, today, today, "tokens")

    # a member sees only their own usage: no scope picker, no team breakdown
    assert not [s for s in at.selectbox if s.key == Keys.STATS_SCOPE]
    assert "Per member" not in [h.value for h in at.header]


def test_a_preset_range_fills_every_day_and_offers_the_csv(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-member"))
    member = at.session_state[Keys.MEMBER]
    today = dt.date.today()

    at.radio(key=Keys.STATS_PRESET).set_value(usage.LAST_30_DAYS).run()
    start = today - dt.timedelta(days=29)
    daily = at.dataframe[0].value
    assert daily["date"].tolist() == usage.days_in(start, today)
    assert tiles(at) == ledger(member.user_id, start, today)
    assert int(daily["total"].sum()) == tiles(at)["Total"]
    assert len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) == 1
    assert at.download_button[0].label == "Download CSV"


def test_each_tile_says_what_it_counts(logged_in: Login) -> None:
    """Original, enhancement and response are the API's terms: a hover explains them."""
    at = open_statistics(logged_in("demo-member"))
    helps = {m.label.split()[0]: m.help for m in at.metric}
    assert set(helps) == {"Total", "Original", "Enhancement", "Response"}
    assert "typed" in helps["Original"]
    assert "added" in helps["Enhancement"] and "instructions" in helps["Enhancement"]
    assert "answers" in helps["Response"]
    assert all(helps.values())


def test_an_admin_sees_the_team_view_with_a_per_member_breakdown(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-admin"))
    today = dt.date.today()
    start = today - dt.timedelta(days=6)  # the default preset: last 7 days
    members = list_members()

    scope = at.selectbox(key=Keys.STATS_SCOPE)
    assert scope.value == usage.TEAM_USER_ID
    assert scope.options[0] == "Whole team"
    assert len(scope.options) == 1 + len(members)
    assert tiles(at) == ledger(usage.TEAM_USER_ID, start, today)

    assert "Per member" in [h.value for h in at.header]
    breakdown = at.dataframe[1].value
    for member in members:
        row = breakdown[breakdown["member"] == f"{member.name} ({member.username})"]
        assert int(row["total"].iloc[0]) == ledger(member.user_id, start, today)["Total"]
    # members plus "Others" add up to the team's total
    assert int(breakdown["total"].sum()) == tiles(at)["Total"]

    # one member's own figures, without the breakdown
    demo_member = next(m for m in members if m.role == "member")
    scope.set_value(demo_member.user_id).run()
    assert tiles(at) == ledger(demo_member.user_id, start, today)
    assert "Per member" not in [h.value for h in at.header]


def test_an_end_date_before_the_start_date_shows_a_message(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-member"))
    today = dt.date.today()

    pick_range(at, today, today - dt.timedelta(days=3))

    assert "before the start date" in at.warning[0].value
    assert not at.metric
    assert not at.error


def test_a_range_without_usage_shows_zeros_and_an_empty_chart(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-member"))
    start = dt.date.today() - dt.timedelta(days=800)  # long before the emulator's history

    pick_range(at, start, start + dt.timedelta(days=6))

    assert tiles(at) == dict.fromkeys(PARTS, 0)
    daily = at.dataframe[0].value
    assert len(daily) == 7
    assert int(daily["total"].sum()) == 0
    assert "No usage in this range" in at.info[0].value
    assert not at.error


def test_the_tables_counts_have_thousands_separators_as_the_tiles_do(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-admin"))
    assert any("," in m.value for m in at.metric), "the seeded history reaches thousands"
    for table in (at.dataframe[0], at.dataframe[1]):  # daily, per member
        config = json.loads(table.proto.columns)
        for column in usage.COLUMNS:
            assert config[column]["type_config"]["format"] == usage.COUNT_FORMAT
            assert config[column]["label"] == usage.TABLE_LABELS[column]


def _past_utc_midnight_soon() -> None:
    """Wait out the last seconds of a UTC day, so the chat and the page share one."""
    now = dt.datetime.now(dt.UTC)
    left = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.UTC) - now
    if left < dt.timedelta(seconds=20):
        time.sleep(left.total_seconds() + 1)


# Issue 28, item 11: a browser in Kiritimati (UTC+14) at 04:50 on 7 December made a
# chat and Statistics for "today" said "No usage in this range yet": the page's today
# was the member's date, the usage's days the API's. Between these zones, at every
# hour of the day at least one browser's date differs from UTC's.
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata", "UTC"])
def test_a_chat_made_now_is_under_the_day_the_page_calls_today_in_every_zone(
    logged_in: Login, zone: str
) -> None:
    _past_utc_midnight_soon()
    at = logged_in("demo-member")
    at.context["timezone"] = zone
    member = at.session_state[Keys.MEMBER]
    at.chat_input[0].set_value("Which day will this chat be counted on?").run()
    assert not at.exception

    open_statistics(at)
    at.radio(key=Keys.STATS_PRESET).set_value(usage.CUSTOM).run()
    page_today = at.date_input(key=Keys.STATS_END).value  # the day the page calls today
    pick_range(at, page_today, page_today)
    assert "No usage in this range yet." not in [i.value for i in at.info]
    chat_day = dt.datetime.now(dt.UTC).date()  # the API books a chat on its UTC day
    assert page_today == chat_day
    assert tiles(at) == ledger(member.user_id, chat_day, chat_day)
    assert tiles(at)["Response"] > 0
    # The page says whose days these are.
    assert any("Days are UTC days" in c.value for c in at.caption)
    assert at.date_input(key=Keys.STATS_END).label == "To (UTC day)"
    assert json.loads(at.dataframe[0].proto.columns)["date"]["label"] == "Day (UTC)"
