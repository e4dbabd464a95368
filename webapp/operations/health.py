"""Liveness and readiness: what `/healthz` and `/readyz` answer.

Liveness is the process answering at all. Readiness (`Readiness.report`) is
whether this process can serve members now:

- **database**: a connection answers `SELECT 1` within `DB_TIMEOUT` seconds
  and its schema is the one this code builds (`current_version` equals
  `LATEST_VERSION`; an older one means migrations have not run, a newer one
  that newer code wrote it);
- **answers**: the answer worker's event loop runs callbacks (each answer
  service of the process, `AnswerService.loop_alive`); "idle" while no one
  has needed the service yet (it starts on first use, with the evaluation
  runner);
- **api**: the aBLT API's health check, reported (cached `API_TTL` seconds)
  but never failing readiness: members can still read their history while
  the API is down, and a load balancer should not take every process out.

Every blocking probe runs in its own daemon thread and is waited for at most
its timeout (`Bounded`), so `/readyz` answers within about a second and a
half even when the database hangs (a stopped server, a held lock), and a hung
probe is not started again while it still hangs: the answer is "not ready"
at once. Bodies carry statuses and schema versions, never an address, a URL
or an error's text (they may carry credentials).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from webapp.db.migrations import LATEST_VERSION, current_version

_T = TypeVar("_T")

DB_TIMEOUT: Final = 1.0  # seconds the database has to answer
LOOP_TIMEOUT: Final = 0.5  # seconds an answer loop has to run a callback
API_TIMEOUT: Final = 1.0  # seconds the readiness check waits for the API's health check
API_TTL: Final = 30.0  # seconds an API health result is reused


class ProbeBusy(RuntimeError):
    """The previous probe of this kind still runs (it hangs): not started again."""


@dataclass
class _Pending(Generic[_T]):
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None

    def result(self, timeout: float) -> _T:
        """The call's value; raises TimeoutError after `timeout` s, or what it raised."""
        if not self.done.wait(timeout):
            raise TimeoutError("the probe did not answer in time")
        if self.error is not None:
            raise self.error
        value: _T = self.value
        return value


class Bounded(Generic[_T]):
    """A blocking call run in a daemon thread, one at a time.

    `start(fn)` begins `fn()` and returns at once; `result(timeout)` on what
    it returns waits at most `timeout` s. While an earlier call still runs
    (a hung connect), `start` raises `ProbeBusy` instead of piling threads up.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._running: _Pending[_T] | None = None

    def start(self, fn: Callable[[], _T]) -> _Pending[_T]:
        with self._lock:
            if self._running is not None and not self._running.done.is_set():
                raise ProbeBusy(self.name)
            pending: _Pending[_T] = _Pending()
            self._running = pending

        def run() -> None:
            try:
                pending.value = fn()
            except BaseException as err:  # handed to the waiting caller
                pending.error = err
            finally:
                pending.done.set()

        threading.Thread(target=run, name=f"ablt-probe-{self.name}", daemon=True).start()
        return pending

    def call(self, fn: Callable[[], _T], timeout: float) -> _T:
        """`start(fn)` and wait for its value (TimeoutError, ProbeBusy, or fn's error)."""
        return self.start(fn).result(timeout)


class LoopOwner(Protocol):
    """What readiness asks of an answer service (`webapp.answers.AnswerService`)."""

    def loop_alive(self, timeout: float = ...) -> bool: ...


def schema_version(engine: Engine) -> int:
    """Connect, `SELECT 1`, and read the schema version (blocking)."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        return current_version(conn)


@dataclass(frozen=True)
class Report:
    """A readiness answer: `ready`, and per check a small dict of plain values."""

    ready: bool
    checks: dict[str, dict[str, Any]]

    def body(self) -> dict[str, Any]:
        """The JSON body of `/readyz`."""
        return {"status": "ready" if self.ready else "not ready", "checks": self.checks}


class Readiness:
    """The readiness checks of one process, with their probes kept between requests.

    `engine()`: the app's database engine (may block or raise: it runs in the
    probe thread). `services()`: the process's answer services. `api()`:
    whether the aBLT API answers its health check (None: not reported).
    """

    def __init__(
        self,
        engine: Callable[[], Engine],
        services: Callable[[], Iterable[LoopOwner]],
        api: Callable[[], bool] | None = None,
        *,
        db_timeout: float = DB_TIMEOUT,
        api_timeout: float = API_TIMEOUT,
        api_ttl: float = API_TTL,
    ) -> None:
        self._engine = engine
        self._services = services
        self._api = api
        self.db_timeout = db_timeout
        self.api_timeout = api_timeout
        self.api_ttl = api_ttl
        self._db_probe: Bounded[int] = Bounded("database")
        self._api_probe: Bounded[bool] = Bounded("api")
        self._api_known: tuple[float, bool] | None = None  # (monotonic time, reachable)

    def report(self) -> Report:
        """Run the checks (blocking, at most about `db_timeout` + `LOOP_TIMEOUT` s)."""
        started = time.monotonic()
        db = self._start(self._db_probe, lambda: schema_version(self._engine()))
        api = self._start_api()
        checks = {"database": self._database(db), "answers": self._answers()}
        if self._api is not None:
            checks["api"] = self._api_check(api, started)
        ready = checks["database"]["ok"] and checks["answers"]["ok"]
        return Report(ready=bool(ready), checks=checks)

    @staticmethod
    def _start(probe: Bounded[_T], fn: Callable[[], _T]) -> _Pending[_T] | ProbeBusy:
        try:
            return probe.start(fn)
        except ProbeBusy as busy:
            return busy

    def _database(self, pending: _Pending[int] | ProbeBusy) -> dict[str, Any]:
        if isinstance(pending, ProbeBusy):
            return {"ok": False, "status": "not answering (an earlier check still waits)"}
        try:
            version = pending.result(self.db_timeout)
        except TimeoutError:
            return {"ok": False, "status": f"no answer within {self.db_timeout:g} s"}
        except Exception as err:
            # The class name only: a driver's message can quote the URL.
            return {"ok": False, "status": f"unreachable ({type(err).__name__})"}
        body: dict[str, Any] = {"schema_version": version, "schema_expected": LATEST_VERSION}
        if version < LATEST_VERSION:
            return {"ok": False, "status": "schema older than this app", **body}
        if version > LATEST_VERSION:
            return {"ok": False, "status": "schema newer than this app", **body}
        return {"ok": True, "status": "ok", **body}

    def _answers(self) -> dict[str, Any]:
        services = list(self._services())
        if not services:
            return {"ok": True, "status": "idle (starts on first use)"}
        alive = sum(1 for service in services if service.loop_alive(LOOP_TIMEOUT))
        if alive < len(services):
            return {"ok": False, "status": "an answer worker's loop does not run", "loops": alive}
        return {"ok": True, "status": "ok", "loops": alive}

    def _start_api(self) -> _Pending[bool] | ProbeBusy | None:
        known, api = self._api_known, self._api
        if api is None or (known is not None and time.monotonic() - known[0] < self.api_ttl):
            return None
        return self._start(self._api_probe, api)

    def _api_check(
        self, pending: _Pending[bool] | ProbeBusy | None, started: float
    ) -> dict[str, Any]:
        if isinstance(pending, _Pending):
            left = max(0.0, self.api_timeout - (time.monotonic() - started))
            try:
                self._api_known = (time.monotonic(), bool(pending.result(left)))
            except Exception:
                self._api_known = (time.monotonic(), False)
        if self._api_known is None:
            return {"ok": False, "status": "unknown", "fails_readiness": False}
        reachable = self._api_known[1]
        status = "ok" if reachable else "unreachable"
        return {"ok": reachable, "status": status, "fails_readiness": False}
