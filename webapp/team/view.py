"""The Streamlit side of the team: the admin's Team page and the forced password change.

Thin: every change is a function of `webapp.team.actions` (tested without a
browser), called from a widget callback, whose outcome is flashed
(`webapp.ui.flash`, area "team") and shown once. A one-time password is kept
in `TeamSession.secret` for exactly one run, then dropped: it is shown once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from webapp import backend
from webapp.auth import gate as auth
from webapp.auth import throttle as logins
from webapp.auth.guard import member_action, view_action
from webapp.auth.passwords import MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH, WHITESPACE_NOTE
from webapp.auth.throttle_store import LoginLog
from webapp.lifecycle import judgements
from webapp.lifecycle import view as lifecycle_view
from webapp.settings import get_settings
from webapp.team import actions
from webapp.team.members import MemberStore
from webapp.team.model import DEMO_MEMBERS, ROLES, Member, TeamError
from webapp.text import csv_safe
from webapp.text import literal as md
from webapp.ui import flash, window
from webapp.ui.i18n import N_, _, column_labels, format_number, ngettext
from webapp.ui.member import current_member
from webapp.ui.session import page_state
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

LOCKOUTS_SHOWN = 20  # lock-out rows at first, and added by each "Show more"
LOCKOUTS_WINDOW = "team_lockouts"  # that list's name for `webapp.ui.window`
ADMINS_ONLY = N_("The Team page is for admins. Ask an admin if you need a change to the team.")
DB_DOWN = N_("The change was not made: the app's database is not answering. Try again in a moment.")
FLASH_AREA = "team"  # the Team page's notices (`webapp.ui.flash`)
# The members table's headers and its words (`actions.member_rows` keeps English).
MEMBER_LABELS = {
    "name": N_("Name"),
    "username": N_("Username"),
    "email": N_("Email"),
    "role": N_("Role"),
    "status": N_("Status"),
    "last login": N_("Last login"),
    "words this month": N_("Words this month"),
}
MEMBER_WORDS = {
    "admin": N_("admin"),
    "member": N_("member"),
    "active": N_("active"),
    "disabled": N_("disabled"),
    "must change password": N_("must change password"),
    "never": N_("never"),
}
# Removing a member: what happens to their data (keeping it, the default, loses nothing).
REMOVE_DATA_CHOICES = (
    N_("Keep their data (download it first under Their data)"),
    N_("Erase their data"),
)
PASSWORD_AREA = "password"  # the forced password change's notices


@dataclass
class TeamSession:
    """What the Team page keeps between runs besides its widgets."""

    secret: tuple[str, str] | None = None  # (username, one-time password): shown once
    remove_pending: str | None = None  # the username waiting for the removal confirmation


def session() -> TeamSession:
    """This session's Team page state."""
    return page_state(Keys.TEAM, TeamSession)


def _team() -> MemberStore:
    return auth.load_team_for(get_settings())


def _protected() -> list[str]:
    """The shared demo accounts while in demo mode (their password is on the login page)."""
    settings = get_settings()
    return [name for name, *_ in DEMO_MEMBERS] if settings.demo_mode else []


def _do(action: str, change: Any) -> None:
    """Run one change (a no-argument callable returning a success sentence) and
    keep its outcome for the next draw."""
    try:
        flash.flash(FLASH_AREA, change(), "success")
    except TeamError as err:
        # Plain words that may name a member: drawn as text.
        flash.flash(FLASH_AREA, md.escape(str(err)), "error")
    except SQLAlchemyError:
        log.warning("Team change %s failed", action, exc_info=True)
        flash.flash(FLASH_AREA, _(DB_DOWN), "error")


# Every change below is a `member_action(admin=True)`: the admin is re-read from
# the database when the button is pressed (not the one the page was drawn for).


@member_action(FLASH_AREA, admin=True)
def _on_add() -> None:
    actor = current_member()

    def change() -> str:
        member, password = actions.add_member(
            _team(),
            actor,
            str(st.session_state.get(Keys.TEAM_ADD_USERNAME) or ""),
            name=str(st.session_state.get(Keys.TEAM_ADD_NAME) or ""),
            email=str(st.session_state.get(Keys.TEAM_ADD_EMAIL) or ""),
            role=str(st.session_state.get(Keys.TEAM_ADD_ROLE) or "member"),
        )
        session().secret = (member.username, password)
        for key in (Keys.TEAM_ADD_USERNAME, Keys.TEAM_ADD_NAME, Keys.TEAM_ADD_EMAIL):
            st.session_state[key] = ""
        return f"Added {md.escape(member.username)} ({member.role}, user id {member.user_id})."

    _do("add", change)


@member_action(FLASH_AREA, admin=True)
def _on_role(username: str) -> None:
    actor = current_member()
    role = str(st.session_state.get(Keys.TEAM_ROLE) or "member")

    def change() -> str:
        member = actions.change_role(_team(), actor, username, role, _protected())
        return f"{md.escape(member.username)} is now {member.role}."

    _do("role", change)


@member_action(FLASH_AREA, admin=True)
def _on_reset(username: str) -> None:
    actor = current_member()

    def change() -> str:
        password = actions.reset_password(_team(), actor, username, _protected())
        session().secret = (username, password)
        return _("New one-time password for {username}; their open sessions have ended.").format(
            username=md.escape(username)
        )

    _do("reset", change)


@member_action(FLASH_AREA, admin=True)
def _on_enable(username: str, enabled: bool) -> None:
    actor = current_member()

    def change() -> str:
        actions.set_enabled(_team(), actor, username, enabled, _protected())
        said = _("{username} is enabled.") if enabled else _("{username} is disabled.")
        return said.format(username=md.escape(username))

    _do("enable" if enabled else "disable", change)


@member_action(FLASH_AREA, admin=True)
def _on_remove(username: str) -> None:
    actor = current_member()

    erase = st.session_state.get(Keys.TEAM_REMOVE_DATA) == REMOVE_DATA_CHOICES[1]
    drop_votes = bool(st.session_state.get(Keys.TEAM_REMOVE_VOTES))

    def change() -> str:
        confirm = str(st.session_state.get(Keys.TEAM_CONFIRM) or "")
        actions.check_removal(actor, username, confirm, _protected())
        if erase and not lifecycle_view.erase_before_removal(
            username, actor.username, lifecycle_view.TEAM_AREA
        ):
            raise TeamError(
                _("{username} was not removed: their data could not be erased (above).").format(
                    username=username
                )
            )
        engine = backend.get_store(get_settings()).engine
        deleted = (
            judgements.delete_judgements(engine, username, actor.username) if drop_votes else None
        )
        actions.remove_member(_team(), actor, username, confirm, _protected())
        session().remove_pending = None
        st.session_state.pop(Keys.TEAM_PICK, None)
        name = md.escape(username)
        if deleted is not None:
            said = (
                _("Removed {username} and erased their data; deleted their {judgements}.")
                if erase
                else _("Removed {username}; deleted their {judgements}.")
            ).format(username=name, judgements=_judgements_text(deleted))
        elif erase:
            said = _(
                "Removed {username} and erased their data; their arena votes and "
                "evaluation ratings stay in the team's aggregates."
            ).format(username=name)
        else:
            said = _(
                "Removed {username}; their arena votes and evaluation ratings stay "
                "in the team's aggregates."
            ).format(username=name)
        if not erase:
            said += " " + _("Their data stays in the database, under the team's retention rules.")
        return said

    _do("remove", change)


@member_action(FLASH_AREA, admin=True)
def _on_unlock(key: str, by_address: bool) -> None:
    actor = current_member()

    def change() -> str:
        engine = backend.get_store(get_settings()).engine
        where = {"address": key} if by_address else {"username": key}
        logins.unlock(LoginLog(engine), actor=actor.username, **where)
        return f"{md.escape(key)} can log in again."

    _do("unlock", change)


def render_lockouts(actor: Member) -> None:
    """Who cannot log in right now after failed logins (usernames and addresses,
    `webapp.auth.throttle`' throttle), each with Unlock: what `python -m webapp.team
    unlock` does, recorded in the audit log with the admin's name."""
    refuse_non_admin(actor)
    try:
        log_book = LoginLog(backend.get_store(get_settings()).engine)
        found = logins.lockouts(log_book)
        now = log_book.now()
    except SQLAlchemyError:
        log.warning("Could not read the lock-outs", exc_info=True)
        st.error(_("The lock-outs cannot be read: the database did not answer."))
        return
    st.header(_("Locked out"))
    if not found:
        st.caption(_("Nobody is held back by failed logins right now."))
        return
    # Failed logins under made-up names can lock out thousands of keys: a
    # window of rows (each a text and a button), "Show more" adds as many.
    shown, hidden = window.first(found, window.size(LOCKOUTS_WINDOW, "", LOCKOUTS_SHOWN))
    for lock in shown:
        minutes = max(1, round((lock.until - now).total_seconds() / 60))
        what = N_("Address") if lock.by_address else N_("Username")
        state = N_("locked out") if lock.locked else N_("waiting")
        text_col, button_col = st.columns([4, 1], vertical_alignment="center")
        text_col.markdown(
            ngettext(
                "{what} **{key}**: {state} after failed logins, about {minutes} more minute.",
                "{what} **{key}**: {state} after failed logins, about {minutes} more minutes.",
                minutes,
            ).format(
                what=_(what),
                key=md.escape(lock.key),
                state=_(state),
                minutes=minutes,
            )
        )
        button_col.button(
            _("Unlock"),
            key=f"team_unlock_{'a' if lock.by_address else 'u'}_{lock.key}",
            on_click=_on_unlock,
            args=(lock.key, lock.by_address),
        )
    if hidden:
        st.caption(
            _("{found} lock-outs in all, the soonest to clear first.").format(
                found=format_number(len(found))
            )
        )
    window.more_button(LOCKOUTS_WINDOW, "", LOCKOUTS_SHOWN, hidden)


@view_action
def _ask_remove(username: str) -> None:
    session().remove_pending = username
    st.session_state[Keys.TEAM_CONFIRM] = ""
    st.session_state[Keys.TEAM_REMOVE_VOTES] = False  # never carried over from another member


def _show_outcome() -> None:
    flash.show(FLASH_AREA)
    team = session()
    secret, team.secret = team.secret, None
    if secret:
        username, password = secret
        with st.container(border=True):
            st.markdown(
                _("**One-time password for** {username}").format(username=md.code_span(username))
            )
            st.code(password, language=None)
            st.caption(
                _(
                    "Shown this once: copy it now and hand it over privately. "
                    "{username} must choose a new password at the first login."
                ).format(username=md.escape(username))
            )


def refuse_non_admin(actor: Member) -> None:
    """For the top of the Team page: stop the page for anyone but an admin."""
    if not actor.is_admin:
        st.error(_(ADMINS_ONLY), icon=":material/lock:")
        st.stop()


def render_members(actor: Member, words_this_month: actions.WordsThisMonth) -> None:
    """The Team page's members section: the list, add, and the manage panel."""
    refuse_non_admin(actor)
    _show_outcome()
    try:
        team = _team().members()
    except SQLAlchemyError:
        log.warning("Could not read the team", exc_info=True)
        st.error(_("The team cannot be read: the database did not answer."))
        return
    st.header(_("Members"))
    # The table's toolbar downloads it as CSV: a name may be a formula.
    rows = actions.member_rows(team, words_this_month)
    for row in rows:
        for column in ("role", "status", "last login"):
            if row[column] in MEMBER_WORDS:
                row[column] = _(MEMBER_WORDS[row[column]])
    st.dataframe(
        csv_safe.safe_rows(rows),
        hide_index=True,
        column_config=column_labels(
            MEMBER_LABELS,
            {"words this month": st.column_config.NumberColumn(format="localized")},
        ),
    )
    _render_add()
    _render_manage(actor, team)


def _render_add() -> None:
    with st.form("team_add", border=True):
        st.header(_("Add a member"))
        left, right = st.columns(2)
        left.text_input(_("Username"), key=Keys.TEAM_ADD_USERNAME)
        right.text_input(_("Name"), key=Keys.TEAM_ADD_NAME)
        left.text_input(_("Email"), key=Keys.TEAM_ADD_EMAIL)
        right.selectbox(_("Role"), ROLES, index=1, key=Keys.TEAM_ADD_ROLE)
        st.caption(_("A one-time password is made and shown once; the member changes it at login."))
        st.form_submit_button(_("Add member"), type="primary", on_click=_on_add)


def _render_manage(actor: Member, team: list[Member]) -> None:
    if not team:
        return
    st.header(_("Manage a member"))
    names = [m.username for m in team]
    if st.session_state.get(Keys.TEAM_PICK) not in names:
        st.session_state[Keys.TEAM_PICK] = names[0]
    picked = st.selectbox(_("Member"), names, key=Keys.TEAM_PICK)
    member = next(m for m in team if m.username == picked)
    if member.username == actor.username:
        st.info(_("This is you: another admin can change your role, disable or remove you."))
        return
    if member.username in _protected():
        st.info(
            actions.PROTECTED.format(username=md.escape(member.username)), icon=":material/lock:"
        )
        return
    left, right = st.columns(2)
    with left:
        st.selectbox(_("Role"), ROLES, index=ROLES.index(member.role), key=Keys.TEAM_ROLE)
        st.button(_("Change role"), on_click=_on_role, args=(member.username,))
    with right:
        st.button(
            _("Reset password"),
            on_click=_on_reset,
            args=(member.username,),
            help=_("A new one-time password; the member's open sessions end."),
        )
        label = "Enable" if member.disabled else "Disable"
        st.button(label, on_click=_on_enable, args=(member.username, member.disabled))
        st.button(_("Remove"), on_click=_ask_remove, args=(member.username,))
    with st.expander(_("Their data")):
        lifecycle_view.render_member_data_admin(member.username)
    if session().remove_pending == member.username:
        with st.container(border=True):
            st.warning(
                _("Remove {name} ({username}) from the team? They can no longer log in.").format(
                    name=md.escape(member.name), username=md.code_span(member.username)
                )
            )
            st.radio(
                _("Their conversations, library entries and share links"),
                REMOVE_DATA_CHOICES,
                format_func=_,
                key=Keys.TEAM_REMOVE_DATA,
                help=_("Keep them to download them first (Their data, above); erase them later."),
            )
            _render_judgements_choice(member)
            st.text_input(
                _("Type {username} to confirm").format(username=md.escape(member.username)),
                key=Keys.TEAM_CONFIRM,
            )
            st.button(
                _("Remove for good"),
                type="primary",
                on_click=_on_remove,
                args=(member.username,),
            )


def _render_judgements_choice(member: Member) -> None:
    """Removing a member: their arena votes and evaluation ratings stay in the
    leaderboard and the reports unless the admin ticks the box."""
    try:
        found = judgements.count_judgements(
            backend.get_store(get_settings()).engine, member.username
        )
    except SQLAlchemyError:
        log.warning("Could not count a member's votes and ratings", exc_info=True)
        found = None
    what = _judgements_text(found) if found is not None else _("arena votes and evaluation ratings")
    st.markdown(
        _(
            "Their {judgements} stay in the team's arena leaderboard and evaluation "
            "reports, whichever you choose above, unless you tick this:"
        ).format(judgements=what)
    )
    st.checkbox(
        _("Also delete their arena votes and evaluation ratings"),
        key=Keys.TEAM_REMOVE_VOTES,
        help=_("The leaderboard and the reports no longer count them; the audit log records it."),
    )


def _judgements_text(found: judgements.Judgements) -> str:
    """ "3 arena votes and 1 evaluation rating", in the session's language
    (`Judgements.describe` is the audit log's English)."""
    votes = ngettext("{count} arena vote", "{count} arena votes", found.votes)
    ratings = ngettext("{count} evaluation rating", "{count} evaluation ratings", found.ratings)
    return _("{votes} and {ratings}").format(
        votes=votes.format(count=format_number(found.votes)),
        ratings=ratings.format(count=format_number(found.ratings)),
    )


@member_action(PASSWORD_AREA)
def _on_forced_change() -> None:
    problem = auth.change_password(
        current_member(),
        str(st.session_state.get(Keys.FORCED_CURRENT) or ""),
        str(st.session_state.get(Keys.FORCED_NEW) or ""),
        str(st.session_state.get(Keys.FORCED_REPEAT) or ""),
    )
    for key in (Keys.FORCED_CURRENT, Keys.FORCED_NEW, Keys.FORCED_REPEAT):
        st.session_state[key] = ""
    if problem:
        flash.flash(PASSWORD_AREA, problem, "error")
    else:
        flash.take(PASSWORD_AREA)


def forced_password_change(member: Member) -> None:
    """The only page a member with a one-time password sees: choose a new one."""
    _left, middle, _right = st.columns([1, 2, 1])
    with middle:
        st.title(_("Choose your password"))
        st.info(
            _(
                "Welcome, {name}. You logged in with a one-time password from an "
                "admin: choose your own before going on."
            ).format(name=md.escape(member.name)),
            icon=":material/key:",
        )
        flash.show(PASSWORD_AREA)
        with st.form("forced_password"):
            st.text_input(_("One-time password"), type="password", key=Keys.FORCED_CURRENT)
            st.text_input(
                _("New password"),
                type="password",
                key=Keys.FORCED_NEW,
                help=_(
                    "At least {min_password_length} characters, at most {max_password_bytes} bytes."
                ).format(
                    min_password_length=MIN_PASSWORD_LENGTH, max_password_bytes=MAX_PASSWORD_BYTES
                ),
            )
            st.text_input(_("Repeat new password"), type="password", key=Keys.FORCED_REPEAT)
            st.caption(_(WHITESPACE_NOTE))
            st.form_submit_button(_("Set password"), type="primary", on_click=_on_forced_change)
        auth.logout_button(st, key="forced_logout")
