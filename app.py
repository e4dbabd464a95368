"""aBLT Chat: the entry point (`streamlit run app.py`).

Page config, then the login gate, then `st.navigation` over the pages in
views/. Until someone is logged in, the only page that exists is the login
page (or a page explaining what to configure), so no chat, bot or statistics
content can be reached, whatever the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st

from webapp import backend
from webapp.auth import gate as auth
from webapp.auth import guard
from webapp.history import sidebar
from webapp.settings import MIN_COOKIE_KEY_LENGTH, Settings, SettingsError, get_settings
from webapp.sharing.links import SHARE_PARAM
from webapp.team import MemberStore, TeamError
from webapp.ui import flash, i18n
from webapp.ui import page as ui
from webapp.ui.i18n import N_, _
from webapp.ui.state import Keys

# An emoji icon: a Material one is fetched from a font server, which the demo must not need.
st.set_page_config(page_title="aBLT Chat", page_icon="💬", layout="wide")
# The browser's language until we know who this is (the setup and login pages follow it).
i18n.use_locale(None)


# The app's pages: (script, title, icon). Their URL paths are the file names.
# The folder is views/, not pages/: Streamlit treats a pages/ folder next to the
# entry point as an old-style multipage app until st.navigation has run once in
# the process, so on a fresh server the first run would execute a page file
# without this login gate, and the switch to st.navigation on the next run
# would remount the page and drop the first Log in click.
LOGIN_FOR_SHARE = N_(
    "This shared conversation is not available without logging in. Log "
    "in as a member of the team to read it."
)
APP_PAGES = (
    ("views/chat.py", N_("Chat"), ":material/chat:"),
    ("views/bots.py", N_("Bots"), ":material/smart_toy:"),
    ("views/compare.py", N_("Compare"), ":material/view_column:"),
    ("views/arena.py", N_("Arena"), ":material/swords:"),
    ("views/evaluations.py", N_("Evaluations"), ":material/fact_check:"),
    ("views/library.py", N_("Prompts"), ":material/menu_book:"),
    ("views/shared.py", N_("Shared"), ":material/share:"),
    ("views/statistics.py", N_("Statistics"), ":material/bar_chart:"),
    ("views/account.py", N_("Account"), ":material/person:"),
)
# Pages only admins have: not listed for a member, and their URLs land on the
# default page (the page itself refuses a non-admin too).
ADMIN_PAGES = (("views/team.py", N_("Team"), ":material/group:"),)


def show_only(render: Callable[[], None], title: str, url_path: str) -> NoReturn:
    """Run one page in place of the whole app and end this run.

    The app's pages are not registered, so none of them can run. Their URLs
    (/chat, /bots...) show this page too: a bookmark opens the login, and after
    login the rerun lands on the page the URL named (same URL, same page hash).
    """
    pages = [st.Page(render, title=_(title), url_path=url_path, default=True)]
    pages += [
        st.Page(render, title=_(title), url_path=Path(script).stem)
        for script, _title, _icon in (*APP_PAGES, *ADMIN_PAGES)
        if Path(script).stem != url_path
    ]
    st.navigation(pages, position="hidden").run()
    st.stop()


def session_pages(admin: bool) -> list[Any]:
    """The pages this member may open, made once per session (and again if the
    member's role changes): an `st.Page` resolves its file on disk, several
    file-system calls per page in every run otherwise, and the first words of
    an answer wait behind the run that shows them (issue 8)."""
    made = st.session_state.get(Keys.APP_PAGES)
    # Made again in another language too: the titles are the member's.
    made_for = (admin, i18n.current_locale())
    if made is None or made[0] != made_for:
        pages = [
            st.Page(script, title=_(title), icon=icon, default=index == 0)
            for index, (script, title, icon) in enumerate(
                (*APP_PAGES, *ADMIN_PAGES) if admin else APP_PAGES
            )
        ]
        made = (made_for, pages)
        st.session_state[Keys.APP_PAGES] = made
    return list(made[1])


def setup_needed(message: str) -> NoReturn:
    def render() -> None:
        st.title(_("aBLT Chat needs configuring"))
        st.error(message, icon=":material/settings:")
        st.markdown(
            _(
                "Set it as an environment variable, or in "
                "`.streamlit/secrets.toml` (see "
                "`.streamlit/secrets.toml.example`), then restart the app.\n\nA good "
                "cookie key is a random string of at least {min_cookie_key_length} "
                'characters, for example the output of\n\n`python -c "import '
                'secrets; print(secrets.token_urlsafe(32))"`\n\nIt signs the login '
                "cookie: anyone who knows it could forge a login, so it is "
                "required whenever a real aBLT token is configured. Without a "
                "token the app runs in demo mode and needs none of this."
            ).format(min_cookie_key_length=MIN_COOKIE_KEY_LENGTH)
        )

    show_only(render, N_("Setup needed"), "setup")


def team_problem(message: str) -> NoReturn:
    def render() -> None:
        st.title(_("aBLT Chat has no team yet"))
        st.error(message, icon=":material/group_off:")
        st.markdown(
            _(
                "Add the first admin from a terminal on the server (then manage "
                "the team on the Team page):\n\n```\npython -m webapp.team add USER "
                "--name 'Full Name' --email you@example.com --role admin\npython -m "
                "webapp.team list\n```\nthen reload this page."
            )
        )

    show_only(render, N_("Team needed"), "team-needed")


def login_page(settings: Settings, authenticator: Any, team: MemberStore) -> NoReturn:
    def render() -> None:
        # A form the width of a wide page is hard to read: keep it in the middle.
        _left, middle, _right = st.columns([1, 2, 1])
        with middle:
            st.title(_("aBLT Chat"))
            st.caption(_("Chat with the team's aBLT bots. Log in to continue."))
            if st.query_params.get(SHARE_PARAM):
                st.info(_(LOGIN_FOR_SHARE), icon=":material/lock:")
            demo = auth.demo_credentials(settings, team)
            if demo:
                lines = "\n".join(f"- `{user}` / `{password}`" for user, password in demo)
                st.info(
                    _(
                        "**Demo mode.** Answers come from the built-in emulator. Log in "
                        "with one of the demo accounts:\n\n{lines}"
                    ).format(lines=lines),
                    icon=":material/science:",
                )
            auth.render_login(authenticator, settings, team)

    show_only(render, N_("Log in"), "login")


try:
    settings = get_settings()
except SettingsError as err:
    setup_needed(str(err))

problem = auth.configuration_problem(settings)
if problem:
    setup_needed(problem)

try:
    team = auth.load_team_for(settings)
except TeamError as err:
    team_problem(str(err))

authenticator = auth.make_authenticator(settings, team)
ui.hide_cookie_component()
auth.restore_from_cookie(authenticator, settings, team)
member = auth.sync_member(authenticator, team)
# The member's own choice (Account page) wins over the browser's; Arabic mirrors the page.
i18n.use_locale(member.language if member else None)
i18n.draw_direction()

healthy = backend.api_is_healthy()
if member is None:
    auth.delete_cookie_after_logout(authenticator)
    auth.draw_cookie_ticket()
    sidebar.render_account_footer(settings, None, healthy)  # the demo note, the API
    login_page(settings, authenticator, team)

auth.draw_cookie_ticket()  # the HttpOnly login cookie, until the browser has it
if member.must_change_password:
    # A one-time password from an admin: nothing else until the member has chosen one.
    from webapp.team import view as team_view

    # The page has its own Log out, in sight on a phone (where the sidebar is closed).
    sidebar.render_account_footer(settings, member, healthy, logout=False)
    show_only(lambda: team_view.forced_password_change(member), N_("Choose a password"), "password")
page = st.navigation(session_pages(member.is_admin), position="top")
backend.start_lifecycle(settings)  # this process's retention schedule, started once
sidebar.note_page(page.url_path)
if not healthy:
    ui.api_down_notice()
# An admin's action refused since the page was drawn (their role changed): said here,
# as the page it was on may be gone (`webapp.auth.guard`).
flash.show(guard.ROLE_AREA)
try:
    page.run()
finally:
    # The page's own sidebar (the chat's New chat and History) comes first; the
    # API's status, the demo note and Log out close it, on every page. Drawn even
    # when the page ends early (st.stop, st.rerun), so it never blinks away.
    sidebar.render_account_footer(settings, member, healthy)
