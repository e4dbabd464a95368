"""The bottom of the sidebar and the phone's close.

The account in a few small lines under the History (`render_account_footer`,
which app.py draws after the page), and, on a phone, where the sidebar covers
the page, closing it once a conversation or a page is chosen
(`request_close_on_phone`, `close_on_phone`, `note_page`). Split from
`webapp.history.sidebar`, which re-exports these names.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from webapp.auth import gate as auth
from webapp.chat import page_state
from webapp.settings import Settings
from webapp.text import literal as md
from webapp.ui import page as ui
from webapp.ui import sidebar as ui_sidebar
from webapp.ui import styles
from webapp.ui.i18n import _
from webapp.ui.state import Keys

# Streamlit lays the page out for a phone below this width (its "md" breakpoint):
# there the sidebar is drawn over the page instead of beside it.
PHONE_MAX_WIDTH_PX = 768


def request_close_on_phone() -> None:
    """Ask the next run to close the sidebar if the page is a phone's (see `close_on_phone`)."""
    st.session_state[Keys.SIDEBAR_CLOSE] = st.session_state.get(Keys.SIDEBAR_CLOSE, 0) + 1


# ------------------------------------------------------------- the phone


def close_on_phone() -> None:
    """Close the sidebar in this run if a choice asked for it and the page is a
    phone's: narrower than `PHONE_MAX_WIDTH_PX`, where the sidebar covers the
    page (`webapp.ui.sidebar`). Wider screens keep it open."""
    round_ = st.session_state.pop(Keys.SIDEBAR_CLOSE, None)
    if round_:
        # A script takes a place among the elements: the sidebar's last, so that
        # no element after it changes place (and state) between runs.
        ui_sidebar.close_below(int(round_), phone_max_width_px=PHONE_MAX_WIDTH_PX)


def note_page(url_path: str) -> None:
    """A different page than last run: on a phone, close the sidebar it was chosen in;
    the chat page's state learns that its page is no longer on screen."""
    last = st.session_state.get(Keys.SIDEBAR_PAGE)
    if last not in (None, url_path):
        request_close_on_phone()
    if last != url_path:
        page_state.left_page(page_state.state())
    st.session_state[Keys.SIDEBAR_PAGE] = url_path


# ------------------------------------------------------------- the account, at the bottom

_FOOTER_KEY = "sidebar_account"


def render_account_footer(
    settings: Settings, member: Any | None, healthy: bool, *, logout: bool = True
) -> None:
    """The bottom of the sidebar, in a few small lines: the API's status (with
    Check again when it is down), the demo note, who is logged in, Log out
    (unless `logout` is False: the page has its own); then, when a choice asked
    for it, the phone's close (`close_on_phone`)."""
    # The chat page draws the sidebar after an answer has streamed (its first
    # words come first): meanwhile the last run's sidebar stays, usable, undimmed.
    styles.sidebar_not_dimmed()
    with st.sidebar.container(key=_FOOTER_KEY, gap="small"):
        badges = st.container(horizontal=True, gap="small")
        if healthy:
            badges.badge(_("API online"), icon=":material/check_circle:", color="green")
        else:
            badges.badge(_("API not answering"), icon=":material/error:", color="red")
        if settings.demo_mode:
            badges.badge(_("Demo mode"), icon=":material/science:", color="orange")
        if not healthy:
            st.button(
                _("Check again"),
                key="ui_health_retry",
                on_click=ui.retry_health,
                type="tertiary",
                help=_("Ask the API again now instead of waiting for the next check."),
            )
        if settings.demo_mode:
            st.caption(_(ui.DEMO_NOTE))
        if member is not None:
            st.caption(
                _("Logged in as **{name}** · {role}").format(
                    name=md.escape(member.name), role=_(member.role)
                )
            )
            if logout:
                auth.logout_button(st, key=auth.SIDEBAR_LOGOUT_KEY)
    close_on_phone()
