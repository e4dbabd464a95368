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
from webapp.ui.member import require_member


def render() -> None:
    member = require_member()
    st.title("Account")

    with st.container(border=True):
        st.subheader(md.escape(member.name))
        left, middle, right = st.columns(3)
        left.markdown(f"**Username**  \n{md.code_span(member.username)}")
        middle.markdown(f"**Role**  \n{member.role}")
        right.markdown(f"**User id**  \n{member.user_id}")
        if member.email:
            st.caption(md.escape(member.email))
        st.caption("Your user id is sent with every chat, so usage statistics split per member.")

    render_language_choice(member)
    if auth.is_fixed_demo_account(get_settings(), member.username):
        st.subheader("Change password")
        st.info(auth.DEMO_PASSWORD_FIXED, icon=":material/lock:")
    else:
        render_password_form(member)
    render_my_data(Who(member.username, member.user_id))
    render_team(member)


def render_password_form(member: auth.Member) -> None:
    with st.form("account_password", clear_on_submit=True):
        st.subheader("Change password")
        current = st.text_input("Current password", type="password")
        new = st.text_input(
            "New password",
            type="password",
            help=(
                f"At least {MIN_PASSWORD_LENGTH} characters and at most {MAX_PASSWORD_BYTES} "
                "bytes (letters outside A-Z take 2 to 4 bytes each)."
            ),
        )
        repeat = st.text_input("Repeat new password", type="password")
        st.caption(WHITESPACE_NOTE)
        if st.form_submit_button("Change password"):
            problem = auth.change_password(member, current, new, repeat)
            if problem:
                st.error(problem)
            else:
                st.success("Password changed. Use the new one next time you log in.")


def render_team(member: auth.Member) -> None:
    if member.is_admin:
        st.page_link("views/team.py", label="Manage the team", icon=":material/group:")

    auth.logout_button(st, key="account_logout")  # the sidebar has the same one


render()
