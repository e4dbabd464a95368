"""Arena page: a blind battle of two bots, the vote, and the team's leaderboard."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError
from webapp.arena import board_view, view
from webapp.backend import get_client
from webapp.bots import catalogue
from webapp.budgets import view as budgets_view
from webapp.conversations.store import ConversationNotFound
from webapp.errors import describe
from webapp.ui import flash
from webapp.ui import page as ui
from webapp.ui.i18n import _
from webapp.ui.member import require_member


def render() -> None:
    member = require_member()
    view.follow_to_chat()
    page = view.session()
    # The URL names the open battle, so a reload reopens it.
    requested = st.query_params.get(view.OPEN_PARAM)
    if requested and page.open_id is None:
        page.open_id = requested
    st.title(_("Arena"))
    flash.show(view.FLASH_AREA)
    try:
        bots = catalogue.load_bots(get_client())
    except AbltError as err:
        bots = []
        ui.error_box(describe(err), retry_key="arena_bots_retry")
    battle_tab, board_tab = st.tabs([_("Battle"), _("Leaderboard")])
    # The leaderboard first: the battle tab may follow live answers to their end.
    with board_tab:
        board_view.render_leaderboard(member)
    with battle_tab:
        battle = None
        if page.open_id:
            try:
                battle = view.get_arena().get(member, page.open_id)
            except ConversationNotFound:
                page.open_id = None
                st.warning(_("That battle does not exist, or is not yours."))
        if battle is None:
            st.query_params.pop(view.OPEN_PARAM, None)
            budgets_view.render_budget_status(member)
            view.render_setup(bots)
        else:
            st.query_params[view.OPEN_PARAM] = battle.id
            view.render_battle(battle, {b.slug: b for b in bots})


render()
