"""The admin's view of the team's limit on simultaneous answers.

`render_slots_admin(actor)` draws it on the admin's Team page (views/team.py):
the limit in force and where it comes from, answers streaming and
waiting now, a form to set the team's limit (stored in the database, so every
app process applies it at once), a back-off after a 429 in progress (Save, or
"Lift the back-off", ends it at once, audit-logged), and when the limit
changed (429s, the admin's changes and lifts, slots reclaimed from a stopped
process).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

import streamlit as st

from webapp.answers.slots_store import (
    BACKOFF_LIFTED,
    BACKOFF_MAX,
    MAX_LIMIT,
    RATE_LIMITED,
    SlotBook,
    SlotStatus,
)
from webapp.audit import AuditLog
from webapp.auth.guard import member_action
from webapp.backend import get_answers, get_store
from webapp.settings import ENV_MAX_CONCURRENT_ANSWERS
from webapp.text import csv_safe
from webapp.ui import flash
from webapp.ui.i18n import N_, _
from webapp.ui.member import current_member
from webapp.ui.state import Keys

EVENT_LABELS = {
    RATE_LIMITED: N_("429 from the API"),
    "limit_set": N_("Limit changed"),
    "reclaimed": N_("Slot reclaimed"),
    BACKOFF_LIFTED: N_("Back-off lifted"),
}
log = logging.getLogger(__name__)
NOT_ADMIN = N_("Only an admin can see and set the team's limit on simultaneous answers.")
FLASH_AREA = "slots"  # the section's notices (`webapp.ui.flash`)


class Actor(Protocol):
    """Who is looking: `webapp.team.Member` fits."""

    @property
    def username(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


def _when(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M:%S UTC")


def _limit_words(limit: int | None) -> str:
    return "no limit" if limit is None else str(limit)


def source_line(status: SlotStatus) -> str:
    """Where the limit in force comes from, in plain words."""
    if status.stored is not None:
        return _("Set here by {who} ({when}).").format(
            who=status.set_by or _("an admin"), when=_when(status.set_at)
        )
    if status.setting is not None:
        return _("From the server's setting {name} ({value}).").format(
            name=ENV_MAX_CONCURRENT_ANSWERS, value=status.setting
        )
    return _(
        "No limit set (neither here nor {name}): nobody waits, and a 429 from the API is "
        "retried and listed below, never turned into a limit."
    ).format(name=ENV_MAX_CONCURRENT_ANSWERS)


def backoff_line(status: SlotStatus) -> str | None:
    """The back-off in progress after a 429, or None."""
    if status.backoff is None:
        return None
    return _(
        "Lowered to {effective} after the aBLT API answered 429 (rate limited); "
        "held until {until} (at most {minutes} minutes), then raised by one slot at a "
        "time. Saving the limit, or Lift the back-off, ends it now."
    ).format(
        effective=status.effective,
        until=_when(status.backoff.until),
        minutes=int(BACKOFF_MAX.total_seconds() // 60),
    )


@member_action(FLASH_AREA, admin=True)
def _save(book: SlotBook) -> None:
    actor = current_member().username  # the admin as of now, not as drawn
    use_setting = st.session_state.get(Keys.SLOTS_USE_SETTING, False)
    value = st.session_state.get(Keys.SLOTS_VALUE)
    limit = None if use_setting else int(value or 0)
    try:
        lifted = book.status().backoff is not None
        book.set_limit(limit, actor=actor)
    except ValueError as err:
        flash.flash(FLASH_AREA, str(err), "error")
        return
    flash.flash(FLASH_AREA, _("Saved: every app process applies it now."), "success")
    shown = f"{ENV_MAX_CONCURRENT_ANSWERS} setting" if limit is None else limit
    detail = f"simultaneous answers: {shown}" + (" (back-off lifted)" if lifted else "")
    record_in_audit_log(actor, "set answer limit", detail)


@member_action(FLASH_AREA, admin=True)
def _lift(book: SlotBook) -> None:
    actor = current_member().username  # the admin as of now, not as drawn
    if book.lift_backoff(actor=actor):
        flash.flash(
            FLASH_AREA,
            _("Back-off lifted: every app process uses the team's limit again."),
            "success",
        )
        record_in_audit_log(actor, "lift answer back-off", "after a 429 from the aBLT API")
    else:
        flash.flash(FLASH_AREA, _("The back-off had already ended."), "success")


def record_in_audit_log(actor: str, action: str, detail: str) -> None:
    """Also write the change (`action`, e.g. "set answer limit") to the
    team's audit log (`webapp.audit`); the slot_events row is kept either way.
    A failure to write it is logged, never shown as a failed save (the
    change is made)."""
    try:
        AuditLog(get_store().engine).record_change(actor, action, None, detail)
    except Exception as err:
        log.warning("Could not write the limit's change to the audit log: %s", err)


def render_slots_admin(actor: Actor) -> None:
    """Draw the limit's status and its form for an admin; a refusal for anyone else."""
    if not actor.is_admin:
        st.error(_(NOT_ADMIN), icon=":material/lock:")
        return
    book = get_answers().team.book
    status = book.status()
    st.header(_("Simultaneous answers"))
    st.caption(
        _(
            "The most answers the whole team may have streaming at once, on "
            "every app process (the aBLT plan's limit). Prompts beyond it wait "
            "in line and start by themselves."
        )
    )
    left, middle, right = st.columns(3)
    left.metric(_("Limit now"), _limit_words(status.effective))
    middle.metric(_("Streaming"), status.streaming)
    right.metric(_("Waiting"), status.waiting)
    st.caption(source_line(status))
    lowered = backoff_line(status)
    if lowered:
        st.warning(lowered, icon=":material/speed:")
        st.button(
            _("Lift the back-off"),
            key="slots_admin_lift",
            icon=":material/speed:",
            on_click=_lift,
            args=(book,),
            help=_("Use the team's limit again now, on every app process."),
        )
    flash.show(FLASH_AREA)
    with st.form("slots_admin_form", border=True):
        st.number_input(
            _("Most answers at once for the team"),
            min_value=1,
            max_value=MAX_LIMIT,
            step=1,
            value=status.stored or status.setting or 4,
            key=Keys.SLOTS_VALUE,
        )
        st.checkbox(
            _("Use the server's setting ({env_max_concurrent_answers}: {setting})").format(
                env_max_concurrent_answers=ENV_MAX_CONCURRENT_ANSWERS,
                setting=_limit_words(status.setting),
            ),
            value=status.stored is None,
            key=Keys.SLOTS_USE_SETTING,
        )
        st.form_submit_button(_("Save limit"), on_click=_save, args=(book,))
    events = book.events(limit=50)
    if events:
        st.caption(_("When the limit changed (newest first)"))
        rows: list[dict[str, Any]] = [
            {
                "when": _when(e.at),
                "what": _(EVENT_LABELS.get(e.kind, e.kind)),
                "by": e.actor or "the app",
                "limit before": _limit_words(e.limit_before),
                "limit after": _limit_words(e.limit_after),
                "detail": e.detail,
            }
            for e in events
        ]
        st.dataframe(csv_safe.safe_rows(rows), hide_index=True)
