"""The Account page's language choice, stored with the member (`members.language`).

The choice holds in every process and on every device: `webapp.auth.gate.sync_member`
re-reads the member on every run and app.py hands `Member.language` to
`webapp.ui.i18n.use_locale`. "The browser's language" stores NULL.
"""

from __future__ import annotations

import logging

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from webapp.auth.gate import load_team_for
from webapp.settings import get_settings
from webapp.team import TeamError
from webapp.team.model import Member
from webapp.ui import i18n
from webapp.ui.i18n import _
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

BROWSER: str = ""  # the selector's "follow the browser" option (stored as NULL)
SELECT_KEY = "account_language"


def store_language(member: Member, choice: str) -> str | None:
    """Store `choice` (a shipped locale, or `BROWSER`) as the member's language.
    Returns a problem in plain words, or None."""
    if choice != BROWSER and choice not in i18n.available():
        return _("That language is not offered.")
    try:
        load_team_for(get_settings()).set_language(member.username, choice or None)
    except (TeamError, SQLAlchemyError):
        log.warning("Could not store a member's language", exc_info=True)
        return _("The language could not be saved: the app's database is not answering.")
    # This run already chose a language: the next one reads the stored choice.
    st.session_state[Keys.LOCALE] = i18n.choose_locale(choice, i18n.browser_locale())
    return None


def _label(choice: str) -> str:
    if choice == BROWSER:
        return _("The browser's language")
    return i18n.LANGUAGE_NAMES.get(choice, choice)


def render_language_choice(member: Member) -> None:
    """The selector: the browser's language, or one of the shipped languages."""
    options = [BROWSER, *i18n.available()]
    labels = {choice: _label(choice) for choice in options}  # named in this run's language
    current = member.language if member.language in options else BROWSER
    with st.container(border=True):
        st.header(_("Language"))
        choice = st.selectbox(
            _("Language of the app"),
            options,
            index=options.index(current or BROWSER),
            format_func=labels.__getitem__,
            key=SELECT_KEY,
            help=_("Kept with your account: it applies on every device you log in on."),
        )
        if choice != current:
            problem = store_language(member, choice)
            if problem:
                st.error(problem)
            else:
                st.rerun()
