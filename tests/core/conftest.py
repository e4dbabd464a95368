"""Client fixtures on top of the shared emulator (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ablt_core import AbltClient, AsyncAbltClient, _retry
from ablt_core.emulator import EmulatorHandle

BOT_SLUG = "omni"


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
