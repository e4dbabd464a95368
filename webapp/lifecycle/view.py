"""The data lifecycle on the pages: "Your data" on the Account page, and for
admins the retention rules and a member's data on the Team page.

Thin: the rules are in `retention`, the zip and the erase in `member_data`,
the background build and its one-time link in `downloads`.
"""

from __future__ import annotations

import logging
from typing import Final

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from streamlit import config

from webapp import backend
from webapp.auth.guard import member_action
from webapp.lifecycle import retention
from webapp.lifecycle.downloads import ROUTE_PATH, DataDownload
from webapp.lifecycle.member_data import MemberDataBusy, Who, erase_member_data
from webapp.lifecycle.retention import RetentionError, RetentionPolicy
from webapp.team.members import MemberStore
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import N_, _, format_number
from webapp.ui.member import current_member
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

ACCOUNT_AREA: Final = "account_data"
TEAM_AREA: Final = "team_data"  # a member's data, in the Manage panel
RETENTION_AREA: Final = "retention"  # the Data tab
DB_DOWN: Final = N_("The database did not answer; nothing was changed. Try again in a moment.")


def _link_path(token: str) -> str:
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{ROUTE_PATH}/{token}" if base else f"{ROUTE_PATH}/{token}"


def _who(username: str) -> Who:
    found = MemberStore(backend.get_store().engine).get(username)
    return Who(found.username, found.user_id) if found else Who(username, 0)


# ------------------------------------------------------------ callbacks


@member_action(ACCOUNT_AREA)
def _start_own_download() -> None:
    member = current_member()
    _start(Who(member.username, member.user_id), member.username, ACCOUNT_AREA)


@member_action(TEAM_AREA, admin=True)
def _start_member_download(username: str) -> None:
    _start(_who(username), current_member().username, TEAM_AREA)


def _start(who: Who, requested_by: str, area: str) -> None:
    try:
        backend.get_downloads().start(who, requested_by)
    except SQLAlchemyError:
        log.warning("Could not start a data download", exc_info=True)
        flash.flash(area, _(DB_DOWN), "error")


@member_action(ACCOUNT_AREA)
def _issue_own_link(download_id: str) -> None:
    _issue(download_id, current_member().username, ACCOUNT_AREA)


@member_action(TEAM_AREA, admin=True)
def _issue_member_link(download_id: str, username: str) -> None:
    _issue(download_id, username, TEAM_AREA)


def _issue(download_id: str, username: str, area: str) -> None:
    token = backend.get_downloads().issue_link(download_id, username)
    if token is None:
        flash.flash(area, _("That download is gone; start a new one."), "error")
        return
    links = st.session_state.setdefault(Keys.DATA_LINK, {})
    links[username] = _link_path(token)


@member_action(ACCOUNT_AREA)
def _erase_own() -> None:
    member = current_member()
    typed = str(st.session_state.get(Keys.ERASE_CONFIRM) or "").strip().lower()
    if typed != member.username:
        flash.flash(
            ACCOUNT_AREA,
            _("Type {username} to confirm.").format(username=md.code_span(member.username)),
            "error",
        )
        return
    _erase(member.username, member.username, ACCOUNT_AREA)
    st.session_state[Keys.ERASE_CONFIRM] = ""


@member_action(TEAM_AREA, admin=True)
def _erase_member(username: str) -> None:
    typed = str(st.session_state.get(Keys.TEAM_ERASE_CONFIRM) or "").strip().lower()
    if typed != username:
        flash.flash(
            TEAM_AREA,
            _("Type {username} to confirm.").format(username=md.code_span(username)),
            "error",
        )
        return
    _erase(username, current_member().username, TEAM_AREA)
    st.session_state[Keys.TEAM_ERASE_CONFIRM] = ""


def _erase(username: str, actor: str, area: str) -> bool:
    """Erase and flash the outcome; True when erased."""
    try:
        done = erase_member_data(backend.get_store().engine, username, actor)
    except MemberDataBusy as busy:
        flash.flash(area, str(busy), "error")
        return False
    except SQLAlchemyError:
        log.warning("Could not erase a member's data", exc_info=True)
        flash.flash(area, _(DB_DOWN), "error")
        return False
    flash.flash(
        area,
        _(
            "Erased: {conversations} conversations, {prompts} library "
            "entries, {shares} share links, {other} other entries."
        ).format(
            conversations=format_number(done.conversations),
            prompts=format_number(done.prompts),
            shares=format_number(done.shares),
            other=format_number(done.other),
        ),
        "success",
    )
    return True


def erase_before_removal(username: str, actor: str, area: str) -> bool:
    """The Team page's removal with "erase their data": True when erased (the
    removal goes on), False when refused (said in `area`; the member stays)."""
    return _erase(username, actor, area)


@member_action(RETENTION_AREA, admin=True)
def _save_retention() -> None:
    def days(key: str) -> int | None:
        value = int(st.session_state.get(key) or 0)
        return value or None

    try:
        policy = RetentionPolicy(
            conversation_days=days(Keys.RETENTION_CHATS),
            keep_pinned=bool(st.session_state.get(Keys.RETENTION_PINNED, True)),
            audit_days=days(Keys.RETENTION_AUDIT),
            share_days=days(Keys.RETENTION_SHARES),
        )
        retention.save_policy(backend.get_store().engine, policy, current_member().username)
    except RetentionError as err:
        flash.flash(RETENTION_AREA, str(err), "error")
        return
    except SQLAlchemyError:
        log.warning("Could not save the retention policy", exc_info=True)
        flash.flash(RETENTION_AREA, _(DB_DOWN), "error")
        return
    flash.flash(
        RETENTION_AREA,
        _("Retention saved: {policy}.").format(policy=retention.describe(policy)),
        "success",
    )


@member_action(RETENTION_AREA, admin=True)
def _sweep_now() -> None:
    try:
        done = retention.sweep(
            backend.get_store().engine, force=True, actor=current_member().username
        )
    except SQLAlchemyError:
        log.warning("The retention sweep failed", exc_info=True)
        flash.flash(RETENTION_AREA, _(DB_DOWN), "error")
        return
    if not done.ran:
        flash.flash(
            RETENTION_AREA, _("A cleanup is running on another app process; try later."), "info"
        )
        return
    flash.flash(
        RETENTION_AREA,
        _(
            "Cleanup done: {conversations} conversations deleted "
            "({kept_busy} kept while an answer was running), "
            "{audit_entries} audit entries deleted, {shares} share links "
            "expired."
        ).format(
            conversations=format_number(done.conversations),
            kept_busy=format_number(done.kept_busy),
            audit_entries=format_number(done.audit_entries),
            shares=format_number(done.shares),
        ),
        "success",
    )


# ------------------------------------------------------------ drawing


def _download_status(download: DataDownload | None, username: str, *, admin: bool) -> None:
    """The download's state, refreshed every second while it is built."""
    if download is None:
        return
    if download.status == "building":
        share = download.done / download.total if download.total else 0.0
        st.progress(share, text=f"Building: {download.done:,} of {download.total:,} conversations")
        return
    if download.status == "failed":
        st.error(download.error or _("The download failed; try again."))
        return
    size = download.size_bytes or 0
    # Small zips in kB: "0.0 MB" reads as an empty download.
    if size >= 1_000_000:
        shown = _("{size} MB").format(size=format_number(round(size / 1_000_000, 1)))
    else:
        shown = _("{size} kB").format(size=format_number(max(1, size // 1000)))
    st.caption(
        _(
            "Ready: {total} conversations, {size}, made "
            "{created_at:%Y-%m-%d %H:%M} UTC. Kept for a day."
        ).format(total=format_number(download.total), size=shown, created_at=download.created_at)
    )
    link = st.session_state.get(Keys.DATA_LINK, {}).get(username)
    if link:
        st.link_button(_("Download the zip"), link, type="primary", icon=":material/download:")
        st.caption(_("The link works once, for 15 minutes."))
    elif admin:
        st.button(
            _("Get a download link"),
            key=f"data_link_{username}",
            on_click=_issue_member_link,
            args=(download.id, username),
        )
    else:
        st.button(
            _("Get a download link"),
            key="data_link_own",
            on_click=_issue_own_link,
            args=(download.id,),
        )


@st.fragment(run_every=1.0)
def _live_status(username: str, admin: bool) -> None:
    download = backend.get_downloads().latest(username)
    if download is None or download.status != "building":
        st.rerun()  # built: the whole page draws it, and this fragment stops polling
    _download_status(download, username, admin=admin)


def _status(username: str, *, admin: bool) -> None:
    download = backend.get_downloads().latest(username)
    if download is not None and download.status == "building":
        _live_status(username, admin)
    else:
        _download_status(download, username, admin=admin)


def render_my_data(member: Who) -> None:
    """The Account page's "Your data": download everything, or erase it."""
    st.header(_("Your data"))
    flash.show(ACCOUNT_AREA)
    st.caption(
        _(
            "Everything of yours in one zip: every conversation (JSON with its "
            "versions, and Markdown), your prompt library entries, share links "
            "and audit entries."
        )
    )
    st.button(_("Download all my data"), icon=":material/download:", on_click=_start_own_download)
    _status(member.username, admin=False)
    with st.expander(_("Erase my data")):
        st.warning(
            _(
                "Deletes all your conversations, prompt library entries and share "
                "links for good. Your account stays (an admin removes accounts). "
                "Download your data first if you want to keep it."
            )
        )
        st.text_input(
            _("Type {username} to confirm").format(username=md.escape(member.username)),
            key=Keys.ERASE_CONFIRM,
        )
        st.button(_("Erase my data"), type="primary", on_click=_erase_own)


def render_member_data_admin(username: str) -> None:
    """The Team page's panel for one member's data: download it, or erase it."""
    flash.show(TEAM_AREA)
    st.button(
        _("Download their data"),
        key=f"data_start_{username}",
        on_click=_start_member_download,
        args=(username,),
        icon=":material/download:",
    )
    _status(username, admin=True)
    with st.expander(_("Erase their data")):
        st.text_input(
            _("Type {username} to confirm").format(username=md.escape(username)),
            key=Keys.TEAM_ERASE_CONFIRM,
        )
        st.button(_("Erase their data"), on_click=_erase_member, args=(username,))


def render_retention_admin() -> None:
    """The Team page's retention rules and the cleanup's last run."""
    flash.show(RETENTION_AREA)
    try:
        policy = retention.read_policy(backend.get_store().engine)
    except SQLAlchemyError:
        st.error(_(DB_DOWN))
        return
    st.caption(
        _(
            "How long things are kept. A cleanup runs once a day (on one app "
            "process); each run is written to the audit log. 0 days: kept "
            "forever."
        )
    )
    with st.form("retention"):
        st.number_input(
            _("Delete conversations not opened or changed for (days)"),
            min_value=0, max_value=retention.MAX_DAYS, step=1,
            value=policy.conversation_days or 0, key=Keys.RETENTION_CHATS,
            help=_(
"Members see in their History which conversations will go within a "
"week."
),
        )  # fmt: skip
        st.checkbox(
            _("Keep pinned conversations"), value=policy.keep_pinned, key=Keys.RETENTION_PINNED
        )
        st.number_input(
            _("Delete audit entries older than (days)"),
            min_value=0, max_value=retention.MAX_DAYS, step=1,
            value=policy.audit_days or 0, key=Keys.RETENTION_AUDIT,
        )  # fmt: skip
        st.number_input(
            _("Expire share links after (days)"),
            min_value=0, max_value=retention.MAX_DAYS, step=1,
            value=policy.share_days or 0, key=Keys.RETENTION_SHARES,
        )  # fmt: skip
        st.form_submit_button(_("Save retention"), type="primary", on_click=_save_retention)
    st.button(_("Run the cleanup now"), on_click=_sweep_now, icon=":material/cleaning_services:")
