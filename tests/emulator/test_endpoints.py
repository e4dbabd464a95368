"""Health check, bot catalogue, avatars, auth rules and FastAPI-style errors."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from ablt_core.emulator import EmulatorHandle, start_emulator

UUID_LIKE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
CONTRACT_FIELDS = {"uid", "slug", "name", "description", "welcome_message", "model", "avatar_url"}


def test_health_check_needs_no_token(emulator: EmulatorHandle) -> None:
    response = httpx.get(f"{emulator.base_url}/health-check")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    uuid.UUID(response.headers["x-request-id"])


def test_bots_catalogue_is_varied_like_the_real_one(http: httpx.Client) -> None:
    response = http.get("/v1/bots")
    assert response.status_code == 200
    bots = response.json()
    assert len(bots) >= 6
    for bot in bots:
        assert set(bot) >= CONTRACT_FIELDS
        assert UUID_LIKE.match(bot["uid"])
    slugs = [b["slug"] for b in bots]
    names = [b["name"] for b in bots]
    assert "omni" in slugs
    assert len(set(slugs)) == len(slugs)
    assert len({b["uid"].lower() for b in bots}) == len(bots)
    assert len(set(names)) < len(names), "one display name is shared, as the contract allows"
    assert len({b["model"] for b in bots}) >= 5
    assert {"gpt-4", "claude-3-opus", "llama-3-70b"} <= {b["model"] for b in bots}
    assert any("\r\n" in b["welcome_message"] for b in bots)
    assert any(b["uid"] != b["uid"].lower() and b["uid"] != b["uid"].upper() for b in bots)
    assert any(set(b) - CONTRACT_FIELDS for b in bots), "an unknown extra field to ignore"
    assert any(b["avatar_url"] is None for b in bots)
    assert any(b["description"] == "" for b in bots)


def test_avatar_urls_are_absolute_and_served_by_the_emulator(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    bots = [b for b in http.get("/v1/bots").json() if b["avatar_url"]]
    assert bots
    svgs = set()
    for bot in bots:
        assert bot["avatar_url"] == f"{emulator.base_url}/avatars/{bot['slug']}.svg"
        image = httpx.get(bot["avatar_url"])  # no token: images load from a plain <img>
        assert image.status_code == 200
        assert image.headers["content-type"].startswith("image/svg+xml")
        assert image.text.startswith("<svg") and image.text.endswith("</svg>")
        svgs.add(image.text)
    assert len(svgs) == len(bots)


def test_unknown_avatar_is_404(http: httpx.Client) -> None:
    assert http.get("/avatars/nobody.svg").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}],
    ids=["missing", "empty", "bearer-without-token", "not-bearer"],
)
def test_missing_token_is_401(emulator: EmulatorHandle, headers: dict[str, str]) -> None:
    response = httpx.get(f"{emulator.base_url}/v1/bots", headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)
    assert response.headers["x-request-id"]


def test_wrong_token_is_401_when_one_is_configured(emulator: EmulatorHandle) -> None:
    response = httpx.post(
        f"{emulator.base_url}/v1/chat",
        json={"bot_slug": "omni", "prompt": "hi", "stream": False},
        headers={"Authorization": "Bearer not-the-token"},
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token"}


def test_the_configured_token_never_shows_in_a_repr(
    emulator: EmulatorHandle, test_token: str
) -> None:
    assert emulator.state.token == test_token
    assert test_token not in repr(emulator.state)
    assert test_token not in repr(emulator)


def test_without_configured_token_any_non_empty_token_works() -> None:
    with start_emulator(delay=0, history_days=0) as open_emulator:
        ok = httpx.get(f"{open_emulator.base_url}/v1/bots", headers={"Authorization": "Bearer x"})
        missing = httpx.get(f"{open_emulator.base_url}/v1/bots")
    assert ok.status_code == 200
    assert missing.status_code == 401
    assert not open_emulator.running


def test_unknown_path_and_method_answer_json_with_request_id(http: httpx.Client) -> None:
    missing = http.get("/v2/nothing")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    assert missing.headers["x-request-id"]
    wrong_method = http.get("/v1/chat")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["x-request-id"]


def test_every_response_has_a_fresh_request_id(http: httpx.Client) -> None:
    ids = {http.get("/health-check").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_requests_are_recorded_without_the_authorization_header(
    http: httpx.Client, emulator: EmulatorHandle
) -> None:
    body = {"bot_slug": "omni", "prompt": "hello", "stream": False, "user_id": 7}
    response = http.post("/v1/chat", json=body, headers={"X-Trace": "abc"})
    recorded = emulator.requests[-1]
    assert (recorded.method, recorded.path, recorded.json) == ("POST", "/v1/chat", body)
    assert recorded.headers["x-trace"] == "abc"
    assert "authorization" not in {k.lower() for k in recorded.headers}
    assert recorded.request_id == response.headers["x-request-id"]
    over_http = http.get("/_emulator/requests").json()
    assert over_http[-1]["json"] == body
    assert http.delete("/_emulator/requests").status_code == 204
    assert emulator.requests == []
