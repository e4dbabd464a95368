"""Plain-httpx helpers for the emulator tests (deliberately not the ablt_core client)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ablt_core.emulator import EmulatorHandle


@pytest.fixture
def http(emulator: EmulatorHandle, test_token: str) -> Iterator[httpx.Client]:
    """An httpx client pointed at the emulator, sending the accepted token."""
    with httpx.Client(
        base_url=emulator.base_url,
        headers={"Authorization": f"Bearer {test_token}"},
        timeout=10,
    ) as client:
        yield client
