"""Shared fixtures: one emulator per test session, reset around each test.

Subfolders add their own conftest.py for their own fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ablt_core.emulator import EmulatorHandle, start_emulator


@pytest.fixture(scope="session")
def test_token() -> str:
    """The bearer token the session emulator accepts (and the only one)."""
    return "test-token"


@pytest.fixture(scope="session")
def emulator_server(test_token: str) -> Iterator[EmulatorHandle]:
    """A real emulator on a free loopback port, no streaming delay, for the whole session."""
    with start_emulator(delay=0, token=test_token) as handle:
        yield handle


@pytest.fixture
def emulator(emulator_server: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The session emulator with faults, recorded requests and delay reset around the test."""
    emulator_server.clear_faults()
    emulator_server.clear_requests()
    emulator_server.set_delay(0)
    yield emulator_server
    emulator_server.clear_faults()
    emulator_server.clear_requests()
    emulator_server.set_delay(0)
