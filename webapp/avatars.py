"""Bot avatars, fetched by the server and handed to the browser inline.

A bot's `avatar_url` may point somewhere the browser cannot reach: in demo mode
it is the emulator on the server's loopback, and behind a strict proxy it may be
a host the team's browsers can't see. So the app fetches each avatar once on the
server and gives Streamlit a `data:` URL. The request carries no credentials:
avatars may live on third-party hosts that must never see the bearer token.

A bot without an avatar (or whose avatar can't be had) gets a generated one:
a round SVG with its initials, the same size as the others (an emoji such as
🤖 shows as a small black glyph where the browser has no colour-emoji font).
"""

from __future__ import annotations

import base64
import html
import logging
import re

import httpx
import streamlit as st

AVATAR_CACHE_SECONDS = 3600
AVATAR_FETCH_TIMEOUT_SECONDS = 5.0
MAX_AVATAR_BYTES = 512 * 1024  # an avatar larger than this is not an avatar
INITIALS_SIZE = 56  # px, as the catalogue shows avatars
INITIALS_BACKGROUND = "#64748B"  # a neutral slate: no bot's colour, fine on white and grey
INITIALS_COLOR = "#FFFFFF"
_WORD = re.compile(r"[^\W_]+")

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


def initials(name: str) -> str:
    """One or two capital letters for a name: "Ada the Code Mentor" -> "AM"."""
    words = _WORD.findall(name)
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def initials_avatar(name: str) -> str:
    """A round avatar with the name's initials, as an SVG `data:` URL."""
    size, half = INITIALS_SIZE, INITIALS_SIZE // 2
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}">'
        f'<circle cx="{half}" cy="{half}" r="{half}" fill="{INITIALS_BACKGROUND}"/>'
        f'<text x="50%" y="50%" dy="0.35em" text-anchor="middle" '
        f'font-family="Source Sans Pro, Helvetica, Arial, sans-serif" font-size="22" '
        f'font-weight="600" fill="{INITIALS_COLOR}">{html.escape(initials(name))}</text>'
        "</svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def avatar_for(avatar_url: str | None, name: str) -> str:
    """A `data:` URL for `st.image` / `st.chat_message(avatar=...)`: the bot's
    image, else a round one with its initials."""
    if avatar_url and avatar_url.startswith(("http://", "https://")):
        fetched = _cached_avatar(avatar_url)
        if fetched:
            return fetched
    return initials_avatar(name)
