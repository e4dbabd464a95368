"""Prompts page: the team's prompt library (search, add, share, pin, start a chat)."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError
from webapp.backend import get_client
from webapp.bots import catalogue
from webapp.library import view
from webapp.ui.member import require_member
from webapp.ui.state import Keys


def render() -> None:
    member = require_member()
    view.follow_to_chat()
    st.title("Prompt library")
    st.caption(
        "Saved system instructions and starter prompts. Yours are private until you share "
        "them; the team's shared entries are here for everyone, pinned ones first."
    )
    try:
        bots = catalogue.load_bots(get_client())
    except AbltError:
        bots = []  # the library still opens; bot names show as their slugs
    view.show_flash()
    view.render_new_form(bots)
    query = st.text_input(
        "Search the library",
        key=Keys.LIBRARY_QUERY,
        placeholder="Name, instruction or starter prompt",
    )
    entries = view.get_library().visible(member, query)
    if not entries:
        st.info("No entries match." if query.strip() else "The library is empty so far.")
    by_slug = {b.slug: b for b in bots}
    for entry in entries:
        view.render_entry(entry, member, by_slug)


render()
