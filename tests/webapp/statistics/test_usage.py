"""Usage logic: presets, day filling, frames, breakdown, CSV, on real ablt_core models."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from ablt_core import UsageStatistics, UsageTotals
from webapp.statistics import usage

D = dt.date


def counters(original: int, enhancement: int, response: int, scale: int = 1) -> dict[str, int]:
    """The eight wire counters; tokens are `scale` times the words."""
    wire: dict[str, int] = {}
    for unit, factor in (("words", 1), ("tokens", scale)):
        wire[f"original_{unit}"] = original * factor
        wire[f"enchancement_{unit}"] = enhancement * factor
        wire[f"response_{unit}"] = response * factor
        wire[f"total_{unit}"] = (original + enhancement + response) * factor
    return wire


def statistics(days: dict[dt.date, tuple[int, int, int]], scale: int = 2) -> UsageStatistics:
    """A statistics reply as the API sends it (wire JSON), validated by the real model."""
    items = [{"date": day.isoformat(), **counters(*parts, scale)} for day, parts in days.items()]
    total = counters(*(sum(parts[i] for parts in days.values()) for i in range(3)), scale)
    return UsageStatistics.model_validate({"total": total, "items": items})


# -- presets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "start"),
    [
        (usage.LAST_7_DAYS, D(2024, 3, 4)),
        (usage.LAST_30_DAYS, D(2024, 2, 10)),  # across February of a leap year
        (usage.LAST_90_DAYS, D(2023, 12, 12)),
        (usage.THIS_MONTH, D(2024, 3, 1)),
    ],
)
def test_presets_end_today_and_count_today_in(preset: str, start: dt.date) -> None:
    assert usage.preset_range(preset, D(2024, 3, 10)) == (start, D(2024, 3, 10))


def test_preset_lengths_in_days() -> None:
    today = D(2024, 1, 5)
    for preset, length in (
        (usage.LAST_7_DAYS, 7),
        (usage.LAST_30_DAYS, 30),
        (usage.LAST_90_DAYS, 90),
    ):
        start, end = usage.preset_range(preset, today)
        assert len(usage.days_in(start, end)) == length


def test_this_month_on_the_first_is_one_day() -> None:
    assert usage.preset_range(usage.THIS_MONTH, D(2024, 5, 1)) == (D(2024, 5, 1), D(2024, 5, 1))


def test_custom_has_no_fixed_range() -> None:
    with pytest.raises(ValueError):
        usage.preset_range(usage.CUSTOM, D(2024, 5, 1))


TODAY = D(2026, 11, 30)


def test_a_range_up_to_today_is_shown_as_asked() -> None:
    choice = usage.resolve_range(D(2026, 11, 1), D(2026, 11, 1), TODAY)
    assert (choice.start, choice.end, choice.note, choice.problem) == (
        D(2026, 11, 1),
        D(2026, 11, 1),
        None,
        None,
    )
    choice = usage.resolve_range(D(2026, 11, 1), TODAY, TODAY)
    assert (choice.start, choice.end, choice.note) == (D(2026, 11, 1), TODAY, None)


def test_a_reversed_range_names_the_members_own_dates_and_shows_nothing() -> None:
    # The report: 20 Nov to 10 Nov silently showed 20-30 Nov.
    choice = usage.resolve_range(D(2026, 11, 20), D(2026, 11, 10), TODAY)
    assert choice.problem == (
        "You asked for 2026-11-20 to 2026-11-10: the end date is before the start date. "
        "Pick an end date on or after 2026-11-20."
    )
    assert (choice.start, choice.end) == (None, None)


def test_a_range_wholly_in_the_future_names_the_dates_picked_not_today() -> None:
    # The report: January-February 2027 said "the end date (2026-11-30) is before
    # the start date (2027-01-01)" although the member picked 1 Feb 2027.
    choice = usage.resolve_range(D(2027, 1, 1), D(2027, 2, 1), TODAY)
    assert choice.problem == (
        "You asked for 2027-01-01 to 2027-02-01, which is after today (2026-11-30): "
        "there is no usage to show yet. Pick dates up to 2026-11-30."
    )
    assert "2026-11-30) is before" not in choice.problem


def test_a_range_ending_in_the_future_is_clamped_with_a_note_naming_both() -> None:
    choice = usage.resolve_range(D(2026, 11, 20), D(2026, 12, 15), TODAY)
    assert (choice.start, choice.end) == (D(2026, 11, 20), TODAY)
    assert choice.note == (
        "You asked for 2026-11-20 to 2026-12-15. Usage exists only up to today, "
        "so this shows 2026-11-20 to 2026-11-30."
    )
    assert (choice.asked_start, choice.asked_end) == (D(2026, 11, 20), D(2026, 12, 15))


def test_a_half_picked_range_asks_for_both_dates() -> None:
    assert usage.resolve_range(D(2026, 11, 9), None, TODAY).problem == (
        "Pick both a start and an end date."
    )
    assert usage.resolve_range(None, None, TODAY).problem is not None


# -- the daily frame --------------------------------------------------------------------


def test_daily_frame_fills_missing_days_with_zeros_across_the_whole_range() -> None:
    stats = statistics({D(2024, 5, 2): (10, 5, 30), D(2024, 5, 4): (1, 2, 3)})
    frame = usage.daily_frame(stats, D(2024, 5, 1), D(2024, 5, 5), "words")

    assert list(frame.columns) == ["date", "original", "enhancement", "response", "total"]
    assert list(frame["date"]) == usage.days_in(D(2024, 5, 1), D(2024, 5, 5))
    assert frame.to_dict("records") == [
        {"date": D(2024, 5, 1), "original": 0, "enhancement": 0, "response": 0, "total": 0},
        {"date": D(2024, 5, 2), "original": 10, "enhancement": 5, "response": 30, "total": 45},
        {"date": D(2024, 5, 3), "original": 0, "enhancement": 0, "response": 0, "total": 0},
        {"date": D(2024, 5, 4), "original": 1, "enhancement": 2, "response": 3, "total": 6},
        {"date": D(2024, 5, 5), "original": 0, "enhancement": 0, "response": 0, "total": 0},
    ]


def test_daily_frame_in_tokens_reads_the_token_counters() -> None:
    stats = statistics({D(2024, 5, 2): (10, 5, 30)}, scale=3)
    frame = usage.daily_frame(stats, D(2024, 5, 2), D(2024, 5, 2), "tokens")
    assert frame.iloc[0][["original", "enhancement", "response", "total"]].tolist() == [
        30,
        15,
        90,
        135,
    ]


def test_daily_frame_drops_days_outside_the_range_and_adds_duplicates() -> None:
    stats = UsageStatistics.model_validate(
        {
            "total": counters(0, 0, 0),
            "items": [
                {"date": "2024-04-30", **counters(100, 100, 100)},
                {"date": "2024-05-01", **counters(1, 1, 1)},
                {"date": "2024-05-01", **counters(2, 0, 0)},
            ],
        }
    )
    frame = usage.daily_frame(stats, D(2024, 5, 1), D(2024, 5, 2), "words")
    assert frame["original"].tolist() == [3, 0]
    assert frame["total"].tolist() == [5, 0]


def test_an_empty_reply_gives_a_frame_of_zeros() -> None:
    stats = UsageStatistics.model_validate({"total": counters(0, 0, 0), "items": []})
    frame = usage.daily_frame(stats, D(2024, 5, 1), D(2024, 5, 7), "words")
    assert len(frame) == 7
    assert usage.frame_totals(frame) == dict.fromkeys(usage.COLUMNS, 0)
    assert usage.totals_row(stats.total, "words") == dict.fromkeys(usage.COLUMNS, 0)
    # the chart still builds (an empty-looking chart rather than an error)
    assert usage.daily_chart(frame, "words").to_dict()["mark"]["type"] == "bar"


def test_totals_row_uses_the_enhancement_counter_despite_the_wire_spelling() -> None:
    totals = UsageTotals.model_validate(counters(4, 7, 9, scale=2))
    assert usage.totals_row(totals, "words") == {
        "original": 4,
        "enhancement": 7,
        "response": 9,
        "total": 20,
    }
    assert usage.totals_row(totals, "tokens")["enhancement"] == totals.enhancement_tokens == 14


def test_daily_chart_stacks_the_three_parts() -> None:
    stats = statistics({D(2024, 5, 2): (10, 5, 30)})
    frame = usage.daily_frame(stats, D(2024, 5, 1), D(2024, 5, 2), "words")
    spec = usage.daily_chart(frame, "words").to_dict()
    assert spec["encoding"]["y"]["stack"] == "zero"
    assert spec["encoding"]["color"]["field"] == "part"
    values = next(iter(spec["datasets"].values()))
    assert {row["part"] for row in values} == {"Original", "Enhancement", "Response"}
    assert len(values) == 2 * 3  # every day of the range, zero days included


# -- per-member breakdown ---------------------------------------------------------------


def totals(original: int, enhancement: int, response: int) -> UsageTotals:
    return UsageTotals.model_validate(counters(original, enhancement, response))


def test_breakdown_one_row_per_member_most_usage_first() -> None:
    rows = [
        usage.MemberUsage("Ann", totals(1, 1, 1)),
        usage.MemberUsage("Bob", totals(10, 0, 10)),
        usage.MemberUsage("Cy", totals(0, 0, 0)),
    ]
    frame = usage.breakdown_frame(rows, "words")
    assert frame["member"].tolist() == ["Bob", "Ann", "Cy"]
    assert frame["total"].tolist() == [20, 3, 0]


def test_breakdown_adds_an_others_row_so_rows_sum_to_the_team_total() -> None:
    rows = [usage.MemberUsage("Ann", totals(1, 2, 3)), usage.MemberUsage("Bob", totals(4, 0, 6))]
    frame = usage.breakdown_frame(rows, "words", team_total=totals(15, 2, 19))
    assert frame["member"].tolist() == ["Bob", "Ann", usage.OTHERS_LABEL]
    assert frame.iloc[-1][["original", "enhancement", "response", "total"]].tolist() == [
        10,
        0,
        10,
        20,
    ]
    assert usage.frame_totals(frame) == usage.totals_row(totals(15, 2, 19), "words")


def test_breakdown_has_no_others_row_when_members_account_for_everything() -> None:
    rows = [usage.MemberUsage("Ann", totals(1, 2, 3))]
    frame = usage.breakdown_frame(rows, "words", team_total=totals(1, 2, 3))
    assert frame["member"].tolist() == ["Ann"]
    spec = usage.breakdown_chart(frame, "words").to_dict()
    assert spec["encoding"]["x"]["stack"] == "zero"


# -- CSV --------------------------------------------------------------------------------


def test_csv_has_a_header_iso_dates_and_one_line_per_day() -> None:
    stats = statistics({D(2024, 5, 2): (10, 5, 30)})
    frame = usage.daily_frame(stats, D(2024, 5, 1), D(2024, 5, 3), "words")
    data = usage.csv_bytes(frame)
    assert isinstance(data, bytes)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows == [
        ["date", "original", "enhancement", "response", "total"],
        ["2024-05-01", "0", "0", "0", "0"],
        ["2024-05-02", "10", "5", "30", "45"],
        ["2024-05-03", "0", "0", "0", "0"],
    ]


def test_csv_file_name_is_safe_and_says_what_it_holds() -> None:
    name = usage.csv_file_name(D(2024, 5, 1), D(2024, 5, 7), "tokens", "Ann Lee (ann)")
    assert name == "ablt-usage-ann-lee--ann-2024-05-01-to-2024-05-07-tokens.csv"


def test_daily_chart_has_one_band_per_day_ending_on_the_last_day() -> None:
    stats = statistics({D(2026, 11, 26): (10, 5, 30), D(2026, 11, 20): (1, 1, 1)})
    frame = usage.daily_frame(stats, D(2026, 11, 20), D(2026, 11, 26), "words")
    spec = usage.daily_chart(frame, "words").to_dict()
    x = spec["encoding"]["x"]
    assert x["type"] == "ordinal"  # a band per day: no time axis running past the range
    assert x["sort"] == [f"Nov {n}" for n in range(20, 27)]  # the last band is the end day
    values = next(iter(spec["datasets"].values()))
    last_day = {row["part"]: row["value"] for row in values if row["day"] == "Nov 26"}
    assert last_day == {"Original": 10, "Enhancement": 5, "Response": 30}
    assert {row["date"] for row in values if row["day"] == "Nov 26"} == {"2026-11-26"}


def test_day_labels_name_the_year_only_when_the_range_spans_two() -> None:
    assert usage.day_labels([D(2026, 11, 6), D(2026, 11, 26)]) == ["Nov 6", "Nov 26"]
    assert usage.day_labels([D(2025, 12, 31), D(2026, 1, 1)]) == ["Dec 31, 2025", "Jan 1, 2026"]


def test_charts_use_the_apps_indigo_palette() -> None:
    stats = statistics({D(2024, 5, 2): (10, 5, 30)})
    frame = usage.daily_frame(stats, D(2024, 5, 1), D(2024, 5, 2), "words")
    breakdown = usage.breakdown_frame([usage.MemberUsage("Ann", totals(1, 2, 3))], "words")
    for chart in (usage.daily_chart(frame, "words"), usage.breakdown_chart(breakdown, "words")):
        scale = chart.to_dict()["encoding"]["color"]["scale"]
        assert scale["domain"] == ["Original", "Enhancement", "Response"]
        assert scale["range"] == ["#312E81", "#A5B4FC", "#4F46E5"]
        assert "#4F46E5" in scale["range"]  # the theme's primary colour


# -- the member's own day (issue 7: dates a member sees and picks) -------------------------


def test_presets_end_on_the_members_today_not_the_servers() -> None:
    from zoneinfo import ZoneInfo

    instant = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # still 29 Nov in California
    la = usage.member_today(ZoneInfo("America/Los_Angeles"), instant)
    kiribati = usage.member_today(ZoneInfo("Pacific/Kiritimati"), instant)  # UTC+14
    assert la == dt.date(2026, 11, 29)
    assert kiribati == dt.date(2026, 11, 30)
    assert usage.preset_range(usage.LAST_7_DAYS, la) == (dt.date(2026, 11, 23), la)
    late = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)  # already 1 Dec at UTC+14
    assert usage.member_today(ZoneInfo("Pacific/Kiritimati"), late) == dt.date(2026, 12, 1)
    assert usage.preset_range(usage.THIS_MONTH, dt.date(2026, 12, 1))[0] == dt.date(2026, 12, 1)


# -- one calendar: the API's (UTC) days (issue 28, item 11) ---------------------------------

ZONES = ("Etc/GMT+12", "UTC", "Asia/Kolkata", "Pacific/Kiritimati")  # UTC-12 .. UTC+14
INSTANTS = (
    dt.datetime(2026, 12, 6, 14, 50, tzinfo=dt.UTC),  # 04:50 on 7 Dec in Kiritimati
    dt.datetime(2026, 12, 6, 23, 59, 59, tzinfo=dt.UTC),  # UTC's midnight
    dt.datetime(2026, 12, 7, 0, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 6, 9, 59, 59, tzinfo=dt.UTC),  # Kiritimati's midnight
    dt.datetime(2026, 12, 6, 10, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 6, 11, 59, 59, tzinfo=dt.UTC),  # UTC-12's midnight
    dt.datetime(2026, 12, 6, 12, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 6, 18, 29, 59, tzinfo=dt.UTC),  # Kolkata's midnight
    dt.datetime(2026, 12, 6, 18, 30, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC),  # a new year in the east
)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("now", INSTANTS, ids=lambda t: f"{t:%m-%d-%H%M%S}")
def test_usage_made_now_is_on_the_day_the_page_calls_today_in_every_zone(
    zone: str, now: dt.datetime
) -> None:
    from zoneinfo import ZoneInfo

    from ablt_core.emulator.ledger import Ledger, Usage, usage_day

    calendar = usage.stats_calendar(ZoneInfo(zone), now)
    ledger = Ledger(history_days=0, seed_users=())
    ledger.add(7, Usage(original_words=3, response_words=5), day=usage_day(now))  # a chat now

    today = calendar.today
    booked = UsageStatistics.model_validate(ledger.statistics(7, today, today))
    assert booked.total.total_words == 8, f"{zone}: the chat is not under today ({today})"
    for preset in (usage.LAST_7_DAYS, usage.LAST_30_DAYS, usage.THIS_MONTH):
        start, end = usage.preset_range(preset, today)
        assert end == today
        assert UsageStatistics.model_validate(ledger.statistics(7, start, end)).total.total_words
    frame = usage.daily_frame(booked, *usage.preset_range(usage.LAST_7_DAYS, today), "words")
    assert frame["date"].iloc[-1] == today and int(frame["total"].iloc[-1]) == 8
    label = usage.day_labels(list(frame["date"]))[-1]
    assert label.startswith(f"{today:%b} {today.day}")
    assert usage.resolve_range(today, today, today).start == today  # no clamp, no note
    assert "UTC" in calendar.note


def test_a_browser_in_kiritimati_is_told_the_days_are_utc_and_its_own_clock() -> None:
    from zoneinfo import ZoneInfo

    now = dt.datetime(2026, 12, 6, 14, 50, tzinfo=dt.UTC)  # 04:50 on 7 Dec, UTC+14
    calendar = usage.stats_calendar(ZoneInfo("Pacific/Kiritimati"), now)
    assert calendar.today == D(2026, 12, 6)
    assert calendar.note == (
        "Days are UTC days, as the aBLT API counts usage: it is now 14:50 UTC on Dec 6 "
        "(04:50 on Dec 7 where you are)."
    )
    same_day = usage.stats_calendar(ZoneInfo("Asia/Kolkata"), now)  # 20:20 on 6 Dec
    assert "where you are" not in same_day.note
    assert "where you are" not in usage.stats_calendar(None, now).note


@pytest.mark.parametrize("host_zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_the_emulator_books_usage_on_the_utc_day_whatever_the_hosts_zone(
    host_zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger (and the client's default date) used the host's local date:
    on a host east or west of UTC a chat landed on another day than the one
    the app calls today. Between the two host zones, every hour of the day
    has one whose date differs from UTC's."""
    import time

    from ablt_core._validation import parse_date
    from ablt_core.emulator.ledger import Ledger, Usage

    monkeypatch.setenv("TZ", host_zone)
    time.tzset()
    try:
        before = usage.api_today()
        ledger = Ledger(history_days=0, seed_users=())
        ledger.add(7, Usage(original_words=4))
        default_day = parse_date(None, "start_date")
        after = usage.api_today()
    finally:
        monkeypatch.undo()
        time.tzset()
    booked = [item["date"] for item in ledger.statistics(7, before, after)["items"]]
    assert booked and booked[0] in (before.isoformat(), after.isoformat())
    assert default_day in (before, after)
