"""Fault injection, from Python and over HTTP, and how `times` counts down."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ablt_core.emulator import EmulatorHandle, Fault
from tests.emulator.helpers import CHAT_URL, sse_events

STREAM_BODY = {"bot_slug": "omni", "prompt": "Tell me a story", "stream": True}


def chat(http: httpx.Client, stream: bool = False, **extra: Any) -> httpx.Response:
    return http.post(CHAT_URL, json={**STREAM_BODY, "stream": stream, **extra})


def test_rate_limit_sends_429_with_retry_after_then_recovers(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=2.0))
    limited = chat(http)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert isinstance(limited.json()["detail"], str)
    assert limited.headers["x-request-id"]
    assert chat(http).status_code == 200


def test_rate_limit_without_retry_after_sends_no_header(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=None))
    limited = chat(http)
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error(http: httpx.Client, emulator: EmulatorHandle, status: int) -> None:
    emulator.inject(Fault(kind="server_error", status=status))
    response = chat(http)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)


def test_unauthorized_even_with_the_right_token(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="unauthorized", path="/v1/bots"))
    assert http.get("/v1/bots").status_code == 401
    assert http.get("/v1/bots").status_code == 200


def test_drop_stream_close_ends_without_done(http: httpx.Client, emulator: EmulatorHandle) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=4))
    response = chat(http, stream=True)
    assert response.status_code == 200
    events = sse_events(response.content)
    assert events[0] == {"content": ""}
    assert len(events) == 1 + 4
    assert "[DONE]" not in events


def test_drop_stream_abort_breaks_the_connection(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=2, mode="abort"))
    received = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream("POST", CHAT_URL, json=STREAM_BODY) as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_raw():
            received += chunk
    assert received.startswith(b'data: {"content":""}\n\n')
    assert b"[DONE]" not in received
    assert chat(http).status_code == 200, "the server carries on"


def test_malformed_event_then_carries_on(http: httpx.Client, emulator: EmulatorHandle) -> None:
    emulator.inject(Fault(kind="malformed_event", after_pieces=1))
    events = sse_events(chat(http, stream=True, max_words=3).content)
    assert events == [
        {"content": ""},
        {"content": "Good"},
        "{not json",
        {"content": " question"},
        {"content": " -"},
        "[DONE]",
    ]


def test_stream_faults_wait_for_a_streamed_chat(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="drop_stream", after_pieces=0))
    assert chat(http, stream=False).status_code == 200
    assert len(emulator.faults) == 1
    assert sse_events(chat(http, stream=True).content) == [{"content": ""}]
    assert emulator.faults == []


def test_slow_first_byte_delays_the_response(http: httpx.Client, emulator: EmulatorHandle) -> None:
    emulator.inject(Fault(kind="slow_first_byte", seconds=0.5))
    with pytest.raises(httpx.ReadTimeout):
        http.post(CHAT_URL, json=STREAM_BODY, timeout=httpx.Timeout(5, read=0.1))
    assert chat(http).status_code == 200


def test_times_counts_down_per_matching_request(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="server_error", status=503, times=2))
    assert http.get("/v1/bots").status_code == 200, "other paths don't match or count"
    assert [chat(http).status_code for _ in range(3)] == [503, 503, 200]


def test_faults_apply_in_the_order_injected(http: httpx.Client, emulator: EmulatorHandle) -> None:
    emulator.inject(Fault(kind="rate_limit", retry_after=0))
    emulator.inject(Fault(kind="server_error"))
    assert [chat(http).status_code for _ in range(3)] == [429, 500, 200]


def test_star_path_matches_any_path_and_unlimited_times(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="server_error", path="*", times=None))
    assert http.get("/health-check").status_code == 500
    assert http.get("/v1/bots").status_code == 500
    assert http.get("/_emulator/faults").status_code == 200, "control API is never faulted"
    emulator.clear_faults()
    assert http.get("/health-check").status_code == 200


def test_faults_over_http(emulator: EmulatorHandle, test_token: str) -> None:
    control = httpx.Client(base_url=emulator.base_url)  # no token needed
    added = control.post("/_emulator/faults", json={"kind": "server_error", "status": 503})
    assert added.status_code == 201
    assert control.get("/_emulator/faults").json()[0]["status"] == 503
    api = {"Authorization": f"Bearer {test_token}"}
    assert (
        control.post(CHAT_URL, json={**STREAM_BODY, "stream": False}, headers=api).status_code
        == 503
    )
    assert control.get("/_emulator/faults").json() == []
    control.post("/_emulator/faults", json={"kind": "rate_limit", "times": 5})
    assert control.delete("/_emulator/faults").status_code == 204
    assert emulator.faults == []
    assert control.get("/_emulator/requests").json()[-1]["path"] == CHAT_URL


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "explode"},
        {"status": 503},
        {"kind": "drop_stream", "mode": "later"},
        {"kind": "rate_limit", "colour": "red"},
        {"kind": "server_error", "status": 404},
        [1],
    ],
    ids=["unknown-kind", "no-kind", "bad-mode", "unknown-field", "not-5xx", "not-object"],
)
def test_invalid_fault_over_http_is_422(emulator: EmulatorHandle, body: Any) -> None:
    response = httpx.post(f"{emulator.base_url}/_emulator/faults", json=body)
    assert response.status_code == 422
    assert emulator.faults == []


def test_invalid_fault_in_python_raises() -> None:
    with pytest.raises(ValueError):
        Fault(kind="explode")
    with pytest.raises(ValueError):
        Fault(kind="rate_limit", times=0)


def test_empty_answer_sends_only_done(http: httpx.Client, emulator: EmulatorHandle) -> None:
    emulator.inject(Fault(kind="empty_answer"))
    assert chat(http, stream=True).content == b"data: [DONE]\n\n"


def test_split_surrogate_sends_the_halves_in_two_events(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    emulator.inject(Fault(kind="split_surrogate"))
    body = chat(http, stream=True).content
    assert body.startswith(b'data: {"content": "Smile \\ud83d"}\n\ndata: {"content": "\\ude00')
    assert body.endswith(b"data: [DONE]\n\n")


def test_scripted_answer_streams_the_given_text_word_by_word(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    text = "| a |\r\n|---|\r\n| x<br>y |\n\nمرحبا."
    emulator.inject(Fault(kind="scripted_answer", text=text))
    events = sse_events(chat(http, stream=True).content)
    assert events[-1] == "[DONE]"
    assert "".join(e["content"] for e in events[:-1]) == text
