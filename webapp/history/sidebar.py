"""The sidebar: New chat and the History first, the account compact at the bottom.

Issue 11's layout: what people come back for (New chat, the History's search
and groups, Import just under it) leads the sidebar, under the pages; the
member, the API's status and the demo note close it in a few small lines
(`render_account_footer`, which app.py draws after the page). On a phone the
sidebar covers the page, so it closes itself after a conversation or a page is
chosen (`close_on_phone`).

Rendering only: every change goes through `webapp.chat.open_chat` from a widget
callback, so it lands before the run that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from webapp.auth.guard import member_action, view_action
from webapp.backend import get_store
from webapp.bots import display as bot_display
from webapp.chat import message_tools, page_state
from webapp.chat import open_chat as chat
from webapp.chat.notice import NOTICE_AREA
from webapp.chat.view import guarded, local_time, member_timezone, opened_chat
from webapp.conversations import context as history
from webapp.conversations.context import ConversationImportError
from webapp.conversations.organise import parse_search
from webapp.conversations.store import ANY_FOLDER, ConversationNotFound, Folder
from webapp.history import organise_view
from webapp.history.actions import HISTORY_PAGE, HistoryList, load_history

# The phone's close and the account lines live in `webapp.history.footer`.
from webapp.history.footer import PHONE_MAX_WIDTH_PX as PHONE_MAX_WIDTH_PX
from webapp.history.footer import close_on_phone as close_on_phone
from webapp.history.footer import note_page as note_page
from webapp.history.footer import render_account_footer as render_account_footer
from webapp.history.footer import request_close_on_phone as request_close_on_phone
from webapp.history.organise_view import close_row_menu
from webapp.imports import model as imports_model
from webapp.imports import view as import_view
from webapp.lifecycle import retention
from webapp.lifecycle.retention import RetentionPolicy
from webapp.text import literal as md
from webapp.ui import flash, styles
from webapp.ui.i18n import N_, _
from webapp.ui.member import current_member
from webapp.ui.state import Keys

HISTORY_STEP = HISTORY_PAGE  # History rows shown at first and added by "Show more"
NEW_CHAT_KEY = styles.NEW_CHAT_KEY  # its style names it
# Like ChatGPT's; not one the browser keeps for itself (Ctrl+N, Ctrl+T, Ctrl+Shift+N...).
NEW_CHAT_SHORTCUT = "Ctrl+Shift+O"
NEW_CHAT_HELP = N_("Start a new conversation (Ctrl+Shift+O; ⌘+Shift+O on a Mac).")
CLEAR_CHAT_KEY = "chat_clear"
IMPORT_KEY_PREFIX = "chat_import_"
FOLDER_ROWS_PREFIX = "history_folder_rows_"  # + folder id: its rows shown ("Show more" adds)


# ------------------------------------------------------------- callbacks


@view_action
def request_open(conversation_id: str) -> None:
    """Open a History row's conversation on the next run (and get out of the way on a phone)."""
    st.session_state[Keys.CHAT_OPEN_ID] = conversation_id
    st.session_state.pop(Keys.CHAT_EDITING, None)
    request_close_on_phone()


@view_action
def request_new_chat() -> None:
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True
    st.session_state[Keys.CHAT_FOCUS_INPUT] = True  # then the cursor waits in the message box
    st.session_state.pop(Keys.CHAT_EDITING, None)
    request_close_on_phone()


@view_action
def clear_chat() -> None:
    """A fresh conversation with the same bot and options; the old one stays in History."""
    opened = opened_chat()
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True
    st.session_state[Keys.CHAT_FOCUS_INPUT] = True
    if opened is not None:
        st.session_state[Keys.CHAT_CARRY_OPTIONS] = opened.conversation.options
    request_close_on_phone()


@member_action(NOTICE_AREA)
def rename(conversation_id: str) -> None:
    close_row_menu(conversation_id)
    title = st.session_state.get(Keys.history_rename(conversation_id), "")
    guarded(
        lambda: chat.rename(get_store(), current_member(), opened_chat(), conversation_id, title)
    )


@member_action(NOTICE_AREA)
def toggle_pin(conversation_id: str, pinned: bool) -> None:
    close_row_menu(conversation_id)
    guarded(
        lambda: chat.set_pinned(
            get_store(), current_member(), opened_chat(), conversation_id, pinned
        )
    )


@view_action
def ask_delete(conversation_id: str) -> None:
    close_row_menu(conversation_id)
    st.session_state[Keys.CHAT_DELETE_PENDING] = conversation_id


@view_action
def cancel_delete() -> None:
    st.session_state.pop(Keys.CHAT_DELETE_PENDING, None)


@member_action(NOTICE_AREA)
def confirm_delete(conversation_id: str) -> None:
    st.session_state.pop(Keys.CHAT_DELETE_PENDING, None)
    guarded(lambda: chat.delete(get_store(), current_member(), conversation_id))
    opened = opened_chat()
    if opened is not None and opened.id == conversation_id:
        st.session_state[Keys.CHAT_NEW_REQUESTED] = True


@view_action
def more_history() -> None:
    st.session_state[Keys.CHAT_HISTORY_LIMIT] = (
        st.session_state.get(Keys.CHAT_HISTORY_LIMIT, HISTORY_STEP) + HISTORY_STEP
    )


@member_action(NOTICE_AREA)
def import_upload(key: str) -> None:
    """Import the uploaded export as a new conversation and open it; a bad
    file gets its reason and writes nothing."""
    upload = st.session_state.get(key)
    if upload is None:
        return
    # A new uploader key next run empties the widget for the next import.
    st.session_state[Keys.CHAT_IMPORT_ROUND] = st.session_state.get(Keys.CHAT_IMPORT_ROUND, 0) + 1
    data = upload.getvalue()
    if import_view.take_upload(upload.name, data):
        return  # a zip or another app's export: its preview comes first
    try:
        conv = chat.import_file(get_store(), current_member(), data)
    except ConversationImportError as err:
        flash.flash(
            NOTICE_AREA,
            _("“{name}” was not imported: {err} Nothing was changed.").format(
                name=md.escape(upload.name), err=err
            ),
            "error",
        )
        return
    request_open(conv.id)
    flash.flash(
        NOTICE_AREA, _("Imported “{title}”.").format(title=md.escape(conv.title)), "success"
    )


# ------------------------------------------------------------- the chat's sidebar


def render_new_chat(*, can_start: bool) -> None:
    """New chat and Clear chat, first in the sidebar (only with bots to chat with)."""
    if not can_start:
        return
    row = st.sidebar.container(horizontal=True, gap="small")
    row.button(
        _("New chat"),
        key=NEW_CHAT_KEY,
        icon=":material/add:",
        on_click=request_new_chat,
        shortcut=NEW_CHAT_SHORTCUT,
        help=_(NEW_CHAT_HELP),
        width="stretch",
    )
    row.button(
        _("Clear chat"),
        key=CLEAR_CHAT_KEY,
        icon=":material/restart_alt:",  # starts over; deletes nothing (not a bin)
        on_click=clear_chat,
        help=_("Start over with the same bot and options; this conversation stays in the history."),
        width="stretch",
    )


def render_history(member: Any, opened: chat.OpenChat | None) -> None:
    """Search, Import, then the member's conversations grouped, each with its
    actions; a line under them, above the account."""
    _history(member, opened)
    st.sidebar.divider()


def _history(member: Any, opened: chat.OpenChat | None) -> None:
    sidebar = st.sidebar
    state = st.session_state
    store = get_store()
    try:
        # One query per kind for the whole History, never one per row.
        folders = store.organise.folders(member)
        known_tags = store.organise.member_tags(member)
    except chat.DATABASE_ERRORS:
        sidebar.error(_(chat.DATABASE_UNREADABLE), icon=":material/database:")
        return
    title_row = sidebar.container(horizontal=True, vertical_alignment="center", gap="small")
    title_row.markdown(_("**History**"), width="stretch")
    organise_view.render_new_folder(title_row, folders)
    render_import(title_row)
    import_view.render_panel()
    query = sidebar.text_input(
        _("Search conversations"),
        key=Keys.CHAT_HISTORY_QUERY,
        placeholder=_("Search titles and messages, or tag:name"),
        label_visibility="collapsed",
        icon=":material/search:",
    )
    search = parse_search(query, state.get(Keys.HISTORY_TAGS) or ())
    organise_view.render_filters(known_tags, searching=search.active)
    archived_view = bool(state.get(Keys.HISTORY_ARCHIVED))
    selecting = bool(state.get(Keys.HISTORY_SELECT))
    _render_delete_pending(member)
    organise_view.render_pending(folders)
    if selecting:
        organise_view.render_bulk_bar(folders, known_tags, archived=archived_view)
    if archived_view:
        organise_view.render_archive_tools()

    # Searching, filtering or the Archived view: one list, whatever the folder.
    flat = archived_view or search.active
    archived: bool | None = False
    if archived_view:
        archived = True
    elif search.active and state.get(Keys.HISTORY_INCLUDE_ARCHIVED):
        archived = None
    rows = state.get(Keys.CHAT_HISTORY_LIMIT, HISTORY_STEP)
    tz = member_timezone()
    try:
        listed = load_history(
            store,
            member,
            search.text,
            rows=rows,
            tz=tz,
            folder=ANY_FOLDER if flat else None,
            archived=archived,
            tags=search.tags,
        )
        in_folders = {} if flat else _open_folders(store, member, folders, tz)
        shown = [c.id for _, group in listed.sections for c in group]
        shown += [c.id for found in in_folders.values() for _, g in found.sections for c in g]
        row_tags = store.organise.tags_for(member, shown)
    except chat.DATABASE_ERRORS:
        sidebar.error(_(chat.DATABASE_UNREADABLE), icon=":material/database:")
        return
    styles.history_rows()
    draw = Rows(opened, folders, known_tags, row_tags, selecting, _retention(store))
    if not flat:
        _note_open_row(opened, listed, draw.retention)
    if not flat:
        _render_folders(folders, in_folders, draw)
    if not listed.sections:
        if archived_view:
            sidebar.caption(
                _("No archived conversations match.") if search.active else _("Nothing archived.")
            )
        elif search.active:
            sidebar.caption(_("No conversations match."))
        elif not folders:
            sidebar.caption(_("No saved conversations yet."))
        return
    for name, conversations in listed.sections:
        sidebar.caption(_(name))
        for conv in conversations:
            draw(sidebar, conv)
    if listed.more:
        sidebar.button(_("Show more"), key="chat_history_more", on_click=more_history)


def history_row(
    conv: history.Conversation, group: str | None = None, policy: RetentionPolicy | None = None
) -> page_state.HistoryRow:
    """What an answer can change of `conv`'s History row: its group (`group`:
    as listed; None: the group it falls in now), its "last active" time as
    the row's tooltip shows it, its expiry note (`policy`: the team's, read
    when None)."""
    if group is None:
        group = history.group_conversations([conv], tz=member_timezone())[0][0]
    if policy is None:
        policy = _retention(get_store())
    return page_state.HistoryRow(
        group, local_time(conv.updated_at, member_timezone()), _expiry_note(conv, policy)
    )


def _note_open_row(
    opened: chat.OpenChat | None, listed: HistoryList, policy: RetentionPolicy
) -> None:
    """Tell the chat page's state when the open conversation's row is drawn
    first in its group (an answer then leaves it there: `page_state.after_answer`)."""
    if opened is None or not opened.id:
        return
    for group, conversations in listed.sections:
        if conversations and conversations[0].id == opened.id:
            page_state.drew_row(page_state.state(), history_row(conversations[0], group, policy))
            return


def _render_delete_pending(member: Any) -> None:
    pending = st.session_state.get(Keys.CHAT_DELETE_PENDING)
    if not pending:
        return
    try:
        doomed = get_store().get_conversation(member, pending)
    except ConversationNotFound:
        st.session_state.pop(Keys.CHAT_DELETE_PENDING, None)
        return
    with st.sidebar.container(border=True):
        st.warning(
            _("Delete “{title}” and all its messages? This cannot be undone.").format(
                title=md.escape(doomed.title)
            ),
            icon=":material/delete:",
        )
        yes, no = st.columns(2)
        yes.button(
            _("Delete"),
            key="chat_delete_confirm",
            type="primary",
            on_click=confirm_delete,
            args=(pending,),
        )
        no.button(_("Cancel"), key="chat_delete_cancel", on_click=cancel_delete)


def _open_folders(
    store: Any, member: Any, folders: list[Folder], tz: Any
) -> dict[str, HistoryList]:
    """The rows of each open folder (a subfolder: when its parent is open too):
    one query per open folder, none for closed ones."""
    is_open = {f.id: organise_view.folder_open(f) for f in folders}
    return {
        f.id: load_history(
            store,
            member,
            rows=st.session_state.get(f"{FOLDER_ROWS_PREFIX}{f.id}", HISTORY_STEP),
            tz=tz,
            folder=f.id,
        )
        for f in folders
        if is_open[f.id] and (f.parent_id is None or is_open.get(f.parent_id, False))
    }


@view_action
def more_in_folder(folder_id: str) -> None:
    key = f"{FOLDER_ROWS_PREFIX}{folder_id}"
    st.session_state[key] = st.session_state.get(key, HISTORY_STEP) + HISTORY_STEP


def _render_folders(folders: list[Folder], in_folders: dict[str, HistoryList], draw: Rows) -> None:
    """Folders above the date groups: each an expander labelled with its count,
    its conversations drawn only while it is open, its subfolders inside it."""
    children: dict[str, list[Folder]] = {}
    for folder in folders:
        if folder.parent_id:
            children.setdefault(folder.parent_id, []).append(folder)

    def draw_folder(where: Any, folder: Folder) -> None:
        box = where.expander(
            organise_view.folder_label(folder),
            icon=":material/folder:",
            key=f"{organise_view.FOLDER_OPEN_PREFIX}{folder.id}",
            expanded=organise_view.folder_open(folder),
            on_change=organise_view.toggle_folder,  # closed, its rows are neither read nor drawn
            args=(folder.id,),
        )
        if not organise_view.folder_open(folder):
            return
        with box:
            organise_view.render_folder_menu(folder)
            for child in children.get(folder.id, []):
                draw_folder(st, child)
            found = in_folders.get(folder.id)
            if found is None:
                return
            for _section, conversations in found.sections:
                for conv in conversations:
                    draw(st, conv)
            if found.more:
                st.button(
                    _("Show more"),
                    key=f"history_folder_more_{folder.id}",
                    on_click=more_in_folder,
                    args=(folder.id,),
                )

    for folder in folders:
        if folder.parent_id is None:
            draw_folder(st.sidebar, folder)


@dataclass(frozen=True, slots=True)
class Rows:
    """What every History row of this run needs, read once (no query per row)."""

    opened: chat.OpenChat | None
    folders: list[Folder]
    known_tags: list[str]
    tags: dict[str, list[str]]
    selecting: bool
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)

    def __call__(self, where: Any, conv: history.Conversation) -> None:
        _history_row(where, conv, self)


def _retention(store: Any) -> RetentionPolicy:
    """The team's retention rules, for the rows' "deleted in N days" (keep
    everything when the database cannot say)."""
    try:
        return retention.cached_policy(store.engine)
    except chat.DATABASE_ERRORS:
        return RetentionPolicy()


def _expiry_note(conv: history.Conversation, policy: RetentionPolicy) -> str | None:
    left = retention.days_left(
        policy,
        pinned=conv.pinned,
        opened_at=conv.opened_at,
        updated_at=conv.updated_at,
        now=datetime.now(UTC),
    )
    return retention.expiry_note(left)


def _history_row(where: Any, conv: history.Conversation, rows: Rows) -> None:
    tags = rows.tags.get(conv.id, [])
    if rows.selecting:
        # Select mode: a checkbox per row (Tab and Space tick them).
        where.checkbox(
            md.escape(conv.title),
            key=f"{organise_view.PICK_PREFIX}{conv.id}",
            help=organise_view.tags_line(tags) or None,
        )
        return
    is_open = rows.opened is not None and conv.id == rows.opened.id
    # A row, not columns: columns stack on a phone, which put each ⋮ menu on a
    # line of its own, under its title.
    row = where.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False)
    imported = message_tools.imported_label(conv.imported_at, member_timezone())
    details = [
        bot_display.name_md(conv.bot_name or conv.bot_slug),
        f"last active {local_time(conv.updated_at, member_timezone())}",
    ]
    if imported:
        details.append(imported)
    if conv.archived_at is not None:
        details.append("archived")
    if tags:
        details.append(organise_view.tags_line(tags))
    row.button(
        md.escape(conv.title),  # a label renders Markdown: show the title as typed
        icon=":material/view_column:"
        if conv.is_comparison
        else (message_tools.IMPORTED_ICON if imported else None),
        key=f"{styles.HISTORY_ROW_KEY_PREFIX}{conv.id}",
        type="primary" if is_open else "tertiary",
        on_click=request_open,
        args=(conv.id,),
        width="stretch",
        help=" · ".join(details),
    )
    expiry = _expiry_note(conv, rows.retention)
    if expiry:
        # Under the row, not in its tooltip: a member must see it without hovering.
        where.caption(f":material/schedule: {expiry}")
    menu = row.popover(
        _("Manage"),  # its name for screen readers; on screen the ⋮ icon says it
        icon=":material/more_vert:",
        type="tertiary",
        help=_("Manage"),
        key=organise_view.row_menu_key(conv.id),
        on_change="rerun",  # its open state is then ours to read and to close
    )
    if not menu.open:
        # Drawn only while open: 30 rows then cost two elements each, not seven,
        # in every run (the first words of an answer wait behind this page).
        return
    with menu:
        with st.form(key=f"chat_rename_form_{conv.id}", border=False):
            st.text_input(_("Title"), value=conv.title, key=Keys.history_rename(conv.id))
            st.form_submit_button(
                _("Rename"), key=f"chat_rename_{conv.id}", on_click=rename, args=(conv.id,)
            )
        st.button(
            _("Unpin") if conv.pinned else _("Pin to top"),
            key=f"chat_pin_{conv.id}",
            icon=":material/keep:",
            on_click=toggle_pin,
            args=(conv.id, not conv.pinned),
        )
        organise_view.render_row_organise(conv, rows.folders, tags, rows.known_tags)
        st.button(
            _("Delete…"),
            key=f"chat_delete_{conv.id}",
            icon=":material/delete:",
            on_click=ask_delete,
            args=(conv.id,),
        )


def render_import(where: Any) -> None:
    """A compact Import button beside the History's title, its uploader in a popover."""
    with where.popover(
        _("Import"),
        icon=":material/upload:",
        type="tertiary",
        help=_(
            "Import conversations: an aBLT Chat export, or your history from "
            "ChatGPT, Open WebUI or LibreChat"
        ),
    ):
        key = f"{IMPORT_KEY_PREFIX}{st.session_state.get(Keys.CHAT_IMPORT_ROUND, 0)}"
        st.file_uploader(
            _("An export from aBLT Chat, ChatGPT, Open WebUI or LibreChat (JSON or zip)"),
            type=["json", "zip"],
            key=key,
            on_change=import_upload,
            args=(key,),
            max_upload_size=imports_model.MAX_UPLOAD_MB,
            help=_(
                "An aBLT Chat export up to {value} MB becomes a new conversation "
                "at once. Another app's export (up to {max_upload_mb} MB) is "
                "previewed first. Nothing else changes."
            ).format(
                value=history.MAX_IMPORT_BYTES // (1024 * 1024),
                max_upload_mb=imports_model.MAX_UPLOAD_MB,
            ),
        )
        import_view.render_recent()
