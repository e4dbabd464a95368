"""Shared page: a read-only share link (`?share=<token>`), or your own links."""

from __future__ import annotations

import streamlit as st

from webapp.sharing import SHARE_PARAM, ShareNotAvailable, view
from webapp.ui.i18n import _
from webapp.ui.member import require_member


def render() -> None:
    member = require_member()  # share links are for logged-in members only
    view.follow_to_chat()
    view.show_flash()
    token = st.query_params.get(SHARE_PARAM)
    if token:
        try:
            snapshot = view.get_links().open(token)
        except ShareNotAvailable as err:
            st.title(_("Shared conversation"))
            st.warning(str(err), icon=":material/link_off:")
        else:
            view.render_snapshot(snapshot, token)
            return
    else:
        st.title(_("Shared"))
    view.render_owned(member)


render()
