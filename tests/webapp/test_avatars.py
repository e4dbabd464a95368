"""Avatars reach the browser inline, fetched by the server without credentials."""

from __future__ import annotations

import base64

from webapp.avatars import FALLBACK_AVATAR, avatar_for, fetch_avatar_data_url, has_image


def test_an_emulator_avatar_becomes_an_inline_svg(emulator):
    url = f"{emulator.base_url}/avatars/omni.svg"

    data_url = fetch_avatar_data_url(url)

    assert data_url is not None and data_url.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(data_url.split(",", 1)[1]).decode()
    assert "<svg" in svg


def test_the_avatar_request_carries_no_token(emulator):
    fetch_avatar_data_url(f"{emulator.base_url}/avatars/omni.svg")

    avatar_requests = [r for r in emulator.requests if r.path.startswith("/avatars/")]
    assert avatar_requests, "the emulator saw no avatar request"
    assert all("authorization" not in {k.lower() for k in r.headers} for r in avatar_requests)


def test_what_is_not_an_image_falls_back_to_an_icon(emulator):
    # Health check answers JSON, not an image; a dead port refuses the connection.
    assert fetch_avatar_data_url(f"{emulator.base_url}/health-check") is None
    assert fetch_avatar_data_url("http://127.0.0.1:9/none.png") is None
    assert avatar_for(None) == FALLBACK_AVATAR
    assert avatar_for("javascript:alert(1)") == FALLBACK_AVATAR
    assert not has_image(FALLBACK_AVATAR)
