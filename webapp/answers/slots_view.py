"""The admin's view of the team's limit on simultaneous answers.

`render_slots_admin(actor)` draws it on the admin's Team page (views/team.py):
the limit in force and where it comes from, answers streaming and
waiting now, a form to set the team's limit (stored in the database, so every
app process applies it at once), a back-off after a 429 in progress, and when
the limit changed (429s, the admin's changes, slots reclaimed from a stopped
process).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

import streamlit as st

from webapp.answers.slots_store import MAX_LIMIT, RATE_LIMITED, SlotBook, SlotStatus
from webapp.audit import AuditLog
from webapp.backend import get_answers, get_store
from webapp.settings import ENV_MAX_CONCURRENT_ANSWERS
from webapp.text import csv_safe
from webapp.ui import flash
from webapp.ui.state import Keys

EVENT_LABELS = {
    RATE_LIMITED: "429 from the API",
    "limit_set": "Limit changed",
    "reclaimed": "Slot reclaimed",
}
log = logging.getLogger(__name__)
NOT_ADMIN = "Only an admin can see and set the team's limit on simultaneous answers."
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
        return f"Set here by {status.set_by or 'an admin'} ({_when(status.set_at)})."
    if status.setting is not None:
        return f"From the server's setting {ENV_MAX_CONCURRENT_ANSWERS} ({status.setting})."
    return (
        f"No limit set (neither here nor {ENV_MAX_CONCURRENT_ANSWERS}); a 429 from the API "
        "still lowers it for a while."
    )


def backoff_line(status: SlotStatus) -> str | None:
    """The back-off in progress after a 429, or None."""
    if status.backoff is None:
        return None
    return (
        f"Lowered to {status.effective} after the aBLT API answered 429 (rate limited); "
        f"held until {_when(status.backoff.until)}, then raised by one slot at a time."
    )


def _save(book: SlotBook, actor: str) -> None:
    use_setting = st.session_state.get(Keys.SLOTS_USE_SETTING, False)
    value = st.session_state.get(Keys.SLOTS_VALUE)
    limit = None if use_setting else int(value or 0)
    try:
        book.set_limit(limit, actor=actor)
    except ValueError as err:
        flash.flash(FLASH_AREA, str(err), "error")
        return
    flash.flash(FLASH_AREA, "Saved: every app process applies it now.", "success")
    record_in_audit_log(actor, f"{ENV_MAX_CONCURRENT_ANSWERS} setting" if limit is None else limit)


def record_in_audit_log(actor: str, limit: int | str) -> None:
    """Also write the change to the team's audit log (`webapp.audit`); the
    slot_events row is kept either way. A failure to write it is logged,
    never shown as a failed save (the limit is saved)."""
    try:
        AuditLog(get_store().engine).record_change(
            actor, "set answer limit", None, f"simultaneous answers: {limit}"
        )
    except Exception as err:
        log.warning("Could not write the limit's change to the audit log: %s", err)


def render_slots_admin(actor: Actor) -> None:
    """Draw the limit's status and its form for an admin; a refusal for anyone else."""
    if not actor.is_admin:
        st.error(NOT_ADMIN, icon=":material/lock:")
        return
    book = get_answers().team.book
    status = book.status()
    st.subheader("Simultaneous answers")
    st.caption(
        "The most answers the whole team may have streaming at once, on every app "
        "process (the aBLT plan's limit). Prompts beyond it wait in line and start by themselves."
    )
    left, middle, right = st.columns(3)
    left.metric("Limit now", _limit_words(status.effective))
    middle.metric("Streaming", status.streaming)
    right.metric("Waiting", status.waiting)
    st.caption(source_line(status))
    lowered = backoff_line(status)
    if lowered:
        st.warning(lowered, icon=":material/speed:")
    flash.show(FLASH_AREA)
    with st.form("slots_admin_form", border=True):
        st.number_input(
            "Most answers at once for the team",
            min_value=1,
            max_value=MAX_LIMIT,
            step=1,
            value=status.stored or status.setting or 4,
            key=Keys.SLOTS_VALUE,
        )
        st.checkbox(
            f"Use the server's setting ({ENV_MAX_CONCURRENT_ANSWERS}: "
            f"{_limit_words(status.setting)})",
            value=status.stored is None,
            key=Keys.SLOTS_USE_SETTING,
        )
        st.form_submit_button("Save limit", on_click=_save, args=(book, actor.username))
    events = book.events(limit=50)
    if events:
        st.caption("When the limit changed (newest first)")
        rows: list[dict[str, Any]] = [
            {
                "when": _when(e.at),
                "what": EVENT_LABELS.get(e.kind, e.kind),
                "by": e.actor or "the app",
                "limit before": _limit_words(e.limit_before),
                "limit after": _limit_words(e.limit_after),
                "detail": e.detail,
            }
            for e in events
        ]
        st.dataframe(csv_safe.safe_rows(rows), hide_index=True)
