"""Bot catalogue page: cards with search, model filter, and "Chat with this bot"."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError, Bot
from webapp import catalogue, ui
from webapp import markdown as md
from webapp.auth import require_member
from webapp.avatars import avatar_for
from webapp.backend import get_client
from webapp.errors import describe
from webapp.state import Keys

CARDS_PER_ROW = 3


def render_card(bot: Bot) -> None:
    with st.container(border=True):
        avatar, heading = st.columns([1, 4], vertical_alignment="center")
        avatar.image(avatar_for(bot.avatar_url, bot.name), width=56)
        heading.markdown(f"**{md.escape(bot.name)}**")
        # The slug on its own line: beside the model, its chip broke at a hyphen.
        heading.caption(f"Model: {md.escape(bot.model)}  \n`{bot.slug}`")
        st.write(bot.description or "_No description._")
        welcome = catalogue.welcome_text(bot)
        if welcome:
            st.caption("Welcome message")
            st.markdown("\n".join(f"> {line}" for line in welcome.splitlines()))
        if st.button(
            "Chat with this bot", key=f"bots_chat_{bot.uid}", type="primary", width="stretch"
        ):
            # The chat page reads these and opens a fresh conversation with this bot.
            st.session_state[Keys.CHAT_BOT_SLUG] = bot.slug
            st.session_state[Keys.CHAT_NEW_REQUESTED] = True
            st.switch_page("views/chat.py")


def render() -> None:
    require_member()  # no catalogue before login, even if this file runs without app.py
    st.title("Bots")
    client = get_client()
    try:
        bots = catalogue.load_bots(client)
    except AbltError as err:
        # Errors are not cached: the rerun the Retry click causes asks the API again.
        ui.error_box(describe(err), retry_key="bots_retry")
        return

    search, models, refresh = st.columns([4, 3, 1], vertical_alignment="bottom")
    query = search.text_input(
        "Search", key=Keys.BOTS_QUERY, placeholder="Name, slug, model, description…"
    )
    chosen = models.multiselect(
        "Model", catalogue.available_models(bots), key=Keys.BOTS_MODELS, placeholder="All models"
    )
    # A callback runs before the rerun, so the reloaded page already asks the API.
    refresh.container(horizontal_alignment="right").button(  # ends where the cards end
        "Refresh",
        key="bots_refresh",
        icon=":material/refresh:",
        help="Reload the bot list from the API",
        on_click=catalogue.refresh_bots,
        args=(client,),
    )

    shown = catalogue.filter_bots(bots, query, chosen)
    st.caption(catalogue.count_label(len(shown), len(bots)))
    if not shown:
        st.info("No bot matches this search. Clear the search or the model filter.")
    for first in range(0, len(shown), CARDS_PER_ROW):
        row = st.columns(CARDS_PER_ROW)
        for column, bot in zip(row, shown[first : first + CARDS_PER_ROW], strict=False):
            with column:
                render_card(bot)


render()
