"""The emulator counts chat requests in flight (what a plan's limit on simultaneous use counts)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from ablt_core.emulator import EmulatorHandle, Fault

BODY = {"bot_slug": "omni", "prompt": "Count me", "stream": True}


def _until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the expected state was not reached"
        time.sleep(0.01)


def test_streamed_chats_count_while_they_stream_and_the_most_at_once_is_kept(
    emulator: EmulatorHandle, http: httpx.Client
) -> None:
    emulator.set_delay(0.05)
    release = threading.Event()

    def stream() -> None:
        with http.stream("POST", "/v1/chat", json=BODY) as response:
            for _ in response.iter_bytes():
                if release.is_set():
                    break

    threads = [threading.Thread(target=stream) for _ in range(3)]
    for t in threads:
        t.start()
    _until(lambda: emulator.inflight == (3, 3))
    control = http.get("/_emulator/inflight").json()
    assert control == {"chats": 3, "max_chats": 3}
    release.set()
    for t in threads:
        t.join(15)
    _until(lambda: emulator.inflight[0] == 0)
    assert emulator.inflight == (0, 3)  # the most at once stays until reset
    assert http.delete("/_emulator/inflight").json() == {"chats": 0, "max_chats": 0}


def test_a_chat_waiting_for_its_first_byte_is_in_flight_and_leaves_when_its_client_goes(
    emulator: EmulatorHandle, test_token: str
) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=30))
    client = httpx.Client(
        base_url=emulator.base_url, headers={"Authorization": f"Bearer {test_token}"}
    )

    def ask() -> None:
        try:
            client.post("/v1/chat", json=BODY, timeout=1.0)
        except httpx.TimeoutException:
            pass
        finally:
            client.close()

    worker = threading.Thread(target=ask)
    worker.start()
    _until(lambda: emulator.inflight[0] == 1)
    worker.join(15)
    _until(lambda: emulator.inflight[0] == 0)  # the client gave up: not counted any more
    assert emulator.inflight[1] == 1
