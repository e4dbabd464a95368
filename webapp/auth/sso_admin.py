"""The Team page's single sign-on section (admins): the password form's switch
and the email domains that may join by themselves.

Both are stored in the database (`SsoStore`), so every app process applies
them at its next run. Password login can be switched off only while single
sign-on is configured and the admin doing it has an identity linked (they
logged in with it at least once): nobody switches off the only way in they
know works. The terminal can always switch it back on
(`python -m webapp.team password-login on`). Every change goes to the
audit log.
"""

from __future__ import annotations

import logging
from typing import Final

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from webapp.auth.guard import member_action
from webapp.auth.sso_gate import sso_config
from webapp.auth.sso_store import DomainError, SsoStore, parse_domains
from webapp.backend import get_store
from webapp.team.events import record_change
from webapp.team.model import Member
from webapp.text.literal import escape
from webapp.ui import flash
from webapp.ui.i18n import N_, _
from webapp.ui.member import current_member

log = logging.getLogger(__name__)

FLASH_AREA: Final = "sso_admin"
PASSWORD_KEY: Final = "sso_admin_password_login"
DOMAINS_KEY: Final = "sso_admin_domains"
NEEDS_LINK: Final = N_(
    "Log in with single sign-on once before switching password login "
    "off, so you know it works for you. Nothing was changed."
)
NOT_CONFIGURED: Final = N_(
    "Single sign-on is not configured ([auth] in "
    ".streamlit/secrets.toml), so password login stays on. Nothing was "
    "changed."
)


def _store() -> SsoStore:
    return SsoStore(get_store().engine)


@member_action(FLASH_AREA, admin=True)
def _on_save() -> None:
    actor = current_member()
    store = _store()
    password_on = bool(st.session_state.get(PASSWORD_KEY, True))
    try:
        domains = parse_domains(str(st.session_state.get(DOMAINS_KEY) or ""))
        before = store.settings()
        if not password_on and before.password_login:
            if not sso_config().enabled:
                flash.flash(FLASH_AREA, _(NOT_CONFIGURED), "error")
                return
            if not store.identities_of(actor.username):
                flash.flash(FLASH_AREA, _(NEEDS_LINK), "error")
                return
        engine = store.engine
        if password_on != before.password_login:
            store.set_password_login(password_on, actor=actor.username)
            state = "on" if password_on else "off"
            record_change(actor.username, "password login", None, state, engine=engine)
        if domains != before.self_join_domains:
            store.set_self_join_domains(domains, actor=actor.username)
            listed = ", ".join(domains) or "none"
            record_change(actor.username, "self-join domains", None, listed, engine=engine)
    except DomainError as err:
        flash.flash(FLASH_AREA, escape(f"{err} Nothing was changed."), "error")
        return
    except SQLAlchemyError:
        log.warning("Could not save the single sign-on settings", exc_info=True)
        flash.flash(FLASH_AREA, _("The database is not answering; nothing was changed."), "error")
        return
    flash.flash(FLASH_AREA, _("Saved: every app process applies it now."), "success")


def render_sso_admin(actor: Member) -> None:
    """The section, for an admin (the page refuses anyone else before)."""
    if not actor.is_admin:
        return
    st.header(_("Single sign-on"))
    config = sso_config()
    try:
        current = _store().settings()
    except SQLAlchemyError:
        st.warning(
            _("The single sign-on settings cannot be read now: the database is not answering.")
        )
        return
    if config.enabled:
        names = ", ".join(escape(p.label) for p in config.providers)
        st.caption(_("Members can log in with: {names}.").format(names=names))
    elif config.problem:
        st.warning(escape(f"Single sign-on is off: {config.problem}"))
    else:
        st.caption(
            _("Not configured: add an [auth] section to .streamlit/secrets.toml (see the README).")
        )
    # The widgets show the stored settings whenever no edit is pending.
    st.session_state.setdefault(PASSWORD_KEY, current.password_login)
    st.session_state.setdefault(DOMAINS_KEY, ", ".join(current.self_join_domains))
    with st.form("sso_admin_form"):
        st.checkbox(
            _("Password login (the password form on the login page)"),
            key=PASSWORD_KEY,
            help=_(
                "Off: members log in with single sign-on only. The terminal can "
                "always switch it back on: python -m webapp.team password-login on"
            ),
        )
        st.text_input(
            _("Email domains that may join by themselves"),
            key=DOMAINS_KEY,
            placeholder=_("example.com, example.org"),
            help=_(
                "Someone whose verified email address is in one of these domains "
                "becomes a member (role member) at their first single sign-on. "
                "Anyone else the team does not know is refused."
            ),
        )
        st.form_submit_button(_("Save"), on_click=_on_save)
    flash.show(FLASH_AREA)
