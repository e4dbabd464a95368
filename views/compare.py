"""Compare page: one prompt to 2-4 bots, their answers side by side and live."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError
from webapp.backend import get_client
from webapp.bots import catalogue
from webapp.budgets import view as budgets_view
from webapp.compare import view
from webapp.conversations.store import ConversationNotFound
from webapp.errors import describe
from webapp.groups import view as groups_view
from webapp.text import literal as md
from webapp.ui import page as ui
from webapp.ui.i18n import _
from webapp.ui.member import require_member
from webapp.ui.state import Keys


def render() -> None:
    member = require_member()
    view.follow_to_chat()
    # The URL names the open comparison, so a reload or a bookmark reopens it.
    page = view.session()
    requested = st.query_params.get(view.OPEN_PARAM)
    if requested and page.open_id is None:
        page.open_id = requested
    view.render_recent(member)
    st.title(_("Compare bots"))
    view.show_notice()
    try:
        bots = catalogue.load_bots(get_client())
    except AbltError as err:
        bots = []
        ui.error_box(describe(err), retry_key="compare_bots_retry")

    # Only the bots the member's groups may use are offered (the answer service decides).
    usable = groups_view.usable(groups_view.current_access(member), bots)
    comparison = None
    if page.open_id:
        try:
            comparison = view.get_comparisons().get(member, page.open_id)
        except ConversationNotFound:
            page.open_id = None
            st.warning(_("That comparison does not exist, or is not yours."))
    if comparison is None:
        st.query_params.pop(view.OPEN_PARAM, None)
        view.render_setup(usable)
        if len(usable) < len(bots):
            st.caption(_("Only the bots your groups may use are offered."))
    else:
        st.query_params[view.OPEN_PARAM] = comparison.id
        title, menu = st.columns([5, 1], vertical_alignment="center")
        title.header(md.escape(comparison.conversation.title))
        with menu.container(horizontal_alignment="right"):
            view.render_exports(comparison)
    view.restore_prompt()
    budgets_view.render_budget_status(member)
    st.chat_input(
        _("Ask every bot…") if comparison else _("One prompt for all the picked bots…"),
        key=Keys.COMPARE_PROMPT,
        on_submit=view.submit_prompt,
        args=(usable,),
        max_chars=100_000,
    )
    if comparison is not None:
        view.render_comparison(comparison, {b.slug: b for b in bots})


render()
