"""The History's side of imports from other apps: the preview, the progress, the undo.

An upload the product's own import does not read alone (a zip, or a ChatGPT,
Open WebUI or LibreChat export: `take_upload`) is read into an `ImportPlan`
and kept in the session; `render_panel` shows it ("412 conversations, 9,830
messages, 3 skipped", why, the bot to use) until the member presses Import or
Cancel. Import writes the `imports` row and starts the background run
(`writer.start_import`); the panel then follows its progress from the
database (a fragment that reruns itself), so a reload shows it too, and once
done offers "Remove this import" (also in the Import menu, for a day).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import streamlit as st

from webapp.auth.guard import member_action, view_action
from webapp.backend import get_client, get_store
from webapp.bots import catalogue
from webapp.chat import open_chat as chat
from webapp.chat.notice import NOTICE_AREA
from webapp.imports import reader
from webapp.imports.model import SOURCE_NAMES, UNDO_HOURS, ImportPlan
from webapp.imports.writer import (
    DONE,
    ImportNotRemovable,
    ImportRecord,
    ImportStore,
    start_import,
)
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import _, format_number, ngettext
from webapp.ui.member import current_member
from webapp.ui.state import Keys

PREVIEW_KEY: Final = "imports_preview"  # (file name, ImportPlan) waiting for Import or Cancel
WATCH_KEY: Final = "imports_watch"  # the id of the import this session started
BOT_KEY: Final = "imports_bot"
PROGRESS_SECONDS: Final = 1.0
SHOWN_REASONS: Final = 20  # skipped lines listed in the preview; the rest are counted


def _imports() -> ImportStore:
    return ImportStore(get_store())


def sources_label(sources: Sequence[str]) -> str:
    """ "ChatGPT, LibreChat" for the stored source keys."""
    return ", ".join(SOURCE_NAMES.get(s, s) for s in sources) or "a file"


def take_upload(name: str, data: bytes) -> bool:
    """Keep a preview of `data` when it is for this package (a zip, another
    app's export); False leaves it to the product's own import (one aBLT Chat
    conversation, or a file nobody reads, which that import explains)."""
    plan = reader.foreign_plan(name, data)
    if plan is None:
        return False
    if not plan.conversations:
        reasons = "; ".join(f"{s.what}: {s.why}" for s in plan.skipped[:3]) or reader.UNKNOWN
        flash.flash(
            NOTICE_AREA,
            _("“{name}” was not imported: {reasons}. Nothing was changed.").format(
                name=md.escape(name), reasons=md.escape(reasons)
            ),
            "error",
        )
        return True
    st.session_state[PREVIEW_KEY] = (name, plan)
    st.session_state.pop(BOT_KEY, None)
    return True


@view_action
def cancel_preview() -> None:
    st.session_state.pop(PREVIEW_KEY, None)


@member_action(NOTICE_AREA)
def confirm_import(bot_names: dict[str, str]) -> None:
    """Write the previewed plan in the background with the chosen bot."""
    pending = st.session_state.pop(PREVIEW_KEY, None)
    slug = st.session_state.get(BOT_KEY)
    if pending is None or slug not in bot_names:
        return
    name, plan = pending
    member = current_member()
    imports = _imports()
    try:
        record = imports.begin(member, name, plan, slug)
    except chat.DATABASE_ERRORS:
        flash.flash(NOTICE_AREA, _(chat.DATABASE_UNREADABLE), "error")
        return
    start_import(imports, member, record, plan, bot_slug=slug, bot_name=bot_names[slug])
    st.session_state[WATCH_KEY] = record.id


@member_action(NOTICE_AREA)
def remove_import(import_id: str) -> None:
    """ "Remove this import": every conversation it wrote, in one step."""
    try:
        gone = _imports().remove(current_member(), import_id)
    except (ImportNotRemovable, LookupError) as err:
        flash.flash(NOTICE_AREA, str(err), "error")
        return
    st.session_state.pop(WATCH_KEY, None)
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True  # the open one may be among them
    flash.flash(
        NOTICE_AREA,
        ngettext(
            "Import removed: {gone} conversation deleted.",
            "Import removed: {gone} conversations deleted.",
            gone,
        ).format(gone=format_number(gone)),
        "success",
    )


@view_action
def dismiss() -> None:
    st.session_state.pop(WATCH_KEY, None)


# ------------------------------------------------------------------- drawing


def _preview(name: str, plan: ImportPlan) -> None:
    try:
        bots = catalogue.load_bots(get_client())
    except Exception:  # the API is down: no bot to pick, nothing to import yet
        bots = []
    names = {bot.slug: bot.name or bot.slug for bot in bots}
    with st.sidebar.container(border=True, key="imports_preview_box"):
        st.markdown(
            _("**Import “{name}”** from {value}").format(
                name=md.escape(name), value=md.escape(sources_label(plan.sources))
            )
        )
        st.markdown(md.escape(plan.summary()))
        if plan.skipped or plan.notes:
            with st.expander(
                _("Skipped and changed ({value})").format(
                    value=format_number(plan.skipped_count + len(plan.notes))
                )
            ):
                lines = [
                    f"- {md.escape(s.what)}: {md.escape(s.why)}"
                    for s in plan.skipped[:SHOWN_REASONS]
                ]
                lines += [f"- {md.escape(note)}" for note in plan.notes[:SHOWN_REASONS]]
                more = len(plan.skipped) + len(plan.notes) - len(lines)
                if more > 0:
                    lines.append(f"- and {more:,} more")
                st.markdown("\n".join(lines))
        if not bots:
            st.warning(_("No bot is available to give these conversations; try again later."))
        else:
            labels = chat.bot_labels(bots)
            st.selectbox(
                _("Bot for these conversations"),
                options=list(labels),
                format_func=lambda slug: labels.get(slug, slug),
                key=BOT_KEY,
                help=_(
                    "Every imported conversation continues with this bot. Nothing is "
                    "sent to it until you write."
                ),
            )
        row = st.container(horizontal=True, gap="small")
        row.button(
            _("Import"),
            key="imports_confirm",
            type="primary",
            disabled=not bots,
            on_click=confirm_import,
            args=(names,),
        )
        row.button(_("Cancel"), key="imports_cancel", on_click=cancel_preview)


def _progress_line(record: ImportRecord) -> str:
    done = record.written + record.failed
    return _("Importing “{file}”: {done} of {total} conversations").format(
        file=md.escape(record.file_name),
        done=format_number(done),
        total=format_number(record.total),
    )


def _finished(record: ImportRecord, status: str) -> None:
    sources = md.escape(sources_label(record.sources))
    if status == DONE:
        st.success(
            ngettext(
                "Imported {count} conversation ({messages} messages) from {sources}",
                "Imported {count} conversations ({messages} messages) from {sources}",
                record.written,
            ).format(
                count=format_number(record.written),
                messages=format_number(record.messages),
                sources=sources,
            )
            + (
                _("; {count} skipped").format(count=format_number(record.skipped))
                if record.skipped
                else ""
            )
            + (
                _("; {count} could not be saved").format(count=format_number(record.failed))
                if record.failed
                else ""
            )
            + ".",
            icon=":material/upload_file:",
        )
    else:
        st.warning(
            _(
                "The import of “{file_name}” stopped after {written} of "
                "{total} conversations ({status})."
            ).format(
                file_name=md.escape(record.file_name),
                written=format_number(record.written),
                total=format_number(record.total),
                status=status,
            ),
            icon=":material/warning:",
        )
    row = st.container(horizontal=True, gap="small")
    now = get_store().now()
    if record.can_remove(now):
        row.button(
            _("Remove this import"),
            key=f"imports_remove_{record.id}",
            icon=":material/undo:",
            on_click=remove_import,
            args=(record.id,),
            help=_("Deletes every conversation of this import (for {undo_hours} hours).").format(
                undo_hours=UNDO_HOURS
            ),
        )
    row.button(_("Dismiss"), key="imports_dismiss", on_click=dismiss)


@st.fragment(run_every=PROGRESS_SECONDS)
def _follow(import_id: str) -> None:
    """The running import's progress; the whole page reruns once it ends (History)."""
    try:
        record = _imports().get(current_member(), import_id)
    except (LookupError, *chat.DATABASE_ERRORS):
        return
    now = get_store().now()
    if record.is_running(now):
        share = (record.written + record.failed) / record.total if record.total else 1.0
        st.progress(min(share, 1.0), text=_progress_line(record))
    else:
        st.rerun(scope="app")


def render_panel() -> None:
    """Under the History's title: the preview waiting for Import, the progress
    of a running import, or the end of this session's import with its undo."""
    pending = st.session_state.get(PREVIEW_KEY)
    if pending is not None:
        _preview(*pending)
        return
    try:
        member = current_member()
        watched = st.session_state.get(WATCH_KEY)
        latest = _imports().recent(member, limit=1)
    except chat.DATABASE_ERRORS:
        return
    now = get_store().now()
    running = next((r for r in latest if r.is_running(now)), None)
    if running is not None:
        st.session_state[WATCH_KEY] = running.id  # a reload follows it too
        with st.sidebar:
            _follow(running.id)
        return
    record = next((r for r in latest if r.id == watched), None)
    if record is not None and record.status != "removed":
        with st.sidebar.container(border=True, key="imports_done_box"):
            _finished(record, record.shown_status(now))


def render_recent() -> None:
    """In the Import menu: the last imports that can still be removed."""
    try:
        member = current_member()
        now = get_store().now()
        recent = [r for r in _imports().recent(member) if r.can_remove(now)]
    except chat.DATABASE_ERRORS:
        return
    if not recent:
        return
    st.caption(_("Imports of the last {undo_hours} hours").format(undo_hours=UNDO_HOURS))
    for record in recent:
        row = st.container(horizontal=True, vertical_alignment="center", gap="small")
        row.caption(
            _("“{file_name}”: {written} conversations from {value}").format(
                file_name=md.escape(record.file_name),
                written=format_number(record.written),
                value=md.escape(sources_label(record.sources)),
            ),
            width="stretch",
        )
        row.button(
            _("Remove"),
            key=f"imports_recent_remove_{record.id}",
            icon=":material/undo:",
            type="tertiary",
            on_click=remove_import,
            args=(record.id,),
            help=_("Remove this import: deletes every conversation it wrote."),
        )
