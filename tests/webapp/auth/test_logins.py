"""Login throttling (issue 12, "Logins"): per username, per address, shared through the
database, lifted by an admin; and an unknown username costs one bcrypt check like a
wrong password. Real SQLite files (and PostgreSQL when ABLT_TEST_PG_URL is set);
a fake clock instead of waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import pytest

from tests.pg import backend_fixtures
from webapp.auth import passwords
from webapp.auth import throttle as logins
from webapp.auth.throttle import (
    ADDRESS_POLICY,
    USERNAME_POLICY,
    WRONG_CREDENTIALS,
    authenticate,
    client_address,
    lockouts,
    served_over_https,
)
from webapp.auth.throttle_store import LoginLog
from webapp.conversations.store import ConversationStore
from webapp.team import Team, main

BOB_PASSWORD = "bob-right-password"
OFFICE = "203.0.113.7"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


class Clock:
    """A UTC clock the test moves by hand; it starts two hours ago, so what the
    CLI records with the real clock comes after everything the test did."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        self.now = self.start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


db_url, store = backend_fixtures("logins")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def log(store: ConversationStore, clock: Clock) -> LoginLog:
    return LoginLog(store.engine, clock=clock)


@pytest.fixture
def team(tmp_path: Path) -> Team:
    team = Team(tmp_path / "auth.yaml", {"credentials": {"usernames": {}}})
    team.add("bob", name="Bob", email="bob@example.com", password=BOB_PASSWORD)
    team.add("ann", name="Ann", email="ann@example.com", password="ann-right-password")
    team.save()
    return team


@pytest.fixture
def checkpw_calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every bcrypt.checkpw call (the password bytes), still running the real check."""
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append(password)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    return calls


def test_200_wrong_passwords_lock_the_username_and_an_admin_lifts_it(
    team: Team,
    log: LoginLog,
    clock: Clock,
    checkpw_calls: list[bytes],
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The attack run: 200 wrong passwords in 139 s, then the right one.
    answers = []
    for attempt in range(200):
        answers.append(authenticate(team, "bob", f"guess-{attempt}", OFFICE, log).problem)
        clock.advance(139 / 200)
    assert answers[:3] == [WRONG_CREDENTIALS] * 3  # a few mistypes cost nothing
    assert (
        answers[3]
        == "Too many failed logins for this username. Wait 2 seconds before trying again."
    )
    # The waits double (2, 4, 8 ... 128 s): 9 passwords were checked, not 200.
    assert answers.count(WRONG_CREDENTIALS) == 9
    assert len(checkpw_calls) == 9
    waiting = authenticate(team, "bob", BOB_PASSWORD, OFFICE, log)
    assert waiting.member is None and "Wait 2 minutes before trying again" in str(waiting.problem)

    # The guesser waits the 128 s out: the 10th failure locks the username.
    clock.advance(128)
    assert authenticate(team, "bob", "guess-again", OFFICE, log).problem == WRONG_CREDENTIALS
    for attempt in range(50):
        clock.advance(5)
        locked = authenticate(team, "bob", f"more-{attempt}", OFFICE, log).problem
        assert "logging in is locked for" in str(locked)
    assert len(checkpw_calls) == USERNAME_POLICY.lock_after  # nothing checked while locked

    result = authenticate(team, "bob", BOB_PASSWORD, OFFICE, log)
    assert result.member is None
    assert result.problem is not None
    assert result.problem.startswith("Too many failed logins for this username: logging in is")
    assert "ask an admin to lift the lock-out" in result.problem
    assert [(lock.key, lock.locked) for lock in lockouts(log)] == [("bob", True)]

    # `python -m webapp.team unlock bob` against the same database.
    monkeypatch.setenv("ABLT_DB_URL", db_url)
    assert main(["--file", str(team.path), "unlock", "bob"]) == 0
    assert "Unlocked bob" in capsys.readouterr().out
    ok = authenticate(team, "bob", BOB_PASSWORD, OFFICE, log)
    assert ok.member is not None and ok.member.username == "bob"
    assert lockouts(log) == []


def test_a_lock_out_ends_by_itself_after_its_minutes(
    team: Team, log: LoginLog, clock: Clock
) -> None:
    # A patient guesser: each guess as soon as the wait before it is over.
    for attempt in range(USERNAME_POLICY.lock_after):
        result = authenticate(team, "bob", f"guess-{attempt}", OFFICE, log)
        assert result.problem == WRONG_CREDENTIALS
        wait = USERNAME_POLICY.wait_until([clock.now] * (attempt + 1))
        if wait is not None and wait[1]:
            break
        clock.advance(1 if wait is None else (wait[0] - clock.now).total_seconds())
    clock.advance(60)
    refused = authenticate(team, "bob", BOB_PASSWORD, OFFICE, log)
    assert refused.refusal is not None and refused.refusal.locked
    clock.advance((refused.refusal.until - clock.now).total_seconds() + 1)
    assert authenticate(team, "bob", BOB_PASSWORD, OFFICE, log).member is not None


def test_a_success_starts_the_username_count_afresh(
    team: Team, log: LoginLog, clock: Clock
) -> None:
    for attempt in range(USERNAME_POLICY.free_failures - 1):
        authenticate(team, "bob", f"typo-{attempt}", OFFICE, log)
    assert authenticate(team, "bob", BOB_PASSWORD, OFFICE, log).member is not None
    for attempt in range(USERNAME_POLICY.free_failures):
        assert authenticate(team, "bob", f"typo-{attempt}", OFFICE, log).problem == (
            WRONG_CREDENTIALS
        )


def test_one_address_spraying_many_usernames_is_limited(
    team: Team, log: LoginLog, clock: Clock, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    # One wrong password for each of many usernames: no username reaches its
    # limit, the address does.
    # The sprayer waits out every delay the address gets, until it is locked.
    problems = []
    for n in range(120):
        result = authenticate(team, f"user{n}", "Summer2026!", OFFICE, log)
        problems.append(result.problem)
        if result.refusal is not None and result.refusal.locked:
            break
        if result.refusal is not None:
            assert result.refusal.by_address
            clock.advance((result.refusal.until - clock.now).total_seconds())
        clock.advance(0.5)
    assert problems.count(WRONG_CREDENTIALS) == ADDRESS_POLICY.lock_after
    assert str(problems[-1]).startswith(
        "Too many failed logins from your network address: logging in is locked for"
    )
    # The right password from that address is refused too; bob elsewhere is not.
    assert authenticate(team, "bob", BOB_PASSWORD, OFFICE, log).member is None
    assert authenticate(team, "bob", BOB_PASSWORD, "198.51.100.20", log).member is not None
    assert [(lock.key, lock.by_address) for lock in lockouts(log)] == [(OFFICE, True)]

    monkeypatch.setenv("ABLT_DB_URL", db_url)
    assert main(["--file", str(team.path), "unlock", "--address", OFFICE]) == 0
    assert authenticate(team, "bob", BOB_PASSWORD, OFFICE, log).member is not None


def test_an_unknown_username_costs_one_bcrypt_check_like_a_wrong_password(
    team: Team, log: LoginLog, checkpw_calls: list[bytes]
) -> None:
    authenticate(team, "bob", "wrong-password", OFFICE, log)
    member_calls = len(checkpw_calls)
    authenticate(team, "nobody-here", "wrong-password", "198.51.100.1", log)
    assert member_calls == 1
    assert len(checkpw_calls) - member_calls == member_calls
    # A member refused with a real token (demo password) costs the same too.
    authenticate(team, "ann", "ann-right-password", "198.51.100.2", log, refused_usernames=["ann"])
    assert len(checkpw_calls) == 3
    # And the answers are the same words.
    assert authenticate(team, "nobody-here", "x" * 10, "198.51.100.3", log).problem == (
        authenticate(team, "bob", "x" * 10, "198.51.100.4", log).problem
    )


def test_the_dummy_hash_has_the_cost_of_a_real_one(
    team: Team, log: LoginLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bytes] = []
    real = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        seen.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", spy)
    authenticate(team, "nobody-here", "wrong-password", OFFICE, log)
    # "$2b$04$": the same cost factor as the team's hashes in this test.
    assert seen[0][:7] == b"$2b$%02d$" % passwords.BCRYPT_ROUNDS


def test_attempts_being_checked_count_so_parallel_guesses_cannot_overrun(
    team: Team, log: LoginLog
) -> None:
    # Several tabs or processes submit at once: each reserved attempt counts
    # before its (slow) bcrypt check has finished.
    allow = lambda recent: logins.judge(recent, log.now())  # noqa: E731
    reserved = [log.reserve("bob", OFFICE, logins.window(), allow) for _ in range(3)]
    assert all(event_id is not None for event_id, _ in reserved)
    event_id, refusal = log.reserve("bob", OFFICE, logins.window(), allow)
    assert event_id is None and refusal is not None and "Wait" in refusal.message


def test_every_event_is_kept_for_the_audit_log(team: Team, log: LoginLog, clock: Clock) -> None:
    authenticate(team, "Bob", "wrong-password", OFFICE, log)
    clock.advance(1)
    authenticate(team, "bob", BOB_PASSWORD, None, log)
    clock.advance(1)
    logins.unlock(log, actor="ann", username="bob")
    events = [(e.event, e.username, e.address, e.actor) for e in log.events()]
    assert events == [
        ("unlock", "bob", None, "ann"),
        ("success", "bob", logins.LOCAL_ADDRESS, None),
        ("failure", "bob", OFFICE, None),
    ]
    assert log.events()[-1].at == clock.start


def test_processes_share_the_counts_through_the_database(
    team: Team, db_url: str, clock: Clock
) -> None:
    # Two stores on one database stand for two app processes.
    with ConversationStore(db_url) as first, ConversationStore(db_url) as second:
        one, other = LoginLog(first.engine, clock=clock), LoginLog(second.engine, clock=clock)
        for attempt in range(USERNAME_POLICY.free_failures):
            authenticate(team, "bob", f"guess-{attempt}", OFFICE, one)
        assert "Wait" in str(authenticate(team, "bob", BOB_PASSWORD, "198.51.100.9", other).problem)


def test_bad_input_gets_a_plain_answer(team: Team, log: LoginLog) -> None:
    assert authenticate(team, "", "something", OFFICE, log).problem == (logins.MISSING_CREDENTIALS)
    assert authenticate(team, "bob", "", OFFICE, log).problem == logins.MISSING_CREDENTIALS
    huge = authenticate(team, "x" * 100_000, "wrong-password", OFFICE, log)
    assert huge.problem == WRONG_CREDENTIALS
    assert len(str(log.events()[0].username)) == 128
    with pytest.raises(ValueError, match="username or an address"):
        logins.unlock(log, actor="ann")


@pytest.mark.parametrize(
    ("remote", "headers", "hops", "expected"),
    [
        ("203.0.113.7", {}, 0, "203.0.113.7"),
        # Without trusted proxies a forged header changes nothing.
        ("203.0.113.7", {"X-Forwarded-For": "1.2.3.4"}, 0, "203.0.113.7"),
        # nginx appends the address it saw; what the client sent stays to the left.
        (None, {"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}, 1, "203.0.113.7"),
        (None, {"x-forwarded-for": "203.0.113.7, 10.0.0.2"}, 2, "203.0.113.7"),
        (None, {}, 1, None),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(
    remote: str | None, headers: dict[str, str], hops: int, expected: str | None
) -> None:
    assert client_address(remote, headers, hops) == expected


def test_https_is_known_from_the_url_or_a_trusted_proxy() -> None:
    assert served_over_https("https://chat.example.com/", {}, 0)
    assert not served_over_https("http://127.0.0.1:8501/", {"X-Forwarded-Proto": "https"}, 0)
    assert served_over_https("http://127.0.0.1:8501/", {"X-Forwarded-Proto": "https"}, 1)
    assert not served_over_https("http://127.0.0.1:8501/", {"X-Forwarded-Proto": "http"}, 1)
