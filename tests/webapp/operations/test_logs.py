"""Log lines: one per event, JSON lines on demand, API errors with the API's
request id, and never a prompt, an answer, a token or a password."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ablt_core.emulator import EmulatorHandle, Fault
from webapp.answers import AnswerService
from webapp.auth import passwords
from webapp.auth import throttle as logins
from webapp.auth.throttle_store import LoginLog
from webapp.conversations.store import ConversationStore
from webapp.operations.logs import configure_logging, scrub, secret_values
from webapp.settings import Settings
from webapp.team import Team

ANN = type("Member", (), {"username": "ann", "user_id": 42})()
PROMPT = "my-private-prompt-about-the-merger"
ANSWER = "the-bots-confidential-answer-words"
PASSWORD = "hunter2-wrong-password-typed"


@pytest.fixture
def captured() -> Iterator[Callable[[str], io.StringIO]]:
    """Install the app's handler on a StringIO (as serve.py does on stderr); undo after."""
    root = logging.getLogger()
    level = root.level
    handlers: list[logging.Handler] = []

    def install(fmt: str, secrets: tuple[str, ...] = ()) -> io.StringIO:
        out = io.StringIO()
        handlers.append(configure_logging(secrets, env={"ABLT_LOG_FORMAT": fmt}, stream=out))
        return out

    yield install
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def test_an_answer_a_failed_login_and_an_api_error_log_no_secret(
    captured: Callable[..., io.StringIO],
    make_service: Callable[..., AnswerService],
    store: ConversationStore,
    emulator: EmulatorHandle,
    test_token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = captured("json", (test_token,))
    service = make_service()
    # An answer, streamed whole.
    emulator.inject(Fault(kind="scripted_answer", text=ANSWER))
    cid = store.create_conversation(ANN, "omni", "Omni").id
    sent = service.submit(ANN, cid, PROMPT)
    assert sent.answer_id
    live = service.live(sent.answer_id)
    assert live is not None and live.wait_done(15)
    assert ANSWER in store.all_messages(ANN, cid)[-1].text
    # An API error (a 503 on every attempt), with its x-request-id.
    emulator.inject(Fault(kind="server_error", status=503, times=None))
    failed = service.submit(ANN, cid, PROMPT + " again")
    assert failed.answer_id
    live = service.live(failed.answer_id)
    assert live is not None and live.wait_done(15)
    emulator.clear_faults()
    # The last attempt's x-request-id (the emulator answered the 503s with them).
    last_id = [r.request_id for r in emulator.requests if r.path == "/v1/chat"][-1]
    # A failed login.
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    team = Team(tmp_path / "auth.yaml", {"credentials": {"usernames": {}}})
    team.add("ann", name="Ann", email="ann@example.com", password="ann-right-password")
    result = logins.authenticate(team, "ann", PASSWORD, "203.0.113.7", LoginLog(store.engine))
    assert result.member is None

    lines = out.getvalue().splitlines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    messages = [event["message"] for event in events]
    assert any(m.startswith("Answer finished: status=complete") for m in messages)
    assert "Login failed: reason=wrong_credentials" in messages
    api_errors = [m for m in messages if m.startswith("aBLT API error:")]
    assert len(api_errors) == 1
    assert "status=503" in api_errors[0]
    assert last_id and f"request_id={last_id}" in api_errors[0]
    for secret in (PROMPT, ANSWER, PASSWORD, test_token):
        assert secret not in out.getvalue()


def test_a_traceback_stays_on_its_line_in_both_formats(
    captured: Callable[..., io.StringIO],
) -> None:
    for fmt in ("text", "json"):
        out = captured(fmt)
        try:
            raise ValueError("first line\nsecond line")
        except ValueError:
            logging.getLogger("webapp.test").exception("It failed\nbadly")
        lines = out.getvalue().splitlines()
        assert len(lines) == 1
        if fmt == "json":
            event = json.loads(lines[0])
            assert event["level"] == "ERROR" and event["logger"] == "webapp.test"
            assert "ValueError: first line" in event["exception"]
        else:
            assert " ERROR webapp.test: It failed\\nbadly | Traceback" in lines[0]


def test_configured_secrets_and_bearer_tokens_are_redacted(
    captured: Callable[..., io.StringIO],
) -> None:
    settings = Settings(
        bearer_token="sk-live-api-token-1",
        cookie_key="k" * 40,
        metrics_token="metrics-token-xyz",
        db_url="postgresql+psycopg://ablt:db-password-9@db/ablt",
    )
    secrets = secret_values(settings)
    assert set(secrets) == {"sk-live-api-token-1", "k" * 40, "metrics-token-xyz", "db-password-9"}
    out = captured("text", tuple(secrets))
    logging.getLogger("webapp.test").warning(
        "sent %s with Authorization: Bearer abc.def-123 to %s",
        "sk-live-api-token-1",
        "postgresql://ablt:db-password-9@db",
    )
    line = out.getvalue()
    assert "sk-live-api-token-1" not in line and "abc.def-123" not in line
    assert "db-password-9" not in line
    assert "Bearer [redacted]" in line
    assert scrub("no secret here") == "no secret here"
