"""AppTest fixtures: the real app.py, its real login form, the emulator behind it.

Demo-mode tests run against the app's own embedded emulator (reach it with
`webapp.backend.demo_emulator()`); token-mode tests point the app at the
session emulator from tests/conftest.py. Each test gets its own database (the
team lives there, `app_team`) and its own team file path, which the app
imports on its first run when a test has written one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ablt_core._retry
from ablt_core.emulator import EmulatorHandle
from webapp import backend
from webapp import team as team_module
from webapp.auth import passwords
from webapp.conversations.store import ConversationStore
from webapp.team import MemberStore

APP_PATH = Path(__file__).resolve().parents[2] / "app.py"
COOKIE_KEY = "test-cookie-key-" + "x" * 32
APP_TIMEOUT = 30  # seconds per script run; generous for a busy CI machine


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    # The app runs in this process, so the cheaper cost applies to the demo team too.
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_wait(seconds: float) -> None:
        return None

    monkeypatch.setattr(ablt_core._retry, "sleep", lambda seconds: None)
    monkeypatch.setattr(ablt_core._retry, "async_sleep", no_wait)


@pytest.fixture(autouse=True)
def close_answer_services() -> Iterator[None]:
    """Each test's answers run in their own service; none outlives the test."""
    yield
    from webapp.answers import service

    backend._answers_for.clear()
    for open_service in list(service.OPEN_SERVICES):
        open_service.close()


@pytest.fixture(autouse=True)
def app_db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every AppTest's conversations go to its own SQLite file, never to data/."""
    url = f"sqlite:///{tmp_path / 'db' / 'ablt-chat.db'}"
    monkeypatch.setenv("ABLT_DB_URL", url)
    return url


@pytest.fixture
def app_store(app_db_url: str) -> Iterator[ConversationStore]:
    """The same database the app writes to, for a test to seed or inspect."""
    with ConversationStore(app_db_url) as store:
        yield store


@pytest.fixture
def app_team(app_store: ConversationStore) -> MemberStore:
    """The team in the app's database (the app imports or seeds it on its first run)."""
    return MemberStore(app_store.engine)


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    return tmp_path / "auth.yaml"


@pytest.fixture
def demo_env(monkeypatch: pytest.MonkeyPatch, auth_file: Path) -> Iterator[None]:
    """No token: demo mode, the embedded emulator with no streaming delay."""
    for name in ("ABLT_BEARER_TOKEN", "ABLT_BASE_URL", "ABLT_COOKIE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ABLT_AUTH_FILE", str(auth_file))
    monkeypatch.setenv("ABLT_EMULATOR_DELAY", "0")
    handle = backend.ensure_demo_emulator(0)
    handle.clear_faults()
    handle.clear_requests()
    yield
    handle.clear_faults()
    handle.clear_requests()


@pytest.fixture
def token_env(
    monkeypatch: pytest.MonkeyPatch, auth_file: Path, emulator: EmulatorHandle, test_token: str
) -> EmulatorHandle:
    """A real token configured: the app talks to the test emulator as if it were aBLT."""
    monkeypatch.setenv("ABLT_BEARER_TOKEN", test_token)
    monkeypatch.setenv("ABLT_BASE_URL", emulator.base_url)
    monkeypatch.setenv("ABLT_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("ABLT_AUTH_FILE", str(auth_file))
    monkeypatch.delenv("ABLT_EMULATOR_DELAY", raising=False)
    return emulator


@pytest.fixture
def new_app() -> Callable[[], AppTest]:
    def make() -> AppTest:
        return AppTest.from_file(str(APP_PATH), default_timeout=APP_TIMEOUT)

    return make


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    """Fill in and submit the real streamlit-authenticator login form."""
    fields = {t.label: t for t in at.text_input}
    fields["Username"].input(username)
    fields["Password"].input(password)
    next(b for b in at.button if b.label == "Log in").click()
    return at.run()


@pytest.fixture
def login() -> Callable[[AppTest, str, str], AppTest]:
    return log_in


@pytest.fixture
def logged_in(demo_env: None, new_app: Callable[[], AppTest]) -> Callable[[str], AppTest]:
    """A demo-mode app session logged in as a demo member (or admin)."""

    def make(username: str = "demo-member") -> AppTest:
        at = new_app().run()
        log_in(at, username, team_module.DEMO_PASSWORD)
        assert not at.exception, at.exception
        assert at.chat_input, "the chat page should show after logging in"
        return at

    return make
