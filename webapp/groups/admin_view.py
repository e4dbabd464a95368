"""The Team page's Groups section (admins): groups, their members, bots and
budgets, and the bots for members in no group.

Thin: every change is a function of `webapp.groups.store` (tested without a
browser, audited there), called from a widget callback guarded by
`member_action(admin=True)`, whose outcome is flashed in `FLASH_AREA`. Group
names and descriptions are the admins' text: shown as text
(`webapp.text.literal`), never as Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from ablt_core import AbltError, Bot
from webapp.auth.guard import member_action
from webapp.backend import get_client, get_store
from webapp.bots import catalogue
from webapp.budgets.book import UNITS, unit_name
from webapp.chat.open_chat import bot_labels
from webapp.groups import store as groups
from webapp.groups.model import MAX_DESCRIPTION, MAX_NAME, Group, GroupError
from webapp.groups.view import forget_access
from webapp.team.members import MemberStore
from webapp.team.model import Member
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import N_, _, ngettext
from webapp.ui.member import current_member
from webapp.ui.state import Keys

log = logging.getLogger(__name__)

FLASH_AREA: Final = "groups"
EVERY_BOT: Final = N_("Every bot")
CHOSEN_BOTS: Final = N_("Only the bots chosen")
NO_LIMIT: Final = N_("No group limit")
LIMIT: Final = "Limit"
DB_DOWN: Final = N_("The change was not made: the database did not answer. Try again in a moment.")
PRECEDENCE: Final = N_(
    "A member may use a bot when any of their groups allows it; a "
    "member in no group follows the setting for members in no group. "
    "Budgets: the member's own limit first, then the lowest of their "
    "groups' limits, then the team default."
)


def _engine() -> Any:
    return get_store().engine


def _do(change: Callable[[], str]) -> None:
    """Run one change (returns the success sentence, Markdown-safe), flash its outcome."""
    try:
        flash.flash(FLASH_AREA, change(), "success")
    except GroupError as err:
        flash.flash(FLASH_AREA, md.escape(str(err)), "error")
    except SQLAlchemyError:
        log.warning("A group change failed", exc_info=True)
        flash.flash(FLASH_AREA, _(DB_DOWN), "error")
    forget_access()  # this process's pages show the change at once


def _field(group_id: str, name: str, default: Any = None) -> Any:
    return st.session_state.get(Keys.group_field(group_id, name), default)


# ------------------------------------------------------------------ callbacks


@member_action(FLASH_AREA, admin=True)
def create_group() -> None:
    """The "New group" form's callback."""
    actor, state = current_member(), st.session_state

    def change() -> str:
        group = groups.create_group(
            _engine(),
            str(state.get(Keys.GROUPS_NEW_NAME) or ""),
            str(state.get(Keys.GROUPS_NEW_DESCRIPTION) or ""),
            actor=actor,
            managed_by_idp=bool(state.get(Keys.GROUPS_NEW_IDP)),
        )
        state[Keys.GROUPS_NEW_NAME] = state[Keys.GROUPS_NEW_DESCRIPTION] = ""
        return _("Group {name} created; it may use every bot.").format(name=md.escape(group.name))

    _do(change)


@member_action(FLASH_AREA, admin=True)
def save_group(group_id: str) -> None:
    """A group's name, description and who decides its members."""
    actor = current_member()

    def change() -> str:
        group = groups.update_group(
            _engine(),
            group_id,
            actor=actor,
            name=str(_field(group_id, "name", "")),
            description=str(_field(group_id, "description", "")),
            managed_by_idp=bool(_field(group_id, "idp", False)),
        )
        return f"Group {md.escape(group.name)} saved."

    _do(change)


@member_action(FLASH_AREA, admin=True)
def save_bots(group_id: str) -> None:
    """The bots a group may use."""
    actor = current_member()
    every = _field(group_id, "bots_mode") != CHOSEN_BOTS

    def change() -> str:
        chosen = list(_field(group_id, "bots", []) or [])
        group = groups.set_group_bots(_engine(), group_id, every, chosen, actor=actor)
        return _("Group {name}: bots saved.").format(name=md.escape(group.name))

    _do(change)


@member_action(FLASH_AREA, admin=True)
def save_budget(group_id: str) -> None:
    """A group's monthly limit."""
    actor = current_member()
    limited = _field(group_id, "limit_mode") == LIMIT
    amount = int(_field(group_id, "amount", 0) or 0) if limited else None
    unit = str(_field(group_id, "unit", "words") or "words")

    def change() -> str:
        group = groups.set_group_budget(_engine(), group_id, amount, unit, actor=actor)
        return _("Group {name}: budget saved.").format(name=md.escape(group.name))

    _do(change)


@member_action(FLASH_AREA, admin=True)
def add_members(group_id: str) -> None:
    """Put the picked members in the group by hand."""
    actor = current_member()
    picked = [str(u) for u in (_field(group_id, "add", []) or [])]

    def change() -> str:
        for username in picked:
            groups.add_member(_engine(), group_id, username, actor=actor)
        st.session_state[Keys.group_field(group_id, "add")] = []
        return ngettext("Added {count} member.", "Added {count} members.", len(picked)).format(
            count=len(picked)
        )

    _do(change)


@member_action(FLASH_AREA, admin=True)
def remove_member(group_id: str, username: str) -> None:
    """Take one member out of the group."""
    actor = current_member()

    def change() -> str:
        groups.remove_member(_engine(), group_id, username, actor=actor)
        return _("{username} is out of the group.").format(username=md.escape(username))

    _do(change)


@member_action(FLASH_AREA, admin=True)
def delete_group(group_id: str) -> None:
    """Delete a group once its confirmation box is ticked."""
    actor = current_member()

    def change() -> str:
        if not _field(group_id, "confirm", False):
            raise GroupError(_("Tick the box to confirm first."))
        groups.delete_group(_engine(), group_id, actor=actor)
        return _("Group deleted. No conversation was removed.")

    _do(change)


@member_action(FLASH_AREA, admin=True)
def save_team_bots() -> None:
    """The bots for members in no group."""
    actor, state = current_member(), st.session_state
    every = state.get(Keys.GROUPS_DEFAULT_MODE) != CHOSEN_BOTS

    def change() -> str:
        chosen = list(state.get(Keys.GROUPS_DEFAULT_BOTS) or [])
        groups.set_team_bots(_engine(), every, chosen, actor=actor)
        return _("Saved the bots for members in no group.")

    _do(change)


# ---------------------------------------------------------------------- drawing


def _bot_choices(bots: Sequence[Bot], chosen: frozenset[str]) -> tuple[list[str], dict[str, str]]:
    """Slugs to offer (the catalogue's, and chosen ones no longer listed) and their labels."""
    labels = bot_labels(bots)
    for slug in sorted(chosen - labels.keys()):
        labels[slug] = f"{slug} (no longer listed)"
    return list(labels), labels


def _render_group(group: Group, bots: Sequence[Bot], members: Sequence[Member]) -> None:
    gid, state = group.id, st.session_state
    who = "identity provider" if group.managed_by_idp else "by hand"
    label = f"{md.escape(group.name)} · {len(group.members)} members · {who}"
    with st.expander(label):
        if group.description:
            st.markdown(md.escape_block(group.description))
        state.setdefault(Keys.group_field(gid, "name"), group.name)
        state.setdefault(Keys.group_field(gid, "description"), group.description)
        state.setdefault(Keys.group_field(gid, "idp"), group.managed_by_idp)
        with st.form(f"groups_form_{gid}"):
            st.text_input(_("Name"), key=Keys.group_field(gid, "name"), max_chars=MAX_NAME)
            st.text_area(
                _("Description"),
                key=Keys.group_field(gid, "description"),
                max_chars=MAX_DESCRIPTION,
            )
            st.checkbox(
                _(
                    "Managed by the identity provider (its groups claim decides the "
                    "members at each sign-in)"
                ),
                key=Keys.group_field(gid, "idp"),
            )
            st.form_submit_button(_("Save group"), on_click=save_group, args=(gid,))
        choices, labels = _bot_choices(bots, group.bots)
        state.setdefault(
            Keys.group_field(gid, "bots_mode"), EVERY_BOT if group.all_bots else CHOSEN_BOTS
        )
        state.setdefault(Keys.group_field(gid, "bots"), sorted(group.bots))
        with st.form(f"groups_bots_form_{gid}"):
            st.radio(
                _("Bots"),
                (EVERY_BOT, CHOSEN_BOTS),
                key=Keys.group_field(gid, "bots_mode"),
                horizontal=True,
            )
            st.multiselect(
                _("Chosen bots"),
                choices,
                key=Keys.group_field(gid, "bots"),
                format_func=lambda slug: labels.get(slug, slug),
            )
            st.form_submit_button(_("Save bots"), on_click=save_bots, args=(gid,))
        state.setdefault(
            Keys.group_field(gid, "limit_mode"), NO_LIMIT if group.monthly_limit is None else LIMIT
        )
        state.setdefault(Keys.group_field(gid, "amount"), group.monthly_limit or 100_000)
        state.setdefault(Keys.group_field(gid, "unit"), group.unit)
        with st.form(f"groups_budget_form_{gid}"):
            st.radio(
                _("Group budget"),
                (NO_LIMIT, LIMIT),
                key=Keys.group_field(gid, "limit_mode"),
                horizontal=True,
            )
            amount_col, unit_col = st.columns(2)
            amount_col.number_input(
                _("Monthly limit"), min_value=0, step=1000, key=Keys.group_field(gid, "amount")
            )
            unit_col.selectbox(
                _("Unit"), UNITS, format_func=unit_name, key=Keys.group_field(gid, "unit")
            )
            st.form_submit_button(_("Save budget"), on_click=save_budget, args=(gid,))
        _render_members(group, members)
        st.checkbox(_("Yes, delete this group"), key=Keys.group_field(gid, "confirm"))
        st.button(_("Delete group"), key=f"groups_delete_{gid}", on_click=delete_group, args=(gid,))


def _render_members(group: Group, members: Sequence[Member]) -> None:
    gid = group.id
    by_name = {m.username: m for m in members}
    st.markdown(_("**Members**"))
    if group.managed_by_idp:
        st.caption(_("The identity provider's groups claim replaces these at each sign-in."))
    for username in sorted(group.members):
        member = by_name.get(username)
        text_col, button_col = st.columns([4, 1], vertical_alignment="center")
        shown = f"{member.name} ({username})" if member and member.name else username
        text_col.markdown(md.escape(shown))
        button_col.button(
            _("Remove"),
            key=f"groups_remove_{gid}_{username}",
            on_click=remove_member,
            args=(gid, username),
        )
    outside = [u for u in by_name if u not in group.members]
    if outside:
        with st.form(f"groups_add_form_{gid}"):
            st.multiselect(
                _("Add members"),
                outside,
                key=Keys.group_field(gid, "add"),
                format_func=lambda u: f"{by_name[u].name} ({u})" if by_name[u].name else u,
            )
            st.form_submit_button(_("Add to group"), on_click=add_members, args=(gid,))


def render_groups_admin(actor: Any) -> None:
    """The Team page's Groups section (admins only: refuses anyone else)."""
    if not getattr(actor, "is_admin", False):
        st.error(_("Only an admin can manage groups."))
        return
    st.header(_("Groups"))
    st.caption(_(PRECEDENCE))
    flash.show(FLASH_AREA)
    try:
        every, default = groups.list_groups(_engine()), groups.team_bots(_engine())
        members = MemberStore(_engine()).members()
    except SQLAlchemyError:
        log.warning("Could not read the groups", exc_info=True)
        st.error(_("The groups cannot be read: the database did not answer."))
        return
    try:
        bots = catalogue.load_bots(get_client())
    except AbltError:
        bots = []
        st.warning(_("The bot list cannot be read now; bots already chosen are still shown."))
    state = st.session_state
    choices, labels = _bot_choices(bots, default.bots)
    state.setdefault(Keys.GROUPS_DEFAULT_MODE, EVERY_BOT if default.all_bots else CHOSEN_BOTS)
    state.setdefault(Keys.GROUPS_DEFAULT_BOTS, sorted(default.bots))
    with st.form("groups_default_form"):
        st.markdown(_("**Bots for members in no group**"))
        st.radio(_("Bots"), (EVERY_BOT, CHOSEN_BOTS), key=Keys.GROUPS_DEFAULT_MODE, horizontal=True)
        st.multiselect(
            _("Chosen bots"),
            choices,
            key=Keys.GROUPS_DEFAULT_BOTS,
            format_func=lambda slug: labels.get(slug, slug),
        )
        st.form_submit_button(_("Save"), on_click=save_team_bots)
    with st.form("groups_new_form"):
        st.markdown(_("**New group**"))
        st.text_input(_("Name"), key=Keys.GROUPS_NEW_NAME, max_chars=MAX_NAME)
        st.text_area(_("Description"), key=Keys.GROUPS_NEW_DESCRIPTION, max_chars=MAX_DESCRIPTION)
        st.checkbox(_("Managed by the identity provider"), key=Keys.GROUPS_NEW_IDP)
        st.form_submit_button(_("Create group"), on_click=create_group)
    if not every:
        st.caption(_("No group yet: every member follows the setting for members in no group."))
    for group in every:
        _render_group(group, bots, members)
