"""Satisfaction: the team's feedback on answers, aggregated (no Streamlit).

- `per_bot`: per bot, how many answers were rated, thumbs up and down, and
  the share of thumbs up (0-1);
- `weekly`: the same share per bot per week (weeks start on Monday, UTC);
- `reasons`: per bot, how often each reason was given with a thumbs down;
- `per_member`: per member (admins only see it), their count and share;
- `per_group`: per group of the team (admins), the feedback of its members
  now (`webapp.groups`): a member in two groups counts in both, a group
  whose members gave none shows 0 rated;
- `csv_table`: the CSV: per bot, and for admins per member and per group,
  one table with a "Per" column.

Every frame is built from `webapp.feedback.store.Feedback` rows; CSVs go
through `webapp.text.csv_safe` like every CSV the app writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Final

import altair as alt
import pandas as pd

from webapp.feedback.store import REASONS, Feedback
from webapp.text import csv_safe
from webapp.ui.i18n import N_, _

# The tables' column names (the CSV's too), shown translated (`column_labels`).
COLUMN_LABELS: Final = (
    N_("Bot"),
    N_("Member"),
    N_("Group"),
    N_("Members"),
    N_("Rated"),
    N_("Thumbs up"),
    N_("Thumbs down"),
    N_("Share up"),
)
BOT_COLUMNS: Final = ("Bot", "Rated", "Thumbs up", "Thumbs down", "Share up")
MEMBER_COLUMNS: Final = ("Member", "Rated", "Thumbs up", "Thumbs down", "Share up")
GROUP_COLUMNS: Final = ("Group", "Members", "Rated", "Thumbs up", "Thumbs down", "Share up")
CSV_COLUMNS: Final = ("Per", "Name", "Rated", "Thumbs up", "Thumbs down", "Share up")
# A share (0-1) as people read it: d3-format's "%" at most one decimal, "~"
# dropping a trailing ".0": 0 -> "0%", 0.875 -> "87.5%", 2/3 -> "66.7%". A bare
# "%" prints six decimals ("0.000000%") where Vega gives it no precision.
SHARE_FORMAT: Final = ".1~%"


def _bot_label(row: Feedback) -> str:
    return row.bot_name or row.bot_slug


def feedback_frame(rows: Sequence[Feedback]) -> pd.DataFrame:
    """One row per feedback: bot, member, up (bool), reasons, week (Monday)."""
    records = []
    for row in rows:
        when = row.updated_at or dt.datetime.now(dt.UTC)
        day = when.astimezone(dt.UTC).date()
        records.append(
            {
                "Bot": _bot_label(row),
                "Slug": row.bot_slug,
                "Member": row.username,
                "Up": row.thumbs_up,
                "Reasons": row.reasons,
                "Week": day - dt.timedelta(days=day.weekday()),
            }
        )
    columns = ["Bot", "Slug", "Member", "Up", "Reasons", "Week"]
    return pd.DataFrame(records, columns=columns)


def _shares(frame: pd.DataFrame, by: str, columns: Sequence[str]) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=list(columns))
    grouped = frame.groupby(by, sort=True)["Up"]
    out = pd.DataFrame(
        {
            "Rated": grouped.size(),
            "Thumbs up": grouped.sum().astype(int),
        }
    )
    out["Thumbs down"] = out["Rated"] - out["Thumbs up"]
    out["Share up"] = out["Thumbs up"] / out["Rated"]
    out = out.reset_index().rename(columns={by: columns[0]})
    return out.sort_values(["Share up", "Rated"], ascending=[False, False]).reset_index(drop=True)[
        list(columns)
    ]


def per_bot(rows: Sequence[Feedback]) -> pd.DataFrame:
    """`BOT_COLUMNS`, best share first; "Share up" is 0-1."""
    return _shares(feedback_frame(rows), "Bot", BOT_COLUMNS)


def per_member(rows: Sequence[Feedback]) -> pd.DataFrame:
    """`MEMBER_COLUMNS` (usernames), for admins."""
    return _shares(feedback_frame(rows), "Member", MEMBER_COLUMNS)


def per_group(
    rows: Sequence[Feedback], members_by_group: Mapping[str, Collection[str]]
) -> pd.DataFrame:
    """`GROUP_COLUMNS`, one row per group of `members_by_group` (group name ->
    usernames of its members now): the feedback its members gave, best share
    first; "Share up" is 0-1, or NaN for a group whose members gave none."""
    records = []
    for name, members in members_by_group.items():
        own = [row for row in rows if row.username in members]
        up = sum(1 for row in own if row.thumbs_up)
        records.append(
            {
                "Group": name,
                "Members": len(members),
                "Rated": len(own),
                "Thumbs up": up,
                "Thumbs down": len(own) - up,
                "Share up": up / len(own) if own else float("nan"),
            }
        )
    frame = pd.DataFrame(records, columns=list(GROUP_COLUMNS))
    if frame.empty:
        return frame
    ordered = frame.sort_values(["Share up", "Rated"], ascending=[False, False], na_position="last")
    return ordered.reset_index(drop=True)


def csv_table(
    by_bot: pd.DataFrame,
    by_member: pd.DataFrame | None = None,
    by_group: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The Satisfaction CSV's table (`CSV_COLUMNS`): the per-bot rows ("Per"
    is "bot"), then the per-member and per-group ones when given (admins)."""
    parts = []
    for per, frame in (("bot", by_bot), ("member", by_member), ("group", by_group)):
        if frame is None or frame.empty:
            continue
        part = frame.rename(columns={frame.columns[0]: "Name"})
        part.insert(0, "Per", per)
        parts.append(part[list(CSV_COLUMNS)])
    if not parts:
        return pd.DataFrame(columns=list(CSV_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def weekly(rows: Sequence[Feedback]) -> pd.DataFrame:
    """Week (Monday, UTC), Bot, Rated, Share up: the trend per bot."""
    frame = feedback_frame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["Week", "Bot", "Rated", "Share up"])
    grouped = frame.groupby(["Week", "Bot"], sort=True)["Up"]
    out = pd.DataFrame({"Rated": grouped.size(), "Share up": grouped.mean()}).reset_index()
    return out[["Week", "Bot", "Rated", "Share up"]]


def reasons(rows: Sequence[Feedback]) -> pd.DataFrame:
    """Bot, then one column per reason (`REASONS`): how many thumbs down gave it."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        if row.thumbs_up:
            continue
        line = counts.setdefault(_bot_label(row), dict.fromkeys(REASONS, 0))
        for reason in row.reasons:
            if reason in line:
                line[reason] += 1
    records = [{"Bot": bot, **line} for bot, line in sorted(counts.items())]
    return pd.DataFrame(records, columns=["Bot", *REASONS])


def trend_chart(frame: pd.DataFrame) -> alt.Chart:
    """Share of thumbs up per week, a line per bot; the axis and the tooltip
    show shares as `SHARE_FORMAT` ("87.5%")."""
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("Week:T", title=_("Week (from Monday)")),
            y=alt.Y(
                "Share up:Q",
                title=_("Share of thumbs up"),
                axis=alt.Axis(format=SHARE_FORMAT),
                scale=alt.Scale(domain=[0, 1]),  # always 0% to 100%
            ),
            color=alt.Color("Bot:N", title=_("Bot")),
            tooltip=[
                alt.Tooltip("Week:T", title=_("Week")),
                alt.Tooltip("Bot:N", title=_("Bot")),
                alt.Tooltip("Rated:Q", title=_("Rated")),
                alt.Tooltip("Share up:Q", title=_("Share up"), format=SHARE_FORMAT),
            ],
        )
    )
    return chart


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A Satisfaction table as CSV (text cells neutralised, `csv_safe`)."""
    return csv_safe.csv_bytes(frame)
