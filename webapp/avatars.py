"""Bot avatars, fetched by the server and handed to the browser inline.

A bot's `avatar_url` may point somewhere the browser cannot reach: in demo mode
it is the emulator on the server's loopback, and behind a strict proxy it may be
a host the team's browsers can't see. So the app fetches each avatar once on the
server and gives Streamlit a `data:` URL. The request carries no credentials:
avatars may live on third-party hosts that must never see the bearer token.
"""

from __future__ import annotations

import base64
import logging

import httpx
import streamlit as st

AVATAR_CACHE_SECONDS = 3600
AVATAR_FETCH_TIMEOUT_SECONDS = 5.0
MAX_AVATAR_BYTES = 512 * 1024  # an avatar larger than this is not an avatar
FALLBACK_AVATAR = ":material/smart_toy:"

log = logging.getLogger(__name__)


def fetch_avatar_data_url(url: str) -> str | None:
    """The image at `url` as a `data:` URL, or None when it can't be had as an image."""
    try:
        with httpx.Client(timeout=AVATAR_FETCH_TIMEOUT_SECONDS, follow_redirects=True) as http:
            response = http.get(url)
    except httpx.HTTPError as err:
        log.info("Avatar not fetched (%s): %s", type(err).__name__, url)
        return None
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if (
        response.status_code != 200
        or not content_type.startswith("image/")
        or len(response.content) > MAX_AVATAR_BYTES
    ):
        log.info("Avatar refused (status %s, %s): %s", response.status_code, content_type, url)
        return None
    encoded = base64.b64encode(response.content).decode("ascii")
    return f"data:{content_type};base64,{encoded}"


@st.cache_data(ttl=AVATAR_CACHE_SECONDS, show_spinner=False)
def _cached_avatar(url: str) -> str | None:
    return fetch_avatar_data_url(url)


def avatar_for(avatar_url: str | None) -> str:
    """What to give `st.image` / `st.chat_message(avatar=...)` for a bot: its image, or an icon."""
    if not avatar_url or not avatar_url.startswith(("http://", "https://")):
        return FALLBACK_AVATAR
    return _cached_avatar(avatar_url) or FALLBACK_AVATAR


def has_image(avatar: str) -> bool:
    """True when `avatar_for` found an image (False: the fallback icon)."""
    return avatar.startswith("data:")
