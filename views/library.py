"""Prompts page: the team's prompt library (search, add, share, pin, start a chat)."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError
from webapp.backend import get_client
from webapp.bots import catalogue
from webapp.library import view
from webapp.ui import window
from webapp.ui.i18n import _
from webapp.ui.member import require_member
from webapp.ui.state import Keys


def render() -> None:
    member = require_member()
    view.follow_to_chat()
    st.title(_("Prompt library"))
    st.caption(
        _(
            "Saved system instructions and starter prompts. Yours are private "
            "until you share them; the team's shared entries are here for "
            "everyone, pinned ones first."
        )
    )
    try:
        bots = catalogue.load_bots(get_client())
    except AbltError:
        bots = []  # the library still opens; bot names show as their slugs
    view.show_flash()
    view.render_new_form(bots)
    query = st.text_input(
        _("Search the library"),
        key=Keys.LIBRARY_QUERY,
        placeholder=_("Name, instruction or starter prompt"),
    )
    entries = view.get_library().visible(member, query)
    if not entries:
        st.info(_("No entries match.") if query.strip() else _("The library is empty so far."))
    by_slug = {b.slug: b for b in bots}
    # A window of cards, "Show more" adds as many: a library of 2,000 entries
    # never means 2,000 cards per run. Another search starts at one window.
    step = view.ENTRIES_SHOWN
    shown, hidden = window.first(entries, window.size(view.ENTRIES_WINDOW, query, step))
    for entry in shown:
        view.render_entry(entry, member, by_slug)
    window.more_button(view.ENTRIES_WINDOW, query, step, hidden)


render()
