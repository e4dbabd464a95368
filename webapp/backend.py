"""Which aBLT API the app talks to, and the one client per process.

With a bearer token configured the app talks to `ABLT_BASE_URL`. Without one
it runs in demo mode: the built-in emulator is started on loopback once per
server process (a process-global singleton behind a lock, because every
browser session runs in its own thread) and the client uses it with a
throwaway demo token.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from ablt_core import AbltClient, AsyncAbltClient
from webapp.answers import AnswerService
from webapp.answers.service import OPEN_SERVICES
from webapp.answers.slots import holder_id
from webapp.answers.slots_store import SlotBook
from webapp.auth import sso
from webapp.bots.catalogue import client_base_url
from webapp.budgets.check import BudgetGate
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import DEFAULT_DB_URL, ConversationStore
from webapp.evaluations.runner import runner_for
from webapp.groups.admission import BotAccessRule
from webapp.groups.store import place_by_sso_claim
from webapp.lifecycle.downloads import DataDownloads
from webapp.lifecycle.retention import RetentionScheduler
from webapp.settings import Settings, get_settings
from webapp.team.model import DEMO_USER_IDS
from webapp.ui.member import require_member

if TYPE_CHECKING:
    from ablt_core.emulator import EmulatorHandle

# Single sign-on places members in groups by the provider's groups claim.
sso.set_groups_hook(place_by_sso_claim)

log = logging.getLogger(__name__)
_R = TypeVar("_R")

# Any non-empty token works against an emulator started without `token=`.
DEMO_TOKEN = "demo-token"
HEALTH_TTL_SECONDS = 30

# The embedded emulator's control routes (/_emulator/faults, /_emulator/requests:
# the request log holds members' prompts) need this per-process secret. Tests
# that start the app as a server pass their own through the environment.
ENV_EMULATOR_CONTROL_SECRET = "ABLT_EMULATOR_CONTROL_SECRET"
_control_secret = os.environ.get(ENV_EMULATOR_CONTROL_SECRET) or secrets.token_urlsafe(32)

_emulator_lock = threading.Lock()
_emulator: EmulatorHandle | None = None


def is_demo_mode(settings: Settings | None = None) -> bool:
    return (settings or get_settings()).demo_mode


def start_demo_emulator(delay: float | None = None) -> EmulatorHandle:
    """A new emulator as demo mode runs it (stop it with `.stop()` or `with`):
    loopback only, its control routes locked with the process's secret, usage
    history for the demo team only (a member added later starts at zero)."""
    # Imported in demo mode only: the emulator's server (Starlette, uvicorn)
    # is not needed against the real API.
    from ablt_core.emulator import start_emulator
    from ablt_core.emulator.server import DEFAULT_DELAY

    return start_emulator(
        host="127.0.0.1",
        port=0,
        control_secret=_control_secret,
        seed_users=DEMO_USER_IDS,
        delay=DEFAULT_DELAY if delay is None else delay,
    )


def ensure_demo_emulator(delay: float | None = None) -> EmulatorHandle:
    """Start the embedded emulator on first use; later calls return the same one."""
    global _emulator
    with _emulator_lock:
        if _emulator is None:
            _emulator = start_demo_emulator(delay)
            log.info("Demo mode: started the built-in aBLT emulator at %s", _emulator.base_url)
        elif delay is not None:
            # The emulator outlives script runs; keep its pace in line with the settings.
            _emulator.set_delay(delay)
        return _emulator


def demo_control_secret() -> str:
    """The secret the embedded emulator's `/_emulator/*` routes require (header
    `X-Emulator-Secret`). For tests and tools on the server; never for the browser."""
    return _control_secret


def demo_emulator() -> EmulatorHandle | None:
    """The embedded emulator when the app runs in demo mode, else None."""
    if not is_demo_mode():
        return None
    return _emulator


def api_target(settings: Settings) -> tuple[str, str]:
    """(base_url, token) the client should use for these settings."""
    if settings.demo_mode:
        handle = ensure_demo_emulator(settings.emulator_delay)
        return handle.base_url, DEMO_TOKEN
    assert settings.bearer_token is not None
    return settings.base_url, settings.bearer_token


class Remembered(Generic[_R]):
    """A `st.cache_resource` function whose values this process also keeps by
    their arguments as a plain tuple, so asking again skips Streamlit's
    lookup: it inspects the function's signature and hashes every argument,
    about 4 ms for the answer service's nine, and a send asks for the
    service and the store several times. Streamlit's cache still makes each
    value once for all sessions. `alive(value)`: False for a value no longer
    usable (made again); `secret_last`: the last argument is a secret kept
    out of the key, as Streamlit keeps a `_`-named one (a digest of it
    comes before it); `clear()` forgets here and in Streamlit's cache."""

    def __init__(
        self,
        made: Callable[..., _R],
        *,
        alive: Callable[[_R], bool] | None = None,
        secret_last: bool = False,
    ) -> None:
        self._made = made
        self._alive = alive
        self._secret_last = secret_last
        self._kept: dict[tuple[object, ...], _R] = {}
        self._lock = threading.Lock()

    def __call__(self, *args: object) -> _R:
        key = args[:-1] if self._secret_last else args
        kept = self._kept.get(key)
        if kept is not None and (self._alive is None or self._alive(kept)):
            return kept
        value = self._made(*args)
        with self._lock:
            self._kept[key] = value
        return value

    def clear(self) -> None:
        """Forget every value, here and in Streamlit's cache."""
        with self._lock:
            self._kept.clear()
        clear: Callable[[], None] = getattr(self._made, "clear")  # noqa: B009
        clear()


@st.cache_resource(show_spinner=False)
def _client_for_made(base_url: str, token_digest: str, _token: str) -> AbltClient:
    # The leading underscore keeps the token itself out of Streamlit's cache
    # key; a digest stands in for it so a changed token gets a new client.
    return AbltClient(bearer_token=_token, base_url=base_url)


_client_for = Remembered(_client_for_made, secret_last=True)


def _client(settings: Settings) -> AbltClient:
    base_url, token = api_target(settings)
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    return _client_for(base_url, digest, token)


def get_client(settings: Settings | None = None) -> AbltClient:
    """The process-wide client for the configured API (demo emulator or real).

    For logged-in members only: it stops the page otherwise (app.py's gate
    sees to that first; this is defence in depth).
    """
    require_member()
    return _client(settings or get_settings())


@st.cache_data(ttl=HEALTH_TTL_SECONDS, show_spinner=False)
def _health(base_url: str) -> bool:
    # The health check needs no login: the login page shows it too.
    return _client(get_settings()).health_check()


def api_is_healthy() -> bool:
    """Whether the API answered its health check (cached about 30 seconds)."""
    base_url, _ = api_target(get_settings())
    try:
        return _health(base_url)
    except Exception:  # health_check should never raise; a page must load regardless
        log.warning("Health check failed unexpectedly", exc_info=True)
        return False


def retry_health() -> None:
    """Forget the cached health so the next read asks the API again."""
    _health.clear()


@st.cache_resource(show_spinner=False)
def _store_for_made(url: str) -> ConversationStore:
    # Keyed by URL, so a changed ABLT_DB_URL (or each test's own file) gets its
    # own store; the store holds the connection pool and is thread-safe.
    store = ConversationStore(url)
    try:  # temporary chats left by sessions that vanished before this process began
        store.organise.sweep_temporaries()
    except SQLAlchemyError:
        log.warning("Could not sweep old temporary chats", exc_info=True)
    return store


_store_for = Remembered(_store_for_made)


def get_store(settings: Settings | None = None) -> ConversationStore:
    """The process-wide conversation store (ABLT_DB_URL, else data/ablt-chat.db).

    Shared by every session of the process; each call to it names the member,
    so sharing it shares no one's conversations.
    """
    return _store_for((settings or get_settings()).db_url or DEFAULT_DB_URL)


@st.cache_resource(show_spinner=False)
def _lifecycle_for_made(url: str) -> tuple[DataDownloads, RetentionScheduler]:
    # One per process: the data downloads it builds, and its hourly look at
    # whether the daily retention sweep is due (one process of all sweeps).
    store = _store_for(url)
    downloads = DataDownloads(store)
    return downloads, RetentionScheduler(store.engine, also=downloads.remove_expired)


_lifecycle_for = Remembered(_lifecycle_for_made)


def start_lifecycle(settings: Settings | None = None) -> None:
    """Make sure this process's retention schedule runs (idempotent, cheap)."""
    _lifecycle_for((settings or get_settings()).db_url or DEFAULT_DB_URL)


def get_downloads(settings: Settings | None = None) -> DataDownloads:
    """The process-wide data downloads ("Download all my data"); also starts
    the process's retention schedule, once."""
    return _lifecycle_for((settings or get_settings()).db_url or DEFAULT_DB_URL)[0]


# A Retry-After longer than this is shown at once with Retry, not waited for.
MAX_RETRY_AFTER = 60.0


@st.cache_resource(show_spinner=False)
def _answers_for_made(
    db_url: str,
    base_url: str,
    token_digest: str,
    max_workers: int,
    max_messages: int | None,
    max_words: int | None,
    max_concurrent: int | None,
    slot_stale_seconds: float,
    _token: str,
) -> AnswerService:
    # One per process and configuration; it owns the answers' event loop and
    # the async client, whose pool is sized to the number of answers at once.
    store = _store_for(db_url)
    # The admission rules the service asks before any answer starts (every way
    # of starting one, the worker's queued prompts included): the bots the
    # member's groups may use, then the month's budget.
    client = _client_for(base_url, token_digest, _token)
    gate = BudgetGate(store, client, base_url=client_base_url(client))
    service = AnswerService(
        store,
        lambda: AsyncAbltClient(
            bearer_token=_token,
            base_url=base_url,
            max_connections=max_workers,
            max_retry_after=MAX_RETRY_AFTER,
        ),
        limits=ContextLimits(max_messages=max_messages, max_words=max_words),
        max_workers=max_workers,
        slots=SlotBook(
            store.engine,
            holder_id(),
            configured=max_concurrent,
            stale_after=timedelta(seconds=slot_stale_seconds),
        ),
        rules=[BotAccessRule(store), gate],
    )
    # Its evaluation runner starts with it: runs queued before a restart go on
    # whether or not anyone opens the Evaluations page.
    runner_for(service)
    return service


# A closed service (tests close theirs) is made again.
_answers_for = Remembered(
    _answers_for_made, alive=lambda made: made in OPEN_SERVICES, secret_last=True
)


def get_answers(settings: Settings | None = None) -> AnswerService:
    """The process-wide answer service (`webapp.answers`): answers generated in the
    background, for every session of this process. For logged-in members only."""
    require_member()
    return start_answers(settings)


def start_answers(settings: Settings | None = None) -> AnswerService:
    """Make sure this process's answer service runs, with its evaluation runner
    (idempotent, cheap once made); returns it. Any page's first use starts it
    (`get_answers`), and with it the evaluation runner, so runs queued before a
    restart resume whichever page a member opens first. Not for the page's use:
    `get_answers` checks the member. Raises what building the client or store
    raises (bad settings)."""
    settings = settings or get_settings()
    base_url, token = api_target(settings)
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    limits = settings.context_limits
    return _answers_for(
        settings.db_url or DEFAULT_DB_URL,
        base_url,
        digest,
        settings.max_workers,
        limits.max_messages,
        limits.max_words,
        settings.max_concurrent_answers,
        settings.slot_stale_seconds,
        token,
    )
