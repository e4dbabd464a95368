"""Usage statistics: date-range presets, daily frames, per-member breakdown, CSV.

Everything here is pure: `ablt_core` models and dates in, pandas frames,
altair charts or bytes out, so tests can check the numbers without a browser.
The page only picks the range and scope, calls these functions and renders
what they return. The cached loaders live in `webapp.statistics.api` (re-exported
here), which imports neither pandas nor altair: only the Statistics page
imports this module, so the chat page's process heap stays small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import altair as alt
import pandas as pd
import streamlit as st

from ablt_core import UsageStatistics, UsageTotals

# Re-exported: the Statistics page and its tests find everything here.
from webapp.statistics.api import STATS_TTL_SECONDS as STATS_TTL_SECONDS
from webapp.statistics.api import MemberUsage as MemberUsage
from webapp.statistics.api import forget_statistics as forget_statistics
from webapp.statistics.api import load_breakdown as load_breakdown
from webapp.statistics.api import load_statistics as load_statistics
from webapp.text import csv_safe
from webapp.ui.i18n import N_, _, format_date, format_day_month, format_time

if TYPE_CHECKING:  # the type of `st.column_config`'s entries, for annotations only
    from webapp.ui.types import ColumnConfig

TEAM_USER_ID = -1  # the API's "all users of the token"

LAST_7_DAYS = N_("Last 7 days")
LAST_30_DAYS = N_("Last 30 days")
LAST_90_DAYS = N_("Last 90 days")
THIS_MONTH = N_("This month")
CUSTOM = N_("Custom")
PRESETS = (LAST_7_DAYS, LAST_30_DAYS, LAST_90_DAYS, THIS_MONTH, CUSTOM)
_PRESET_DAYS = {LAST_7_DAYS: 7, LAST_30_DAYS: 30, LAST_90_DAYS: 90}

UNITS = ("words", "tokens")
UNIT_LABELS = {"words": N_("words"), "tokens": N_("tokens")}  # shown; UNITS are the wire's

# Display column -> the counter's prefix on the wire (the API spells it
# "enchancement"; the wire name is what every model is sure to have).
PARTS = {"original": "original", "enhancement": "enchancement", "response": "response"}
COLUMNS = (*PARTS, "total")
PART_LABELS = {
    "original": N_("Original"),
    "enhancement": N_("Enhancement"),
    "response": N_("Response"),
}
# What each counter counts, in the aBLT contract's words (docs: ../shared/ablt-api.md,
# "The eight counters"): shown on the tiles and the tables' headers.
PART_HELP = {
    "original": N_("What members typed: their prompts as sent to the bots."),
    "enhancement": N_(
        "What the aBLT service added to each prompt: the bot's instructions and search context."
    ),
    "response": N_("The bots' answers."),
    "total": N_("Original, enhancement and response together."),
}

# The app's indigo theme (primaryColor #4F46E5 in .streamlit/config.toml), in three
# steps light enough apart to tell the stacked parts from one another.
PART_COLORS = {"original": "#312E81", "enhancement": "#A5B4FC", "response": "#4F46E5"}

OTHERS_LABEL = N_("Others (not in the team list)")
GROUP_LABEL = N_("Group")  # the per-group table's first header

# Headers for the tables (the frames keep short lower-case names for the CSV).
TABLE_LABELS = {
    "date": N_("Day (UTC)"),
    "member": N_("Member"),
    **PART_LABELS,
    "total": N_("Total"),
}
# Counts in the tables grouped as the browser's locale writes them ("12,345",
# "12.345", "12 345"): the tiles use the member's locale (Babel), the table
# cells are formatted in the browser. The CSV keeps the plain numbers.
COUNT_FORMAT = "localized"


def table_columns() -> dict[str, str | ColumnConfig]:
    """`st.dataframe`'s column_config for a daily or per-member frame: each
    header, and the counts (every column in `COLUMNS`) with thousands separators
    and, on hover, what they count (`PART_HELP`)."""
    return {
        name: st.column_config.NumberColumn(_(label), format=COUNT_FORMAT, help=_(PART_HELP[name]))
        if name in COLUMNS
        else _(label)
        for name, label in TABLE_LABELS.items()
    }


# The API books usage per day, and its days carry no zone; the app reads them
# as UTC days (budgets' months start at 00:00 UTC too, and the emulator's ledger
# books a chat on its UTC date). A member's own zone cannot be used: a day of
# theirs spans two of the API's buckets, so the page's calendar is the API's.
API_DAY_ZONE: Final = dt.UTC


def api_today(now: dt.datetime | None = None) -> dt.date:
    """The API's day at `now` (aware; default this instant): the UTC date,
    the day a chat made now is booked on, for a member in any zone."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(API_DAY_ZONE).date()


@dataclass(frozen=True)
class StatsCalendar:
    """The Statistics page's one calendar: the API's (UTC) days.

    `today`: the day the presets and the range end on, and the one usage
    made now is booked on. `note`: the page's sentence saying so, with the
    member's own clock when their date is another.
    """

    today: dt.date
    note: str


def stats_calendar(tz: dt.tzinfo | None, now: dt.datetime | None = None) -> StatsCalendar:
    """The calendar for a member whose browser is in `tz` (None: unknown) at
    `now` (aware; default this instant). `today` does not depend on `tz`;
    only the note does."""
    moment = now or dt.datetime.now(dt.UTC)
    today = api_today(moment)
    utc = moment.astimezone(API_DAY_ZONE)
    note = _(
        "Days are UTC days, as the aBLT API counts usage: it is now {time} UTC on {day}"
    ).format(time=format_time(utc), day=format_day_month(today))
    if tz is not None:
        local = moment.astimezone(tz)
        if local.date() != today:
            note += _(" ({time} on {day} where you are)").format(
                time=format_time(local), day=format_day_month(local.date())
            )
    return StatsCalendar(today=today, note=note + ".")


def member_today(tz: dt.tzinfo | None, now: dt.datetime | None = None) -> dt.date:
    """The member's own date (`tz`: their browser's zone, `st.context.timezone`);
    the server's local date when the zone is unknown. `now`: an aware instant
    (tests). Not the Statistics page's today: that is the API's (`stats_calendar`)."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(tz).date()


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The inclusive date range a preset stands for, ending `today`.

    "Last 7 days" is today and the six days before it. `CUSTOM` has no range of
    its own and raises `ValueError`, as does an unknown preset.
    """
    if preset in _PRESET_DAYS:
        return today - dt.timedelta(days=_PRESET_DAYS[preset] - 1), today
    if preset == THIS_MONTH:
        return today.replace(day=1), today
    raise ValueError(_("No fixed range for preset {preset!r}").format(preset=preset))


@dataclass(frozen=True)
class RangeChoice:
    """The range a member asked for and the one the page shows.

    `problem` set: nothing can be shown (say it, name the dates asked for).
    `note` set: the shown range differs from the asked one (say both).
    """

    asked_start: dt.date | None
    asked_end: dt.date | None
    start: dt.date | None = None
    end: dt.date | None = None
    note: str | None = None
    problem: str | None = None


def _day(value: dt.date) -> str:
    return f"{value:%Y-%m-%d}"


def resolve_range(start: dt.date | None, end: dt.date | None, today: dt.date) -> RangeChoice:
    """What to show for the inclusive range `start`..`end` the member picked.

    `today` is the member's today (the caller decides the time zone). No
    usage exists after it, so an end in the future is clamped to `today` with
    a note naming both ranges; a range wholly in the future, a reversed one,
    or a half-picked one is a problem naming the member's own dates. Nothing
    is swapped or moved silently.
    """
    if start is None or end is None:
        return RangeChoice(start, end, problem="Pick both a start and an end date.")
    asked = f"You asked for {_day(start)} to {_day(end)}"
    if end < start:
        return RangeChoice(
            start,
            end,
            problem=f"{asked}: the end date is before the start date. "
            f"Pick an end date on or after {_day(start)}.",
        )
    if start > today:
        return RangeChoice(
            start,
            end,
            problem=f"{asked}, which is after today ({_day(today)}): there is no usage "
            f"to show yet. Pick dates up to {_day(today)}.",
        )
    if end > today:
        return RangeChoice(
            start,
            end,
            start=start,
            end=today,
            note=f"{asked}. Usage exists only up to today, so this shows "
            f"{_day(start)} to {_day(today)}.",
        )
    return RangeChoice(start, end, start=start, end=end)


def days_in(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from `start` to `end`, both included (empty when end < start)."""
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def counter(totals: UsageTotals, part: str, unit: str) -> int:
    """One counter of a totals/day model, e.g. counter(t, "enhancement", "words")."""
    prefix = PARTS.get(part, part)
    return int(getattr(totals, f"{prefix}_{unit}") or 0)


def totals_row(totals: UsageTotals, unit: str) -> dict[str, int]:
    """{"original": .., "enhancement": .., "response": .., "total": ..} in `unit`."""
    return {column: counter(totals, column, unit) for column in COLUMNS}


def daily_frame(stats: UsageStatistics, start: dt.date, end: dt.date, unit: str) -> pd.DataFrame:
    """One row per day of the range (missing days as zeros), oldest first.

    Columns: date, original, enhancement, response, total. Items outside the
    range are dropped; two items for the same day are added together.
    """
    rows = {day: dict.fromkeys(COLUMNS, 0) for day in days_in(start, end)}
    for item in stats.items:
        row = rows.get(item.date)
        if row is None:
            continue
        for column, value in totals_row(item, unit).items():
            row[column] += value
    frame = pd.DataFrame(
        [{"date": day, **values} for day, values in rows.items()],
        columns=["date", *COLUMNS],
    )
    return frame.astype({column: "int64" for column in COLUMNS})


def frame_totals(frame: pd.DataFrame) -> dict[str, int]:
    """Column sums of a daily or breakdown frame (zeros for an empty one)."""
    return {column: int(frame[column].sum()) for column in COLUMNS}


def day_labels(days: Sequence[dt.date]) -> list[str]:
    """Axis labels for days in the session's locale: "Nov 26" ("26. Nov."),
    with the year only when the days span two ("Dec 31, 2025")."""
    with_year = len({day.year for day in days}) > 1
    return [format_date(day) if with_year else format_day_month(day) for day in days]


def unit_title(unit: str) -> str:
    """The count axis' title for `unit` ("words"/"tokens") in the session's language."""
    label = UNIT_LABELS.get(unit)
    text = _(label) if label else unit
    return text[:1].upper() + text[1:]


def daily_chart(frame: pd.DataFrame, unit: str) -> alt.Chart:
    """Stacked daily bars of original / enhancement / response.

    The x axis is discrete, one band per day of the range in order, so each
    bar sits on its own day's label and the range's last day is the last bar
    (a time axis put each bar to the right of its tick and ran a day past the
    end).
    """
    days = [pd.Timestamp(day).date() for day in frame["date"]]
    labels = day_labels(days)
    long = _long(frame.assign(day=labels).drop(columns="date"), "day")
    long["date"] = long["day"].map(dict(zip(labels, days, strict=True))).astype(str)
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                "day:O",
                sort=labels,
                title=None,
                # Long ranges: Vega drops labels that would overlap, never a bar.
                axis=alt.Axis(labelAngle=0, labelOverlap=True),
            ),
            y=alt.Y("value:Q", stack="zero", title=unit_title(unit)),
            color=_part_color(),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("date:N", title=_("Day (UTC)")),
                alt.Tooltip("part:N", title=_("Part")),
                alt.Tooltip("value:Q", title=unit_title(unit), format=","),
            ],
        )
    )
    return chart


def breakdown_frame(
    members: Iterable[MemberUsage], unit: str, team_total: UsageTotals | None = None
) -> pd.DataFrame:
    """One row per member (most usage first), columns member + COLUMNS.

    With `team_total` (the user_id -1 figures), usage the team list does not
    account for (other user ids on the same token) becomes an "Others" row, so
    the rows add up to the team total shown in the tiles.
    """
    rows: list[dict[str, Any]] = [
        {"member": m.label, **totals_row(m.totals, unit)} for m in members
    ]
    rows.sort(key=lambda row: (-row["total"], str(row["member"]).casefold()))
    if team_total is not None:
        team = totals_row(team_total, unit)
        rest = {column: team[column] - sum(row[column] for row in rows) for column in COLUMNS}
        if any(value > 0 for value in rest.values()):
            rows.append({"member": OTHERS_LABEL, **{k: max(v, 0) for k, v in rest.items()}})
    frame = pd.DataFrame(rows, columns=["member", *COLUMNS])
    return frame.astype({column: "int64" for column in COLUMNS})


def breakdown_chart(
    frame: pd.DataFrame, unit: str, name_title: str = TABLE_LABELS["member"]
) -> alt.Chart:
    """Stacked horizontal bars, one per member (or group: `name_title`, marked
    with `N_`, names them in the tooltip), in the breakdown table's order."""
    long = _long(frame, "member")
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y(
                "member:N",
                sort=list(frame["member"]),
                title=None,
                axis=alt.Axis(labelLimit=260),  # full member names, not "Demo Adm…"
            ),
            x=alt.X("value:Q", stack="zero", title=unit_title(unit)),
            color=_part_color(),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("member:N", title=_(name_title)),
                alt.Tooltip("part:N", title=_("Part")),
                alt.Tooltip("value:Q", title=unit_title(unit), format=","),
            ],
        )
    )
    return chart


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with a header row and ISO dates, no index; text
    cells that a spreadsheet would run as formulas are neutralised (`csv_safe`)."""
    return csv_safe.csv_bytes(frame, date_format="%Y-%m-%d")


def csv_file_name(start: dt.date, end: dt.date, unit: str, scope: str) -> str:
    """e.g. "ablt-usage-team-2024-05-01-to-2024-05-07-words.csv"."""
    safe = "".join(ch if ch.isalnum() else "-" for ch in scope.casefold()).strip("-") or "usage"
    return f"ablt-usage-{safe}-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}-{unit}.csv"


def _long(frame: pd.DataFrame, id_column: str) -> pd.DataFrame:
    # Altair stacks a long frame: one row per (day or member, part).
    long = frame.melt(
        id_vars=[id_column], value_vars=list(PARTS), var_name="part", value_name="value"
    )
    long["order"] = long["part"].map({part: n for n, part in enumerate(PARTS)})
    long["part"] = long["part"].map({part: _(label) for part, label in PART_LABELS.items()})
    return long


def _part_color() -> alt.Color:
    labels = [_(label) for label in PART_LABELS.values()]
    return alt.Color(
        "part:N",
        title=None,
        sort=labels,
        scale=alt.Scale(domain=labels, range=[PART_COLORS[part] for part in PARTS]),
        legend=alt.Legend(orient="top"),
    )
