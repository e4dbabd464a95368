"""Small helpers shared by the emulator tests."""

from __future__ import annotations

import json
from typing import Any

CHAT_URL = "/v1/chat"
STATS_URL = "/v1/user/usage-statistics"


def sse_events(raw: bytes) -> list[Any]:
    """The payloads of a complete SSE body: decoded JSON, or the raw text if not JSON."""
    text = raw.decode("utf-8")
    assert text.endswith("\n\n"), text[-40:]
    events = []
    for block in text[:-2].split("\n\n"):
        assert block.startswith("data: "), block
        payload = block.removeprefix("data: ")
        try:
            events.append(json.loads(payload))
        except ValueError:
            events.append(payload)
    return events
