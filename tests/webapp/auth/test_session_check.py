"""How often a fragment run re-reads the member (`gate.session_still_valid`).

A send's callback reads the member in `guard.acting_member`; the conversation
fragment that follows in the same run trusts that read for
`SESSION_RECHECK_AFTER` seconds instead of reading the row again (a read less
before the answer's first word, issue 24). Actions always read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st

from webapp.auth import gate, guard
from webapp.conversations.store import ConversationStore
from webapp.team import Member, MemberStore
from webapp.ui.member import AUTH_STATUS
from webapp.ui.state import Keys


class Clock:
    """`time.monotonic` for the gate, moved by hand (s)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def team(tmp_path: Path) -> Iterator[MemberStore]:
    (tmp_path / "data").mkdir()
    with ConversationStore(f"sqlite:///{tmp_path / 'data' / 'chat.db'}") as store:
        yield MemberStore(store.engine)


@pytest.fixture
def reads(team: MemberStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The member rows the gate reads (from the real table), by username."""
    seen: list[str] = []

    def member_now(username: str) -> Member | None:
        seen.append(username)
        return team.get(username)

    monkeypatch.setattr(gate, "member_now", member_now)
    monkeypatch.setattr(guard, "member_now", member_now)
    return seen


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    tick = Clock()
    monkeypatch.setattr(gate.time, "monotonic", tick)
    return tick


@pytest.fixture
def ann(team: MemberStore) -> Iterator[Member]:
    member = team.add("ann", name="Ann", email="ann@example.com", password="ann-password-1")
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[AUTH_STATUS] = True
    st.session_state[Keys.AUTH_SINCE] = datetime.now(UTC) + timedelta(seconds=1)
    st.session_state[Keys.MEMBER] = member
    yield member
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def test_a_fragment_run_right_after_an_action_trusts_the_actions_read(
    ann: Member, reads: list[str], clock: Clock
) -> None:
    assert guard.acting_member() == ann  # a send's callback: one read
    assert reads == ["ann"]
    clock.now += gate.SESSION_RECHECK_AFTER / 2
    assert gate.session_still_valid(ann)  # the fragment in the same run: no second read
    assert reads == ["ann"]
    clock.now += gate.SESSION_RECHECK_AFTER
    assert gate.session_still_valid(ann)  # later runs read again
    assert reads == ["ann", "ann"]


def test_a_disabled_member_is_refused_at_once_by_actions_and_within_a_second_by_fragment_runs(
    ann: Member, team: MemberStore, reads: list[str], clock: Clock
) -> None:
    assert gate.session_still_valid(ann)
    team.set_disabled("ann", True)
    with pytest.raises(guard.ActionRefused):
        guard.acting_member()  # an action reads now, whatever the last read said
    assert gate.session_still_valid(ann)  # a drawing run may lag this long, no more
    clock.now += gate.SESSION_RECHECK_AFTER
    assert not gate.session_still_valid(ann)
    assert not gate.session_still_valid(ann)  # and keeps reading until logged out
    assert reads == ["ann", "ann", "ann", "ann"]


def test_nobody_logged_in_is_never_valid(ann: Member, reads: list[str], clock: Clock) -> None:
    assert gate.session_still_valid(ann)
    st.session_state[AUTH_STATUS] = None
    assert not gate.session_still_valid(ann)
