"""Client fixtures on top of the shared emulator (tests/conftest.py), and the
helpers the client tests share."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator

import pytest

from ablt_core import AbltClient, AsyncAbltClient, _retry
from ablt_core.emulator import EmulatorHandle

BOT_SLUG = "omni"
PROMPT = "How should I plan a small garden?"


def free_port() -> int:
    """A loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chat_requests(emulator: EmulatorHandle) -> int:
    """How many chat requests reached the emulator."""
    return sum(1 for request in emulator.requests if request.path == "/v1/chat")


def full_answer(client: AbltClient, prompt: str = PROMPT) -> str:
    """A non-streamed answer from the test bot."""
    return client.chat(bot_slug=BOT_SLUG, prompt=prompt, stream=False)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every delay the client waits between retries, recorded instead of slept."""
    recorded: list[float] = []

    def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    async def fake_async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_retry, "sleep", fake_sleep)
    monkeypatch.setattr(_retry, "async_sleep", fake_async_sleep)
    return recorded


@pytest.fixture
def client(emulator: EmulatorHandle, test_token: str) -> Iterator[AbltClient]:
    """A sync client of the emulator, with the token the emulator accepts."""
    with AbltClient(test_token, emulator.base_url, timeout=10) as ablt:
        yield ablt


@pytest.fixture
async def async_client(emulator: EmulatorHandle, test_token: str) -> AsyncIterator[AsyncAbltClient]:
    """An async client of the emulator, with the token the emulator accepts."""
    async with AsyncAbltClient(test_token, emulator.base_url, timeout=10) as ablt:
        yield ablt
