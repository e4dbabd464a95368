"""Checking a login: throttling per username and per address, then the password.

    log = LoginLog(store.engine)
    result = authenticate(team, "ann", "her password", "203.0.113.7", log)
    result.member        # the Member on success, else None
    result.problem       # the plain sentence to show when not

The throttle (OWASP's "Blocking Brute Force Attacks": limit per account and
per source): failed logins are counted per username (whether or not such a
member exists, so the answer never tells) and per client address, over
`Policy.window` (an hour). After `free_failures` failures each further
attempt must wait a delay that doubles from `first_delay` (up to
`max_delay`); at `lock_after` failures logins are locked until `lock_for`
after the last one, and each failure while the count stays that high locks
again. An attempt
during a wait or a lock-out is refused without checking the password (the
right password too) and says so in plain words. A successful login starts
the username's count afresh; only an admin's `unlock` (or time) clears an
address. Counts live in the database (`webapp.auth.throttle_store`), so every app
process sees the same ones.

No Streamlit import: the app, `python -m webapp.team unlock` and the future
Team page share this module.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from webapp.auth.passwords import too_long_problem
from webapp.auth.throttle_store import LoginLog, Recent, username_key
from webapp.operations import metrics
from webapp.ui.i18n import N_, _

if TYPE_CHECKING:
    from webapp.team import Member


class Credentials(Protocol):
    """Where members and their password hashes are read: the database's
    `MemberStore` or a team file (`webapp.team.yaml_file.Team`)."""

    def get(self, username: str) -> Member | None:
        """The member called `username`, or None."""

    def check_password(self, username: str, password: str) -> bool:
        """Whether `password` is `username`'s."""


WRONG_CREDENTIALS: Final = N_("Username or password is incorrect.")
MISSING_CREDENTIALS: Final = N_("Enter your username and password.")
# The address recorded when Streamlit reports none (a loopback connection).
LOCAL_ADDRESS: Final = "local"


@dataclass(frozen=True)
class Policy:
    """How many failures a key (a username, an address) may have, and what follows.

    `free_failures`: failures before any delay. `first_delay`: seconds to
    wait after the next one, doubling with each further failure up to
    `max_delay` seconds. `lock_after`: failures that lock the key until
    `lock_for` after the last one. Failures older than `window` no longer
    count (a success also clears a username's, an admin's unlock either).
    """

    free_failures: int
    lock_after: int
    first_delay: float
    max_delay: float
    lock_for: timedelta
    window: timedelta = timedelta(hours=1)

    def wait_until(self, failures: list[datetime]) -> tuple[datetime, bool] | None:
        """(until when, whether it is a lock-out) for these failures, oldest first;
        None when the next attempt may go ahead at once."""
        count = len(failures)
        if count < self.free_failures:
            return None
        last = failures[-1]
        if count >= self.lock_after:
            return last + self.lock_for, True
        delay = min(self.first_delay * 2 ** (count - self.free_failures), self.max_delay)
        return last + timedelta(seconds=delay), False


# One member mistyping a few times never waits; a guesser gets 10 tries, then
# one per 15 minutes, per username. An address is shared by everyone behind
# one NAT or proxy (see docs/deploy.md for telling the app the real client
# address), so it gets more room: it stops one source spraying guesses over
# many usernames.
USERNAME_POLICY: Final = Policy(
    free_failures=3,
    lock_after=10,
    first_delay=2.0,
    max_delay=300.0,
    lock_for=timedelta(minutes=15),
)
ADDRESS_POLICY: Final = Policy(
    free_failures=10,
    lock_after=30,
    first_delay=1.0,
    max_delay=60.0,
    lock_for=timedelta(minutes=15),
)


@dataclass(frozen=True)
class Refusal:
    """An attempt the throttle refused: whose count, until when, and why in words."""

    by_address: bool
    until: datetime
    locked: bool
    message: str


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: the member, or the sentence to show."""

    member: Member | None
    problem: str | None = None
    refusal: Refusal | None = None


def _in_words(seconds: float) -> str:
    if seconds < 90:
        whole = max(1, math.ceil(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minutes"


def refusal_message(by_address: bool, locked: bool, until: datetime, now: datetime) -> str:
    """The plain sentence for a refused attempt."""
    left = _in_words((until - now).total_seconds())
    whose = "from your network address" if by_address else "for this username"
    if locked:
        return _(
            "Too many failed logins {whose}: logging in is locked for {left} "
            "(until {until:%H:%M} UTC). Wait, or ask an admin to lift the "
            "lock-out."
        ).format(whose=whose, left=left, until=until)
    return _("Too many failed logins {whose}. Wait {left} before trying again.").format(
        whose=whose, left=left
    )


def judge(
    recent: Recent,
    now: datetime,
    username_policy: Policy = USERNAME_POLICY,
    address_policy: Policy = ADDRESS_POLICY,
) -> Refusal | None:
    """Whether an attempt may be checked now: None, or why not (the later of the two waits)."""
    refusals = []
    for by_address, policy, failures in (
        (False, username_policy, recent.username_failures),
        (True, address_policy, recent.address_failures),
    ):
        wait = policy.wait_until(failures)
        if wait is not None and wait[0] > now:
            until, locked = wait
            refusals.append(
                Refusal(by_address, until, locked, refusal_message(by_address, locked, until, now))
            )
    return max(refusals, key=lambda r: (r.locked, r.until), default=None)


def window() -> timedelta:
    """How far back failures count (the longer of the two policies' windows)."""
    return max(USERNAME_POLICY.window, ADDRESS_POLICY.window)


def authenticate(
    team: Credentials,
    username: str,
    password: str,
    address: str | None,
    log: LoginLog,
    *,
    refused_usernames: Collection[str] = (),
) -> LoginResult:
    """Check a login through the throttle; never raises for bad input.

    `username` as typed (stripped and lower-cased here, as the team file keys
    it); `password` exactly as typed (whitespace is part of it, see
    `webapp.auth.passwords`); `address` the client's (None: `LOCAL_ADDRESS`);
    `refused_usernames`: members who may not log in now (demo passwords with
    a real token); their check costs the same and fails the same way.
    Database errors (`sqlalchemy.exc.SQLAlchemyError`) propagate.
    """
    key = username_key(username)
    if not key or not password:
        metrics.login_failed("missing")
        return LoginResult(None, MISSING_CREDENTIALS)
    long_problem = too_long_problem(password)
    if long_problem:
        # No bcrypt check can be made: say so, as the forms that set one do.
        metrics.login_failed("too_long")
        return LoginResult(None, long_problem)
    event_id, refusal = log.reserve(
        key, address or LOCAL_ADDRESS, window(), lambda recent: judge(recent, log.now())
    )
    if refusal is not None or event_id is None:
        metrics.login_failed("throttled")
        return LoginResult(None, refusal.message if refusal else WRONG_CREDENTIALS, refusal)
    ok = False
    try:
        ok = team.check_password(key, password) and key not in refused_usernames
    finally:
        log.resolve(event_id, ok)
    member = team.get(key) if ok else None
    if member is None:
        metrics.login_failed("wrong_credentials")
        return LoginResult(None, WRONG_CREDENTIALS)
    metrics.login_succeeded()
    return LoginResult(member)


def unlock(
    log: LoginLog, *, actor: str, username: str | None = None, address: str | None = None
) -> None:
    """Lift a lock-out (and any wait) at once: an admin's action, recorded with `actor`.

    For `python -m webapp.team unlock` and the Team page. Raises ValueError
    with neither a username nor an address.
    """
    log.unlock(actor=actor, username=username, address=address)


@dataclass(frozen=True)
class Lockout:
    """A username or address that cannot log in right now (for the Team page)."""

    key: str
    by_address: bool
    until: datetime
    locked: bool  # False: a short wait, not yet a lock-out


def lockouts(log: LoginLog) -> list[Lockout]:
    """Every username and address refused right now, soonest to clear first."""
    now = log.now()
    names, addresses = log.failing_keys(window())
    found = []
    for by_address, policy, keys in (
        (False, USERNAME_POLICY, names),
        (True, ADDRESS_POLICY, addresses),
    ):
        for key in keys:
            recent = log.recent_failures(
                "" if by_address else key, key if by_address else "", window()
            )
            failures = recent.address_failures if by_address else recent.username_failures
            wait = policy.wait_until(failures)
            if wait is not None and wait[0] > now:
                found.append(Lockout(key, by_address, wait[0], wait[1]))
    return sorted(found, key=lambda lock: lock.until)


def client_address(
    remote: str | None, headers: Mapping[str, str], trusted_proxy_hops: int
) -> str | None:
    """The client's address for the throttle.

    `remote`: `st.context.ip_address` (None for a loopback peer);
    `headers`: the request's headers; `trusted_proxy_hops`: how many reverse
    proxies in front of the app append to `X-Forwarded-For` (0: none, trust
    no header). With N hops the client is the N-th address from the right of
    `X-Forwarded-For`: the ones further left were sent by the client and can
    be anything. See docs/deploy.md.
    """
    remote = remote if isinstance(remote, str) and remote else None
    if trusted_proxy_hops <= 0:
        return remote
    forwarded = ",".join(v for k, v in headers.items() if k.lower() == "x-forwarded-for")
    hops = [part.strip() for part in forwarded.split(",") if part.strip()]
    if len(hops) >= trusted_proxy_hops:
        return hops[-trusted_proxy_hops]
    return remote


def served_over_https(url: str | None, headers: Mapping[str, str], trusted_proxy_hops: int) -> bool:
    """Whether the browser reached the app over HTTPS: its URL says so, or a trusted
    proxy's `X-Forwarded-Proto` does (only with `trusted_proxy_hops` > 0)."""
    if isinstance(url, str) and url.lower().startswith("https://"):
        return True
    if trusted_proxy_hops <= 0:
        return False
    proto = next((v for k, v in headers.items() if k.lower() == "x-forwarded-proto"), "")
    # A chain of proxies appends: the last value is the one our proxy saw.
    return proto.split(",")[-1].strip().lower() == "https"
