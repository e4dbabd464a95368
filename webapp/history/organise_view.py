"""The History's organising widgets (issue 26): folders, tags, the Archived
view and Select mode's bulk actions, and their callbacks.

Every callback that changes data is a `member_action` (the member re-read
and checked first); those that only change what this session shows are
`view_action`s. Folder names and tags are shown as typed (`webapp.text.literal`).
Each widget is a button, select box, multiselect, checkbox or toggle, so a
keyboard reaches every action with Tab (the ⋮ menu's Folder and Tags too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import partial
from typing import Any, Final

import streamlit as st

from webapp.auth.guard import member_action, view_action
from webapp.backend import get_store
from webapp.chat.notice import NOTICE_AREA
from webapp.chat.view import guarded, member_timezone, opened_chat
from webapp.conversations import organise as names
from webapp.conversations.context import Conversation
from webapp.conversations.store import Folder, FolderNotFound
from webapp.history import organising
from webapp.text import literal as md
from webapp.ui import flash, styles
from webapp.ui.i18n import N_, _, ngettext
from webapp.ui.member import current_member
from webapp.ui.state import Keys

NO_FOLDER: Final = ""  # the Folder choices' "No folder"
NO_FOLDER_LABEL: Final = N_("No folder")
NEW_FOLDER_MENU_KEY: Final = styles.NEW_FOLDER_KEY  # the New folder popover
PICK_PREFIX: Final = "history_pick_"  # + conversation id: its Select mode checkbox
ROW_FOLDER_PREFIX: Final = "history_folder_"  # + conversation id: its ⋮ menu's Folder
ROW_TAGS_PREFIX: Final = "history_tags_"  # + conversation id: its ⋮ menu's Tags
FOLDER_OPEN_PREFIX: Final = "history_open_folder_"  # + folder id: its expander
FOLDER_NAME_PREFIX: Final = "history_folder_name_"  # + folder id: its Rename box


# + conversation id: its ⋮ menu (open or not); its label hidden on screen (styles)
ROW_MENU_PREFIX: Final = styles.ROW_MENU_KEY_PREFIX


def row_menu_key(conversation_id: str) -> str:
    return f"{ROW_MENU_PREFIX}{conversation_id}"


def close_row_menu(conversation_id: str) -> None:
    """Close a History row's ⋮ menu: its action is done."""
    st.session_state[row_menu_key(conversation_id)] = False


def _run(action: Callable[[], Any]) -> None:
    """`guarded` (a gone conversation, a bad name), plus a folder gone meanwhile."""
    try:
        guarded(action)
    except FolderNotFound:
        flash.flash(NOTICE_AREA, _("That folder no longer exists."), "error")


def _done(text: str) -> None:
    flash.flash(NOTICE_AREA, text, "success")


def _plural(count: int) -> str:
    return ngettext("{count} conversation", "{count} conversations", count).format(count=count)


def folder_label(folder: Folder) -> str:
    """A folder's name as a label (literal Markdown) with its count."""
    return f"{md.escape(folder.name)} ({folder.count})"


def folder_choices(folders: Sequence[Folder]) -> tuple[list[str], dict[str, str]]:
    """The Folder select box's values ("" first: no folder) and their plain names
    (a subfolder as "Parent / Child")."""
    by_id = {f.id: f for f in folders}
    shown = {NO_FOLDER: NO_FOLDER_LABEL}
    for folder in folders:
        parent = by_id.get(folder.parent_id or "")
        shown[folder.id] = f"{parent.name} / {folder.name}" if parent else folder.name
    return list(shown), shown


def selected_ids() -> list[str]:
    """The conversations ticked in Select mode (their checkboxes' state)."""
    state = st.session_state
    return [
        str(key)[len(PICK_PREFIX) :]
        for key in list(state.keys())
        if str(key).startswith(PICK_PREFIX) and state[key]
    ]


# ------------------------------------------------------------------ callbacks: rows


@member_action(NOTICE_AREA)
def move_row(conversation_id: str) -> None:
    folder = str(st.session_state.get(f"{ROW_FOLDER_PREFIX}{conversation_id}") or "")
    _run(
        lambda: organising.move(
            get_store(), current_member(), opened_chat(), [conversation_id], folder
        )
    )


@member_action(NOTICE_AREA)
def tag_row(conversation_id: str) -> None:
    tags = list(st.session_state.get(f"{ROW_TAGS_PREFIX}{conversation_id}") or [])
    _run(lambda: organising.set_tags(get_store(), current_member(), conversation_id, tags))


@member_action(NOTICE_AREA)
def archive_row(conversation_id: str, archive: bool) -> None:
    close_row_menu(conversation_id)
    act = organising.archive if archive else organising.restore
    _run(lambda: act(get_store(), current_member(), opened_chat(), [conversation_id]))
    _done(_("Archived: find it under Archived.") if archive else _("Restored to History."))


# ------------------------------------------------------------------ callbacks: folders


@member_action(NOTICE_AREA)
def create_folder() -> None:
    name = str(st.session_state.get(Keys.HISTORY_NEW_FOLDER) or "")
    parent = str(st.session_state.get(Keys.HISTORY_NEW_FOLDER_PARENT) or "") or None

    def create() -> None:
        folder = organising.create_folder(get_store(), current_member(), name, parent)
        st.session_state[Keys.HISTORY_NEW_FOLDER] = ""
        st.session_state[NEW_FOLDER_MENU_KEY] = False  # done: the popover closes (Enter too)
        set_folder_open(folder.id, True)
        _done(_("Folder “{name}” created.").format(name=md.escape(folder.name)))

    _run(create)


@member_action(NOTICE_AREA)
def rename_folder(folder_id: str) -> None:
    name = str(st.session_state.get(f"{FOLDER_NAME_PREFIX}{folder_id}") or "")
    _run(lambda: organising.rename_folder(get_store(), current_member(), folder_id, name))


@view_action
def ask_delete_folder(folder_id: str) -> None:
    st.session_state[Keys.HISTORY_FOLDER_DELETE] = folder_id


@view_action
def cancel_delete_folder() -> None:
    st.session_state.pop(Keys.HISTORY_FOLDER_DELETE, None)


@member_action(NOTICE_AREA)
def delete_folder(folder_id: str, delete_conversations: bool) -> None:
    st.session_state.pop(Keys.HISTORY_FOLDER_DELETE, None)

    def delete() -> None:
        count = organising.delete_folder(
            get_store(),
            current_member(),
            opened_chat(),
            folder_id,
            delete_conversations=delete_conversations,
        )
        _opened_gone()
        what = "deleted" if delete_conversations else "moved to no folder"
        _done(_("Folder deleted; {count} {what}.").format(count=_plural(count), what=what))

    _run(delete)


@member_action(NOTICE_AREA)
def archive_folder(folder_id: str) -> None:
    def archive() -> None:
        count = organising.archive_folder(get_store(), current_member(), opened_chat(), folder_id)
        _done(_("{count} archived.").format(count=_plural(count)))

    _run(archive)


@member_action(NOTICE_AREA)
def archive_older() -> None:
    day = st.session_state.get(Keys.HISTORY_ARCHIVE_BEFORE)
    if not isinstance(day, date):
        return
    count = organising.archive_older_than(
        get_store(), current_member(), opened_chat(), day, member_timezone()
    )
    _done(
        _("{count} last active before {isoformat} archived.").format(
            count=_plural(count), isoformat=day.isoformat()
        )
    )


def _opened_gone() -> None:
    """The open conversation was deleted: a new chat opens."""
    opened = opened_chat()
    if opened is not None and opened.id:
        try:
            get_store().get_conversation(current_member(), opened.id)
        except LookupError:
            st.session_state[Keys.CHAT_NEW_REQUESTED] = True


# ------------------------------------------------------------------ callbacks: bulk


@view_action
def clear_selection() -> None:
    for key in list(st.session_state.keys()):
        if str(key).startswith(PICK_PREFIX):
            st.session_state[key] = False


@member_action(NOTICE_AREA)
def bulk_move() -> None:
    folder = str(st.session_state.get(Keys.HISTORY_BULK_FOLDER) or "")
    ids = selected_ids()

    def move() -> None:
        count = organising.move(get_store(), current_member(), opened_chat(), ids, folder)
        _done(_("{count} moved.").format(count=_plural(count)))

    _run(move)


@member_action(NOTICE_AREA)
def bulk_tag() -> None:
    tags = list(st.session_state.get(Keys.HISTORY_BULK_TAGS) or [])
    ids = selected_ids()

    def tag() -> None:
        count = organising.add_tags(get_store(), current_member(), ids, tags)
        st.session_state[Keys.HISTORY_BULK_TAGS] = []
        _done(_("{count} tagged.").format(count=_plural(count)))

    _run(tag)


@member_action(NOTICE_AREA)
def bulk_archive(archive: bool) -> None:
    act = organising.archive if archive else organising.restore
    count = act(get_store(), current_member(), opened_chat(), selected_ids())
    clear_selection()
    _done(f"{_plural(count)} {'archived' if archive else 'restored'}.")


@view_action
def ask_bulk_delete() -> None:
    st.session_state[Keys.HISTORY_BULK_DELETE] = selected_ids()


@view_action
def cancel_bulk_delete() -> None:
    st.session_state.pop(Keys.HISTORY_BULK_DELETE, None)


@member_action(NOTICE_AREA)
def confirm_bulk_delete() -> None:
    ids = list(st.session_state.pop(Keys.HISTORY_BULK_DELETE, None) or [])
    count = organising.delete_many(get_store(), current_member(), ids)
    clear_selection()
    _opened_gone()
    _done(_("{count} deleted.").format(count=_plural(count)))


# ------------------------------------------------------------------ widgets


def render_new_folder(where: Any, folders: Sequence[Folder]) -> None:
    """A New folder popover (its name, and optionally a folder to put it in)."""
    with (
        where.popover(
            _("New folder"),  # its name for screen readers; on screen the icon says it
            icon=":material/create_new_folder:",
            type="tertiary",
            help=_("New folder"),
            key=NEW_FOLDER_MENU_KEY,
            on_change="rerun",  # its open state is then ours to close (`create_folder`)
        ),
        st.form(key="history_new_folder_form", border=False),
    ):
        st.text_input(
            _("Folder name"),
            key=Keys.HISTORY_NEW_FOLDER,
            max_chars=names.FOLDER_NAME_MAX_CHARS,
        )
        tops = [f for f in folders if f.parent_id is None]
        if tops:
            shown = {f.id: f.name for f in tops}
            st.selectbox(
                _("Inside"),
                [NO_FOLDER, *shown],
                format_func=lambda v: shown.get(v, "(top level)"),
                key=Keys.HISTORY_NEW_FOLDER_PARENT,
            )
        st.form_submit_button(_("Create folder"), on_click=create_folder)


def render_filters(known_tags: Sequence[str], *, searching: bool) -> None:
    """The tag filter (with tags to filter by), the Archived switch, and
    "Include archived" while searching in History."""
    sidebar = st.sidebar
    if known_tags:
        sidebar.multiselect(
            _("Filter by tag"),
            known_tags,
            key=Keys.HISTORY_TAGS,
            placeholder=_("Filter by tag (all must match)"),
            label_visibility="collapsed",
        )
    row = sidebar.container(horizontal=True, gap="small")
    row.toggle(_("Archived"), key=Keys.HISTORY_ARCHIVED, help=_("Show the archived conversations"))
    if searching and not st.session_state.get(Keys.HISTORY_ARCHIVED):
        row.checkbox(_("Include archived"), key=Keys.HISTORY_INCLUDE_ARCHIVED)
    row.toggle(_("Select"), key=Keys.HISTORY_SELECT, help=_("Tick several conversations to act on"))


def render_archive_tools() -> None:
    """In the Archived view: archive everything last active before a date."""
    with st.sidebar.expander(_("Archive older conversations"), key="history_archive_older"):
        st.date_input(
            _("Last active before"),
            value=date.today() - timedelta(days=90),
            key=Keys.HISTORY_ARCHIVE_BEFORE,
        )
        st.button(_("Archive them"), key="history_archive_older_go", on_click=archive_older)


def render_pending(folders: Sequence[Folder]) -> None:
    """The questions waiting for an answer: a folder's delete, a bulk delete."""
    sidebar = st.sidebar
    folder_id = st.session_state.get(Keys.HISTORY_FOLDER_DELETE)
    doomed = next((f for f in folders if f.id == folder_id), None)
    if folder_id and doomed is None:
        st.session_state.pop(Keys.HISTORY_FOLDER_DELETE, None)
    if doomed is not None:
        with sidebar.container(border=True):
            st.warning(
                _(
                    "Delete the folder “{name}” (and its subfolders)? What happens to "
                    "its conversations?"
                ).format(name=md.escape(doomed.name)),
                icon=":material/folder_delete:",
            )
            st.button(
                _("Move them to no folder"),
                key="history_folder_delete_keep",
                on_click=delete_folder,
                args=(doomed.id, False),
            )
            st.button(
                _("Delete them too"),
                key="history_folder_delete_all",
                type="primary",
                on_click=delete_folder,
                args=(doomed.id, True),
            )
            st.button(
                _("Cancel"), key="history_folder_delete_cancel", on_click=cancel_delete_folder
            )
    bulk = st.session_state.get(Keys.HISTORY_BULK_DELETE)
    if bulk:
        with sidebar.container(border=True):
            st.warning(
                _("Delete {plural} and all their messages? This cannot be undone.").format(
                    plural=_plural(len(bulk))
                ),
                icon=":material/delete:",
            )
            yes, no = st.columns(2)
            yes.button(
                _("Delete {bulk}").format(bulk=len(bulk)),
                key="history_bulk_delete_confirm",
                type="primary",
                on_click=confirm_bulk_delete,
            )
            no.button(_("Cancel"), key="history_bulk_delete_cancel", on_click=cancel_bulk_delete)


def render_bulk_bar(
    folders: Sequence[Folder], known_tags: Sequence[str], *, archived: bool
) -> None:
    """Select mode's actions on the ticked conversations: Move, Tag, Archive
    (Restore in the Archived view), Export, Delete…."""
    ids = selected_ids()
    with st.sidebar.container(border=True, key="history_bulk"):
        st.caption(
            _("{plural} selected").format(plural=_plural(len(ids)))
            if ids
            else _("Tick conversations below.")
        )
        if not ids:
            return
        values, shown = folder_choices(folders)
        move_row_ = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
        move_row_.selectbox(
            _("Move to"),
            values,
            format_func=shown.__getitem__,
            key=Keys.HISTORY_BULK_FOLDER,
            width="stretch",
        )
        move_row_.button(_("Move"), key="history_bulk_move", on_click=bulk_move)
        tag_row_ = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
        tag_row_.multiselect(
            _("Add tags"),
            known_tags,
            key=Keys.HISTORY_BULK_TAGS,
            accept_new_options=True,
            max_selections=names.MAX_TAGS_PER_CONVERSATION,
            width="stretch",
        )
        tag_row_.button(_("Tag"), key="history_bulk_tag", on_click=bulk_tag)
        actions = st.container(horizontal=True, gap="small")
        actions.button(
            _("Restore") if archived else _("Archive"),
            key="history_bulk_archive",
            icon=":material/unarchive:" if archived else ":material/archive:",
            on_click=bulk_archive,
            args=(not archived,),
        )
        member = current_member()
        actions.download_button(
            _("Export"),
            data=partial(organising.export_zip, get_store(), member, tuple(ids)),
            file_name=organising.EXPORT_ZIP_NAME,
            mime="application/zip",
            key="history_bulk_export",
            icon=":material/download:",
            on_click="ignore",
        )
        actions.button(
            _("Delete…"),
            key="history_bulk_delete",
            icon=":material/delete:",
            on_click=ask_bulk_delete,
        )
        actions.button(
            _("Clear"), key="history_bulk_clear", type="tertiary", on_click=clear_selection
        )


def render_folder_menu(folder: Folder) -> None:
    """Inside an open folder: Rename, Archive all, Delete…."""
    with st.popover(
        _("Manage folder"),
        icon=":material/more_horiz:",
        type="tertiary",
        key=f"history_fm_{folder.id}",
    ):
        with st.form(key=f"history_folder_rename_{folder.id}", border=False):
            st.text_input(
                _("Name"),
                value=folder.name,
                key=f"{FOLDER_NAME_PREFIX}{folder.id}",
                max_chars=names.FOLDER_NAME_MAX_CHARS,
            )
            st.form_submit_button(_("Rename"), on_click=rename_folder, args=(folder.id,))
        st.button(
            _("Archive all"),
            key=f"history_folder_archive_{folder.id}",
            icon=":material/archive:",
            on_click=archive_folder,
            args=(folder.id,),
        )
        st.button(
            _("Delete folder…"),
            key=f"history_folder_delete_{folder.id}",
            icon=":material/folder_delete:",
            on_click=ask_delete_folder,
            args=(folder.id,),
        )


def folder_open(folder: Folder) -> bool:
    """Whether a folder is shown open. Kept apart from its expander's own
    state: the expander's label carries the count, and a new label makes a
    new expander, which opens as this says (`expanded=`)."""
    return folder.id in st.session_state.get(Keys.HISTORY_OPEN_FOLDERS, set())


def set_folder_open(folder_id: str, is_open: bool) -> None:
    shown: set[str] = set(st.session_state.get(Keys.HISTORY_OPEN_FOLDERS, set()))
    if is_open:
        shown.add(folder_id)
    else:
        shown.discard(folder_id)
    st.session_state[Keys.HISTORY_OPEN_FOLDERS] = shown


@view_action
def toggle_folder(folder_id: str) -> None:
    """A folder's expander opened or closed: remember it (`folder_open`)."""
    set_folder_open(folder_id, bool(st.session_state.get(f"{FOLDER_OPEN_PREFIX}{folder_id}")))


def render_row_organise(
    conv: Conversation,
    folders: Sequence[Folder],
    tags: Sequence[str],
    known_tags: Sequence[str],
) -> None:
    """A row's ⋮ menu, organising part: its Folder, its Tags, Archive/Restore."""
    values, shown = folder_choices(folders)
    # The stored values, set before the widgets exist: a change made elsewhere
    # (Select mode, another tab) shows here too.
    state = st.session_state
    state[f"{ROW_FOLDER_PREFIX}{conv.id}"] = (
        conv.folder_id if conv.folder_id in shown else NO_FOLDER
    )
    state[f"{ROW_TAGS_PREFIX}{conv.id}"] = list(tags)
    st.selectbox(
        _("Folder"),
        values,
        format_func=shown.__getitem__,
        key=f"{ROW_FOLDER_PREFIX}{conv.id}",
        on_change=move_row,
        args=(conv.id,),
    )
    st.multiselect(
        _("Tags"),
        sorted({*known_tags, *tags}),
        key=f"{ROW_TAGS_PREFIX}{conv.id}",
        on_change=tag_row,
        args=(conv.id,),
        accept_new_options=True,
        max_selections=names.MAX_TAGS_PER_CONVERSATION,
        placeholder=_("Choose or type tags"),
    )
    archived = conv.archived_at is not None
    st.button(
        _("Restore to History") if archived else _("Archive"),
        key=f"history_archive_{conv.id}",
        icon=":material/unarchive:" if archived else ":material/archive:",
        on_click=archive_row,
        args=(conv.id, not archived),
    )


def tags_line(tags: Sequence[str]) -> str:
    """A row's tags for its tooltip, as text."""
    return " ".join(f"#{md.escape(t)}" for t in tags)
