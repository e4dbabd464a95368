"""Bot catalogue page: cards with search, model filter, and "Chat with this bot"."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltClient, AbltError, Bot
from webapp import limits
from webapp.auth.guard import view_action
from webapp.backend import get_client
from webapp.bots import catalogue
from webapp.bots import display as bot_display
from webapp.bots.avatars import avatar_alt, avatar_for, prefetch_avatars
from webapp.errors import describe
from webapp.groups import BotAccess
from webapp.groups import view as groups_view
from webapp.ui import page as ui
from webapp.ui.i18n import _
from webapp.ui.member import require_member
from webapp.ui.state import Keys

CARDS_PER_ROW = 3


def render_card(bot: Bot, api_base_url: str, access: BotAccess) -> None:
    # Every field is the API's data: cut and escaped, never rendered as Markdown.
    # Cards of a row are as tall as the tallest, their buttons on one line: the
    # card stretches to its column, a stretching space pushes the button down.
    with st.container(border=True, height="stretch", key=f"bots_card_{bot.uid}"):
        avatar, heading = st.columns([1, 4], vertical_alignment="center")
        avatar.image(
            avatar_for(bot.avatar_url, bot.name, api_base_url),
            width=56,
            alt=avatar_alt(bot.name),
        )
        heading.markdown(f"**{bot_display.name_md(bot.name)}**")
        # The slug on its own line: beside the model, it broke at a hyphen.
        heading.caption(
            _("Model: {model}  \n{slug}").format(
                model=bot_display.model_md(bot.model), slug=bot_display.slug_md(bot.slug)
            )
        )
        st.markdown(bot_display.description_md(bot.description))
        welcome = catalogue.welcome_text(bot)
        if welcome:
            st.caption(_("Welcome message"))
            st.markdown(bot_display.welcome_quote_md(welcome))
        st.space("stretch")
        refused = groups_view.why_not(access, bot.slug, bot_display.plain_name(bot.name))
        if refused:  # greyed out, with why (the answer service refuses it anyway)
            st.caption(_(":material/lock: {refused}").format(refused=refused))
        if st.button(
            _("Chat with this bot"),
            key=f"bots_chat_{bot.uid}",
            type="primary",
            width="stretch",
            disabled=refused is not None,
        ):
            # The chat page reads these and opens a fresh conversation with this bot.
            st.session_state[Keys.CHAT_BOT_SLUG] = bot.slug
            st.session_state[Keys.CHAT_NEW_REQUESTED] = True
            st.switch_page("views/chat.py")


def render() -> None:
    member = require_member()  # no catalogue before login, even if this file runs without app.py
    st.title(_("Bots"))
    client = get_client()
    try:
        bots = catalogue.load_bots(client)
    except AbltError as err:
        # Errors are not cached: the rerun the Retry click causes asks the API again.
        ui.error_box(describe(err), retry_key="bots_retry")
        return

    search, models, refresh = st.columns([4, 3, 1], vertical_alignment="bottom")
    query = search.text_input(
        _("Search"),
        key=Keys.BOTS_QUERY,
        placeholder=_("Name, slug, model, description…"),
        on_change=first_page,
    )
    chosen = models.multiselect(
        _("Model"),
        catalogue.available_models(bots),
        key=Keys.BOTS_MODELS,
        placeholder=_("All models"),
        format_func=bot_display.plain_model,
        on_change=first_page,
    )
    # A callback runs before the rerun, so the reloaded page already asks the API.
    refresh.container(horizontal_alignment="right").button(  # ends where the cards end
        _("Refresh"),
        key="bots_refresh",
        icon=":material/refresh:",
        help=_("Reload the bot list from the API"),
        on_click=refresh_bots,
        args=(client,),
    )

    matching = catalogue.filter_bots(bots, query, chosen)
    st.caption(catalogue.count_label(len(matching), len(bots)))
    if not matching:
        st.info(_("No bot matches this search. Clear the search or the model filter."))
    # A page of cards at a time: 2,000 bots never mean 2,000 cards (or avatars) per run.
    state = catalogue.session()
    shown, state.page = catalogue.page_of(matching, state.page)
    api_base_url = catalogue.client_base_url(client)
    access = groups_view.current_access(member)
    # Fetched side by side, not one by one; only the API's own origin may be private.
    prefetch_avatars((bot.avatar_url for bot in shown), api_base_url)
    for first in range(0, len(shown), CARDS_PER_ROW):
        row = st.columns(CARDS_PER_ROW)
        for column, bot in zip(row, shown[first : first + CARDS_PER_ROW], strict=False):
            with column:
                render_card(bot, api_base_url, access)
    render_pager(state.page, catalogue.page_count(len(matching)))


@view_action
def refresh_bots(client: AbltClient) -> None:
    """Refresh: forget the cached bot list, so this run asks the API again."""
    catalogue.refresh_bots(client)


@view_action
def first_page() -> None:
    catalogue.session().page = 1


@view_action
def turn_page(step: int) -> None:
    catalogue.session().page += step


def render_pager(page: int, pages: int) -> None:
    if pages <= 1:
        return
    row = st.container(horizontal=True, vertical_alignment="center")
    row.button(
        _("Previous"),
        key="bots_page_previous",
        icon=":material/chevron_left:",
        disabled=page <= 1,
        on_click=turn_page,
        args=(-1,),
    )
    row.caption(
        _("Page {page} of {pages} · {bot_cards_per_page} bots a page").format(
            page=page, pages=pages, bot_cards_per_page=limits.BOT_CARDS_PER_PAGE
        )
    )
    row.button(
        _("Next"),
        key="bots_page_next",
        icon=":material/chevron_right:",
        disabled=page >= pages,
        on_click=turn_page,
        args=(1,),
    )


render()
