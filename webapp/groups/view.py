"""What the pages show of bot access: which bots the member may choose, and
why a bot is greyed out.

Every page where a bot is chosen (the Bots catalogue, the chat's picker,
Compare, the prompt library, a share link's "Copy into my chats") asks
`current_access()` and offers only the bots it allows, or shows the others
disabled with `why_not`. This is what the member sees; the answer service's
`BotAccessRule` decides, whatever a page shows.

`current_access` is kept `ACCESS_TTL` seconds per member and process (one
read serves a page's runs); a change on the Team page forgets it at once on
this process (`forget_access`), other processes follow within the TTL.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final, Protocol, TypeVar

import streamlit as st

from webapp.backend import get_store
from webapp.groups.model import ALL_BOTS, BotAccess
from webapp.groups.store import access_for
from webapp.settings import get_settings
from webapp.text import literal as md
from webapp.ui.i18n import _

log = logging.getLogger(__name__)

ACCESS_TTL: Final = 5.0  # seconds


class _Slugged(Protocol):
    @property
    def slug(self) -> str: ...


B = TypeVar("B", bound=_Slugged)


@st.cache_data(ttl=ACCESS_TTL, show_spinner=False)
def _access(db_url: str, username: str) -> BotAccess:
    # Keyed by the database and the member: members never see each other's.
    return access_for(get_store().engine, username)


def current_access(member: object) -> BotAccess:
    """Which bots `member` (with a `username`) may use; every bot when the
    database cannot be read (the answer service still refuses what it must)."""
    username = str(getattr(member, "username", "") or "")
    try:
        return _access(get_settings().db_url or "", username)
    except Exception:
        log.warning("Could not read the member's groups", exc_info=True)
        return ALL_BOTS


def forget_access() -> None:
    """Forget the kept access of every member on this process (after a change)."""
    _access.clear()


def usable(access: BotAccess, bots: Sequence[B]) -> list[B]:
    """The bots of `bots` the member may use, in their order."""
    return [bot for bot in bots if access.allows(bot.slug)]


def why_not(access: BotAccess, slug: str, name: str) -> str | None:
    """None when the member may use the bot, else why not (Markdown-safe:
    the bot's name escaped)."""
    if access.allows(slug):
        return None
    return access.why_not(md.escape(name or slug))


def render_refused_bot_note(access: BotAccess, slug: str, name: str) -> None:
    """Under a conversation's header: its bot may no longer be used by this
    member (it stays readable and exportable; sending says why it is refused)."""
    reason = why_not(access, slug, name)
    if reason is not None:
        st.warning(
            _(
                "{reason} This conversation stays readable and exportable; sending "
                "in it is refused."
            ).format(reason=reason),
            icon=":material/lock:",
        )
