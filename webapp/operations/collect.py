"""The gauges of `/metrics`, read when Prometheus scrapes.

`AppCollector` reports, for this process: answers streaming from the API,
waiting for a team slot, waiting for one of this process's workers
(`ABLT_MAX_WORKERS`), and the browser sessions connected. From the database
(the same figures on every process, the team's): prompts queued behind an
answer in progress, team slots in use and waiting, the limit in force
(+Inf: none) and whether a 429 back-off lowers it now. The database figures
are read at most every `DB_EVERY` seconds, in a probe thread waited for at
most `DB_TIMEOUT` s, so a scrape never hangs on a hung database and fifty
scrapes a second cost the database nothing; while the database does not
answer, `ablt_chat_database_up` is 0 and those figures are left out.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from webapp.answers.service import OPEN_SERVICES, AnswerService
from webapp.answers.slots_store import SlotBook
from webapp.db.schema import queued_prompts
from webapp.operations.health import Bounded
from webapp.operations.metrics import PREFIX, REGISTRY

DB_EVERY: Final = 2.0  # seconds a reading of the database figures is reused
DB_TIMEOUT: Final = 0.5  # seconds a scrape waits for the database figures


def open_services() -> list[AnswerService]:
    """The answer services of this process that are not closed."""
    return list(OPEN_SERVICES)


@dataclass(frozen=True, slots=True)
class TeamFigures:
    """The team-wide figures read from the database."""

    queued: int
    slots_in_use: int
    slots_waiting: int
    limit: float  # math.inf: no limit
    backed_off: bool


def read_team_figures(book: SlotBook) -> TeamFigures:
    """Read the queue and the slots (blocking: run it in a probe thread)."""
    status = book.status()
    with book.engine.connect() as conn:
        queued = conn.execute(sa.select(sa.func.count()).select_from(queued_prompts)).scalar()
    return TeamFigures(
        queued=int(queued or 0),
        slots_in_use=status.streaming,
        slots_waiting=status.waiting,
        limit=math.inf if status.effective is None else float(status.effective),
        backed_off=status.backoff is not None,
    )


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=value)


class AppCollector(Collector):
    """The scrape-time gauges (see the module). `services()`: the process's
    answer services; `sessions()`: connected browser sessions (None: unknown)."""

    def __init__(
        self,
        services: Callable[[], Iterable[AnswerService]] = open_services,
        sessions: Callable[[], int | None] = lambda: None,
        *,
        db_every: float = DB_EVERY,
        db_timeout: float = DB_TIMEOUT,
    ) -> None:
        self._services = services
        self._sessions = sessions
        self.db_every = db_every
        self.db_timeout = db_timeout
        self._probe: Bounded[TeamFigures] = Bounded("metrics-database")
        self._lock = threading.Lock()
        self._team: tuple[float, TeamFigures | None] | None = None  # (monotonic, figures)

    def describe(self) -> Iterable[Metric]:
        # Nothing at registration: collecting then would read the database.
        return []

    def collect(self) -> Iterator[Metric]:
        services = list(self._services())
        waits = [wait for service in services for wait in service.waits()]
        kinds = [wait.kind if wait is not None else "" for wait in waits]
        yield _gauge(
            "answers_in_progress",
            "Answers this process is generating now (asked of the API, not waiting for a slot).",
            sum(1 for kind in kinds if kind not in ("line", "slot")),
        )
        yield _gauge(
            "answers_waiting_for_team_slot",
            "Answers of this process waiting for a free slot of the team's limit.",
            kinds.count("line"),
        )
        yield _gauge(
            "answers_waiting_for_worker",
            "Answers of this process waiting for one of its workers (ABLT_MAX_WORKERS).",
            kinds.count("slot"),
        )
        yield _gauge(
            "workers_max",
            "Answers this process generates at once at most (ABLT_MAX_WORKERS).",
            max((service.max_workers for service in services), default=0),
        )
        sessions = self._sessions()
        if sessions is not None:
            yield _gauge("sessions_active", "Browser sessions connected to this process.", sessions)
        yield from self._team_gauges(services)

    def _team_figures(self, services: list[AnswerService]) -> TeamFigures | None:
        if not services:
            return None
        now = time.monotonic()
        with self._lock:
            if self._team is not None and now - self._team[0] < self.db_every:
                return self._team[1]
        book = services[0].team.book
        try:
            figures: TeamFigures | None = self._probe.call(
                lambda: read_team_figures(book), self.db_timeout
            )
        except Exception:  # TimeoutError, ProbeBusy, the database's errors
            figures = None
        with self._lock:
            self._team = (time.monotonic(), figures)
        return figures

    def _team_gauges(self, services: list[AnswerService]) -> Iterator[Metric]:
        if not services:
            return
        figures = self._team_figures(services)
        yield _gauge(
            "database_up",
            "1 when the database answered this scrape's team figures in time, else 0.",
            0 if figures is None else 1,
        )
        if figures is None:
            return
        yield _gauge(
            "prompts_queued",
            "Prompts queued behind an answer in progress (the whole team's, from the database).",
            figures.queued,
        )
        yield _gauge(
            "team_slots_in_use",
            "Answers holding one of the team's slots (every process's).",
            figures.slots_in_use,
        )
        yield _gauge(
            "team_slots_waiting",
            "Answers waiting in line for one of the team's slots (every process's).",
            figures.slots_waiting,
        )
        yield _gauge(
            "team_slots_limit",
            "The team's limit on answers at once now, lowered during a 429 back-off (+Inf: none).",
            figures.limit,
        )
        yield _gauge(
            "team_slots_backoff_active",
            "1 while a 429 from the API has lowered the team's limit, else 0.",
            1 if figures.backed_off else 0,
        )


_installed: AppCollector | None = None
_install_lock = threading.Lock()


def install(collector: AppCollector) -> AppCollector:
    """Register `collector` in the process's registry, replacing one installed before."""
    global _installed
    with _install_lock:
        if _installed is not None:
            REGISTRY.unregister(_installed)
        REGISTRY.register(collector)
        _installed = collector
    return collector
