"""`LoginLog`: the `login_events` table, shared by every app process.

One row per login event: who (the username as typed, lower-cased, whether or
not such a member exists), what (`attempt`, `failure`, `success`, `refused`,
`unlock`, `logout`), when (UTC) and from which address. The throttle in
`webapp.auth.throttle` reads it to decide whether a login may be checked at all; the
audit log can read it as it is (`events()`).

An attempt is reserved before the password is checked and resolved after:
`reserve()` reads the recent failures and inserts an `attempt` row in one
transaction that no other process can interleave with (SQLite: the write
lock of BEGIN IMMEDIATE; PostgreSQL: an advisory transaction lock), and
`attempt` rows count as failures until `resolve()` turns them into `success`
or `failure`. So parallel guesses from several tabs or processes each see the
others, and bcrypt's slow check runs outside the transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from webapp.db.engine import serialised_write
from webapp.db.schema import login_events as E
from webapp.ui.i18n import _

ATTEMPT: Final = "attempt"
FAILURE: Final = "failure"
SUCCESS: Final = "success"
REFUSED: Final = "refused"
UNLOCK: Final = "unlock"
LOGOUT: Final = "logout"  # a member pressed Log out (audit log only; the throttle ignores it)
EVENTS: Final = frozenset({ATTEMPT, FAILURE, SUCCESS, REFUSED, UNLOCK, LOGOUT})
MAX_USERNAME: Final = 128  # the column's size; longer names are cut to it
MAX_ADDRESS: Final = 64
# Any constant works; it only has to be the same in every process (and differ
# from the migration lock's key).
_PG_LOCK_KEY: Final = 0x61B17106

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LoginEvent:
    """One row of the login log, for the audit log and the Team page."""

    id: int
    at: datetime
    event: str
    username: str | None
    address: str | None
    actor: str | None


@dataclass(frozen=True, slots=True)
class Recent:
    """What the throttle needs: failure times (oldest first) since the last reset
    and within the window, for the username and for the address."""

    username_failures: list[datetime]
    address_failures: list[datetime]


def username_key(username: str) -> str:
    """A username as the log keys it: stripped, lower-cased, at most 128 characters."""
    return username.strip().lower()[:MAX_USERNAME]


def address_key(address: str) -> str:
    """A network address as the log keys it (at most 64 characters)."""
    return address.strip()[:MAX_ADDRESS]


class LoginLog:
    """Reads and writes `login_events` over an engine the store has migrated.

    `engine`: a `ConversationStore.engine` (its SQLite engine starts write
    transactions with BEGIN IMMEDIATE when asked, see `webapp.conversations.store.database`).
    `clock`: UTC now, replaceable in tests.
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        """The log's idea of now (UTC, aware)."""
        return self._clock()

    def _write(self) -> AbstractContextManager[Connection]:
        return serialised_write(self.engine, _PG_LOCK_KEY)

    @staticmethod
    def _failures(
        conn: Connection,
        column: sa.Column[str | None],
        value: str,
        resets: Sequence[str],
        since: datetime,
    ) -> list[datetime]:
        # Ids grow with every insert: "after the reset" holds even within one clock tick.
        last_reset = conn.execute(
            sa.select(sa.func.max(E.c.id)).where(column == value, E.c.event.in_(resets))
        ).scalar()
        rows = conn.execute(
            sa.select(E.c.at)
            .where(
                column == value,
                E.c.event.in_((ATTEMPT, FAILURE)),
                E.c.at >= since,
                E.c.id > (last_reset or 0),
            )
            .order_by(E.c.id)
        ).scalars()
        return list(rows)

    def _recent(self, conn: Connection, username: str, address: str, window: timedelta) -> Recent:
        since = self.now() - window
        return Recent(
            # A success or an unlock starts a username's count afresh...
            self._failures(conn, E.c.username, username, (SUCCESS, UNLOCK), since),
            # ...but only an unlock an address's: one account's good login must
            # not wash away that address's guesses at other accounts.
            self._failures(conn, E.c.address, address, (UNLOCK,), since),
        )

    def reserve(
        self,
        username: str,
        address: str,
        window: timedelta,
        judge: Callable[[Recent], T | None],
    ) -> tuple[int | None, T | None]:
        """Ask `judge` about the recent failures; record the outcome atomically.

        `judge` returns None to allow the attempt (an `attempt` row is
        inserted and its id returned, to pass to `resolve`), or a refusal
        (a `refused` row is inserted, and `(None, refusal)` returned).
        """
        username, address = username_key(username), address_key(address)
        with self._write() as conn:
            refusal = judge(self._recent(conn, username, address, window))
            event = ATTEMPT if refusal is None else REFUSED
            row_id = conn.execute(
                E.insert()
                .values(at=self.now(), event=event, username=username, address=address)
                .returning(E.c.id)
            ).scalar_one()
        return (int(row_id), None) if refusal is None else (None, refusal)

    def resolve(self, event_id: int, ok: bool) -> None:
        """Turn a reserved `attempt` into `success` or `failure`."""
        with self._write() as conn:
            conn.execute(
                E.update().where(E.c.id == event_id).values(event=SUCCESS if ok else FAILURE)
            )

    def unlock(
        self, *, actor: str, username: str | None = None, address: str | None = None
    ) -> None:
        """Record an admin lifting the lock-out of a username and/or an address."""
        if username is None and address is None:
            raise ValueError(_("unlock needs a username or an address"))
        with self._write() as conn:
            conn.execute(
                E.insert().values(
                    at=self.now(),
                    event=UNLOCK,
                    username=None if username is None else username_key(username),
                    address=None if address is None else address_key(address),
                    actor=actor[:MAX_USERNAME],
                )
            )

    def logout(self, username: str, address: str | None = None) -> None:
        """Record that `username` logged out (for the audit log; the throttle
        never counts these)."""
        with self._write() as conn:
            conn.execute(
                E.insert().values(
                    at=self.now(),
                    event=LOGOUT,
                    username=username_key(username),
                    address=None if address is None else address_key(address),
                )
            )

    def recent_failures(self, username: str, address: str, window: timedelta) -> Recent:
        """The failures the throttle would see now (for the Team page and tests)."""
        with self.engine.connect() as conn, conn.begin():
            return self._recent(conn, username_key(username), address_key(address), window)

    def failing_keys(self, window: timedelta) -> tuple[list[str], list[str]]:
        """Usernames and addresses with a failure within `window` (candidates for a lock-out)."""
        since = self.now() - window
        failing = E.c.event.in_((ATTEMPT, FAILURE)) & (E.c.at >= since)
        with self.engine.connect() as conn, conn.begin():
            names = conn.execute(
                sa.select(E.c.username).where(failing, E.c.username.is_not(None)).distinct()
            ).scalars()
            addresses = conn.execute(
                sa.select(E.c.address).where(failing, E.c.address.is_not(None)).distinct()
            ).scalars()
            return sorted(str(n) for n in names), sorted(str(a) for a in addresses)

    def events(self, limit: int = 200, username: str | None = None) -> list[LoginEvent]:
        """The latest events, newest first (the audit log's view); optionally one username's."""
        stmt = sa.select(E).order_by(E.c.at.desc(), E.c.id.desc()).limit(limit)
        if username is not None:
            stmt = stmt.where(E.c.username == username_key(username))
        with self.engine.connect() as conn, conn.begin():
            return [
                LoginEvent(
                    id=int(r["id"]),
                    at=r["at"],
                    event=r["event"],
                    username=r["username"],
                    address=r["address"],
                    actor=r["actor"],
                )
                for r in conn.execute(stmt).mappings()
            ]
