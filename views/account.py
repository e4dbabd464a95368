"""Account page: who you are, change your password, your data (download, erase), log out."""

from __future__ import annotations

import streamlit as st

from webapp.auth import gate as auth
from webapp.auth.language import render_language_choice
from webapp.auth.passwords import MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH, WHITESPACE_NOTE
from webapp.lifecycle.member_data import Who
from webapp.lifecycle.view import render_my_data
from webapp.settings import get_settings
from webapp.text import literal as md
from webapp.ui.i18n import _
from webapp.ui.member import require_member


def render() -> None:
    member = require_member()
    st.title(_("Account"))

    with st.container(border=True):
        st.header(md.escape(member.name))
        left, middle, right = st.columns(3)
        left.markdown(
            _("**Username**  \n{username}").format(username=md.code_span(member.username))
        )
        # "admin" and "member" are in the catalog (marked in webapp.team.view).
        middle.markdown(_("**Role**  \n{role}").format(role=_(member.role)))
        right.markdown(_("**User id**  \n{user_id}").format(user_id=member.user_id))
        if member.email:
            st.caption(md.escape(member.email))
        st.caption(_("Your user id is sent with every chat, so usage statistics split per member."))

    render_language_choice(member)
    if auth.is_fixed_demo_account(get_settings(), member.username):
        st.header(_("Change password"))
        st.info(_(auth.DEMO_PASSWORD_FIXED), icon=":material/lock:")
    else:
        render_password_form(member)
    render_my_data(Who(member.username, member.user_id))
    render_team(member)


def render_password_form(member: auth.Member) -> None:
    with st.form("account_password", clear_on_submit=True):
        st.header(_("Change password"))
        current = st.text_input(_("Current password"), type="password")
        new = st.text_input(
            _("New password"),
            type="password",
            help=(
                _(
                    "At least {min_password_length} characters and at most "
                    "{max_password_bytes} bytes (letters outside A-Z take 2 to 4 bytes "
                    "each)."
                ).format(
                    min_password_length=MIN_PASSWORD_LENGTH, max_password_bytes=MAX_PASSWORD_BYTES
                )
            ),
        )
        repeat = st.text_input(_("Repeat new password"), type="password")
        st.caption(_(WHITESPACE_NOTE))
        if st.form_submit_button(_("Change password")):
            problem = auth.change_password(member, current, new, repeat)
            if problem:
                st.error(problem)
            else:
                st.success(_("Password changed. Use the new one next time you log in."))


def render_team(member: auth.Member) -> None:
    if member.is_admin:
        st.page_link("views/team.py", label=_("Manage the team"), icon=":material/group:")

    auth.logout_button(st, key="account_logout")  # the sidebar has the same one


render()
