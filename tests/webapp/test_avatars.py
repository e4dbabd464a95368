"""Avatars reach the browser inline, fetched by the server without credentials."""

from __future__ import annotations

import base64

import pytest

from webapp.avatars import (
    INITIALS_SIZE,
    avatar_for,
    fetch_avatar_data_url,
    initials,
    initials_avatar,
)


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


def svg_of(data_url: str) -> str:
    assert data_url.startswith("data:image/svg+xml;base64,")
    return base64.b64decode(data_url.split(",", 1)[1]).decode()


def test_what_is_not_an_image_falls_back_to_the_initials(emulator):
    # Health check answers JSON, not an image; a dead port refuses the connection.
    assert fetch_avatar_data_url(f"{emulator.base_url}/health-check") is None
    assert fetch_avatar_data_url("http://127.0.0.1:9/none.png") is None
    fallback = initials_avatar("Omni Fast")
    assert avatar_for(None, "Omni Fast") == fallback
    assert avatar_for("javascript:alert(1)", "Omni Fast") == fallback
    assert avatar_for(f"{emulator.base_url}/health-check", "Omni Fast") == fallback


def test_the_initials_avatar_is_a_round_56px_svg_with_the_initials() -> None:
    svg = svg_of(initials_avatar("Ada the Code Mentor"))
    assert f'width="{INITIALS_SIZE}" height="{INITIALS_SIZE}"' in svg and INITIALS_SIZE == 56
    assert "<circle" in svg and ">AM</text>" in svg


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Omni", "O"),
        ("Ada the Code Mentor", "AM"),
        ("Marcus, Stoic Sage", "MS"),
        ("élan vital", "ÉV"),
        ("<script>", "S"),
        ("🤖 ---", "?"),
        ("", "?"),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


def test_a_name_cannot_break_out_of_the_svg() -> None:
    svg = svg_of(initials_avatar("&lt; <b>"))
    assert "<b>" not in svg and svg.count("<text") == 1
