"""Budgets in the browser: the member's status by the message box, the refusal
when the month's budget is used up, and the admin's section of the Team page.

- `render_budget_status(member)`: the Chat page calls it just before its
  message box: a caption of what is left, a warning from 80% on, an error
  at 100%. Nothing when the member has no limit.
- Whether an answer may start is decided by the answer service
  (`AnswerService.admit`, with `webapp.budgets.check.BudgetGate` as a rule);
  pages show its refusal. `queue_held_by(member)` says why a queue waits.
- `render_budgets_admin(actor)`: the team default and per-member limits,
  each change written to the audit log.

The rules are in `webapp.budgets.book` (limits) and `webapp.budgets.count`
(usage and status).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final

import streamlit as st

from ablt_core import UsageTotals
from webapp.audit import AuditLog
from webapp.auth.gate import Member, list_members
from webapp.auth.guard import member_action
from webapp.backend import get_client, get_store
from webapp.bots.catalogue import client_base_url
from webapp.budgets import check
from webapp.budgets.book import UNITS, BudgetBook, BudgetError, Limit, Unit, unit_name
from webapp.budgets.check import member_status
from webapp.budgets.count import (
    EXHAUSTED,
    UNLIMITED,
    WARNING,
    BudgetStatus,
    exhausted_message,
    month_usage,
    refusal_message,
    warning_message,
)
from webapp.text import csv_safe
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import N_, _, column_labels, format_number, ngettext
from webapp.ui.member import current_member
from webapp.ui.state import Keys

log = logging.getLogger(__name__)
FLASH_AREA = "budgets"  # the budgets section's notices (`webapp.ui.flash`)

NO_LIMIT: Final = N_("No limit")
LIMIT: Final = "Limit"
TEAM_DEFAULT: Final = N_("Team default")
OWN_LIMIT: Final = N_("Own limit")
DEFAULT_AMOUNT: Final = 100_000


def get_book() -> BudgetBook:
    """The limits on the app's database."""
    return BudgetBook(get_store().engine)


def _fetch_totals(user_id: int, start: Any, end: Any) -> UsageTotals:
    return get_client().get_usage_statistics(start, end, user_id).total


# The budget line may show a limit read this long ago (s): the send's admission
# read it a moment before, in the same run (`BudgetBook.limit_for`).
SHOWN_LIMIT_MAX_AGE = 1.0


def status_for(
    member: Any, limit: Limit | None = None, *, always: bool = False, shown_only: bool = False
) -> BudgetStatus:
    """The member's budget status now (their limit unless `limit` is given).
    Without a limit the usage is not counted (0) unless `always` (the admin's table).
    `shown_only`: for display, a limit read in the last `SHOWN_LIMIT_MAX_AGE` s will do.

    Raises the store's database errors; an unreadable API falls back to the
    month's local count (see `webapp.budgets.count`). The counting itself is
    `webapp.budgets.check.member_status`, which the answer worker uses too."""
    return member_status(
        get_store(),
        member,
        _fetch_totals,
        base_url=client_base_url(get_client()),
        limit=limit
        or get_book().limit_for(
            member.username, max_age=SHOWN_LIMIT_MAX_AGE if shown_only else 0.0
        ),
        always=always,
    )


def used_this_month(member: Any, unit: Unit = "words") -> int:
    """The member's usage this month (UTC) in `unit`, counted as budgets count
    it (API figure + this app's answers since): for the Team page's member list.
    Raises the store's database errors."""
    store = get_store()
    used = month_usage(
        store,
        member.username,
        member.user_id,
        _fetch_totals,
        base_url=client_base_url(get_client()),
    )
    return used.amount(unit)


def admin_names(members: Sequence[Member] | None = None) -> list[str]:
    """The team's admins as "Name (username)", for the refusal's "ask ..."."""
    return check.admin_names(list(members) if members is not None else list_members())


def queue_held_by(member: Any) -> str | None:
    """Why the member's queued prompts are not being sent: the refusal's
    sentence while the month's budget is used up, else None. Nothing is
    recorded (the worker recorded the refusal when it held the queue back);
    a page may ask on every run. Raises the store's database errors."""
    status = status_for(member)
    if status.may_send:
        return None
    return refusal_message(status, admin_names(), kept=check.KEPT_QUEUED)


def render_budget_status(member: Any) -> None:
    """What is left of the member's monthly budget, drawn where it is called
    (the Chat page: just above the message box). Draws nothing without a limit
    or when the database cannot be read (sending says so itself)."""
    try:
        status = status_for(member, shown_only=True)
    except Exception:
        log.warning("Could not read the member's budget", exc_info=True)
        return
    if status.state == UNLIMITED:
        return
    limit = status.limit
    # Which limit binds (own, a group's, the team default), the group's name as text.
    origin = f" Limit: {md.escape(limit.origin)}."
    if status.state == EXHAUSTED:
        st.error(exhausted_message(status, admin_names()) + origin, icon=":material/block:")
        return
    if status.state == WARNING:
        st.warning(warning_message(status) + origin, icon=":material/data_usage:")
        return
    st.caption(
        _(
            ":material/data_usage: Budget: {value} of {value2} {unit} left this month.{origin}"
        ).format(
            value=format_number(status.left or 0),
            value2=format_number(limit.amount or 0),
            unit=_(limit.unit),
            origin=origin,
        )
    )


# ------------------------------------------------------------------- admin


def _notice(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


def describe_limit(limit: Limit) -> str:
    """ "12,000 words a month" / "no limit"."""
    return "no limit" if limit.amount is None else f"{limit.amount:,} {limit.unit} a month"


def shown_limit(limit: Limit) -> str:
    """`describe_limit` in the session's language, the amount in its locale
    (the audit log keeps `describe_limit`'s English)."""
    if limit.amount is None:
        return _("no limit")
    if limit.unit == "tokens":
        text = ngettext("{amount} token a month", "{amount} tokens a month", limit.amount)
    else:
        text = ngettext("{amount} word a month", "{amount} words a month", limit.amount)
    return text.format(amount=format_number(limit.amount))


# The members table's headers (its rows keep these English names).
TABLE_LABELS: Final = {
    "Member": N_("Member"),
    "Limit": N_("Limit"),
    "From": N_("From"),
    "Used this month": N_("Used this month"),
    "Left": N_("Left"),
}


@member_action(FLASH_AREA, admin=True)
def save_team_default() -> None:
    """The team default form's callback: save it, audit it, say so (as the admin
    re-read now: `webapp.auth.guard`)."""
    actor = current_member()
    state = st.session_state
    limited = state.get(Keys.BUDGET_DEFAULT_MODE) == LIMIT
    amount = int(state.get(Keys.BUDGET_DEFAULT_AMOUNT) or 0) if limited else None
    unit = str(state.get(Keys.BUDGET_DEFAULT_UNIT) or "words")
    try:
        book = get_book()
        book.set_team_default(amount, unit, actor=actor.username)
        limit = book.team_default()
        AuditLog(get_store().engine).record_change(
            actor, "set team budget", None, describe_limit(limit)
        )
    except BudgetError as err:
        _notice("error", str(err))
        return
    except Exception:
        log.warning("Could not save the team budget", exc_info=True)
        _notice("error", _("The team budget was not saved: the database did not answer."))
        return
    _notice("success", _("Team default saved: {limit}.").format(limit=shown_limit(limit)))


@member_action(FLASH_AREA, admin=True)
def save_member_limit() -> None:
    """The member form's callback: their own limit, no limit, or the team default."""
    actor = current_member()
    state = st.session_state
    username = str(state.get(Keys.BUDGET_MEMBER) or "")
    mode = state.get(Keys.BUDGET_MEMBER_MODE)
    unit = str(state.get(Keys.BUDGET_MEMBER_UNIT) or "words")
    try:
        book = get_book()
        if mode == TEAM_DEFAULT:
            book.clear_member_limit(username)
            said = "follows the team default"
            shown = _("follows the team default")
        else:
            amount = int(state.get(Keys.BUDGET_MEMBER_AMOUNT) or 0) if mode == OWN_LIMIT else None
            book.set_member_limit(username, amount, unit, actor=actor.username)
            limit = book.limit_for(username)
            said, shown = describe_limit(limit), shown_limit(limit)
        AuditLog(get_store().engine).record_change(actor, "set member budget", username, said)
    except BudgetError as err:
        _notice("error", str(err))
        return
    except Exception:
        log.warning("Could not save a member's budget", exc_info=True)
        _notice("error", _("The budget was not saved: the database did not answer."))
        return
    _notice("success", f"{md.escape(username)}: {shown}.")


def _member_rows(members: Sequence[Member], book: BudgetBook) -> list[dict[str, Any]]:
    rows = []
    for m in members:
        limit = book.limit_for(m.username)  # own, else the lowest group's, else the default
        try:
            used: int | None = status_for(m, limit, always=True).used
        except Exception:
            log.warning("Could not count a member's usage", exc_info=True)
            used = None
        rows.append(
            {
                "Member": f"{m.name} ({m.username})",
                "Limit": shown_limit(limit),
                "From": _("own")
                if limit.source == "member"
                else (
                    _("group {group}").format(group=limit.group)
                    if limit.source == "group"
                    else _("team default")
                ),
                "Used this month": used,
                # Text, so "no limit" reads as such (a number column shows "None").
                "Left": _("no limit")
                if limit.amount is None
                else (_("unknown") if used is None else format_number(max(limit.amount - used, 0))),
            }
        )
    return rows


def render_budgets_admin(actor: Any) -> None:
    """The Team page's budgets section (admins only: refuses anyone else)."""
    if not getattr(actor, "is_admin", False):
        st.error(_("Only an admin can set budgets."))
        return
    st.header(_("Budgets"))
    st.caption(
        _(
            "A monthly limit per member, in words or tokens, counted from the "
            "aBLT usage of the member's user id (as on the Statistics page) "
            "plus what this app sent since. Months start at 00:00 UTC on the "
            "1st. From 80% the member is warned; at 100% sending is refused "
            "until an admin raises the limit or the month ends. Which limit "
            "binds: the member's own limit first, then the lowest of their "
            "groups' limits (Groups, below), then the team default."
        )
    )
    flash.show(FLASH_AREA)
    try:
        book = get_book()
        default = book.team_default()
        members = list_members()
        rows = _member_rows(members, book)
    except Exception:
        log.warning("Could not read the budgets", exc_info=True)
        st.error(_("The budgets cannot be read: the database did not answer."))
        return
    state = st.session_state
    state.setdefault(Keys.BUDGET_DEFAULT_MODE, NO_LIMIT if default.amount is None else LIMIT)
    state.setdefault(Keys.BUDGET_DEFAULT_AMOUNT, default.amount or DEFAULT_AMOUNT)
    state.setdefault(Keys.BUDGET_DEFAULT_UNIT, default.unit)
    with st.form("budget_default_form"):
        st.markdown(_("**Team default** (now: {default})").format(default=shown_limit(default)))
        st.radio(
            _("Team default"), (NO_LIMIT, LIMIT), key=Keys.BUDGET_DEFAULT_MODE, horizontal=True
        )
        amount_col, unit_col = st.columns(2)
        amount_col.number_input(
            _("Monthly limit"), min_value=0, step=1000, key=Keys.BUDGET_DEFAULT_AMOUNT
        )
        unit_col.selectbox(_("Unit"), UNITS, format_func=unit_name, key=Keys.BUDGET_DEFAULT_UNIT)
        st.form_submit_button(
            _("Save team default"),
            on_click=save_team_default,
            key="budget_default_save",
        )
    # The table's toolbar writes a CSV: member names are neutralised (csv_safe).
    st.dataframe(
        csv_safe.safe_rows(rows),
        hide_index=True,
        column_config=column_labels(
            TABLE_LABELS, {"Used this month": st.column_config.NumberColumn(format="localized")}
        ),
    )
    if not members:
        return
    by_name = {m.username: m for m in members}
    state.setdefault(Keys.BUDGET_MEMBER, members[0].username)
    state.setdefault(Keys.BUDGET_MEMBER_MODE, TEAM_DEFAULT)
    state.setdefault(Keys.BUDGET_MEMBER_AMOUNT, DEFAULT_AMOUNT)
    state.setdefault(Keys.BUDGET_MEMBER_UNIT, "words")
    with st.form("budget_member_form"):
        st.markdown(_("**A member's own limit**"))
        st.selectbox(
            _("Member"),
            list(by_name),
            format_func=lambda u: f"{by_name[u].name} ({u})",
            key=Keys.BUDGET_MEMBER,
        )
        st.radio(
            _("Limit"),
            (TEAM_DEFAULT, OWN_LIMIT, NO_LIMIT),
            key=Keys.BUDGET_MEMBER_MODE,
            horizontal=True,
        )
        amount_col, unit_col = st.columns(2)
        amount_col.number_input(
            _("Monthly limit"), min_value=0, step=1000, key=Keys.BUDGET_MEMBER_AMOUNT
        )
        unit_col.selectbox(_("Unit"), UNITS, format_func=unit_name, key=Keys.BUDGET_MEMBER_UNIT)
        st.form_submit_button(
            _("Save member limit"), on_click=save_member_limit, key="budget_member_save"
        )
