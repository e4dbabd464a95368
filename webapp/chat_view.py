"""The chat page's widgets: history sidebar, options, bubbles and their controls.

Rendering only: every change goes through `webapp.chat` (which talks to the
store) from a widget callback, so it lands before the run that shows it.
Callbacks find the member and the open conversation in session state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from webapp import bot_display, chat, history, limits, message_tools, render, ui, versions_view
from webapp import markdown as md
from webapp.backend import get_store
from webapp.history import ConversationImportError, ConversationOptions, Message
from webapp.state import Keys
from webapp.store import ConversationNotFound

BOT_DEFAULT_LANGUAGE = "Bot's default"
OTHER_LANGUAGE = "Other…"
LANGUAGE_CHOICES = (BOT_DEFAULT_LANGUAGE, *chat.COMMON_LANGUAGES, OTHER_LANGUAGE)
HISTORY_STEP = 30  # sidebar rows shown at first and added by "Show more"
USER_AVATAR = ":material/person:"
SYSTEM_AVATAR = ":material/tune:"
SYSTEM_CAPTION = (
    ":material/tune: System message: not shown to the bot as a question; it is sent as "
    "an instruction with each prompt."
)
COPY_HELP = message_tools.COPY_LABEL
# Like ChatGPT's; not one the browser keeps for itself (Ctrl+N, Ctrl+T, Ctrl+Shift+N...).
NEW_CHAT_SHORTCUT = "Ctrl+Shift+O"
NEW_CHAT_HELP = "Start a new conversation (Ctrl+Shift+O; ⌘+Shift+O on a Mac)."


# ------------------------------------------------------------- callbacks


def _opened() -> chat.OpenChat | None:
    return st.session_state.get(Keys.CHAT_OPEN)


def notify(text: str, kind: str = "info") -> None:
    """A message for the next run to show once (callbacks cannot draw)."""
    st.session_state[Keys.CHAT_NOTICE] = (kind, text)


def show_notice() -> None:
    notice = st.session_state.pop(Keys.CHAT_NOTICE, None)
    if notice:
        kind, text = notice
        {"error": st.error, "success": st.success}.get(kind, st.info)(text)


def _guarded(action: Callable[[], Any]) -> None:
    """Run a change; a conversation gone meanwhile (another tab) is a notice."""
    try:
        action()
    except ConversationNotFound:
        notify("That conversation no longer exists.", "error")
    except ValueError as err:
        notify(str(err), "error")


def request_open(conversation_id: str) -> None:
    st.session_state[Keys.CHAT_OPEN_ID] = conversation_id
    st.session_state.pop(Keys.CHAT_EDITING, None)


def request_new_chat() -> None:
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True
    st.session_state[Keys.CHAT_FOCUS_INPUT] = True  # then the cursor waits in the message box
    st.session_state.pop(Keys.CHAT_EDITING, None)


def pick_bot() -> None:
    st.session_state[Keys.CHAT_BOT_SLUG] = st.session_state[Keys.CHAT_BOT_SELECT]


def clear_chat() -> None:
    """A fresh conversation with the same bot and options; the old one stays in history."""
    opened = _opened()
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True
    st.session_state[Keys.CHAT_FOCUS_INPUT] = True
    if opened is not None:
        st.session_state[Keys.CHAT_CARRY_OPTIONS] = opened.conversation.options


def _then_answer(change: Callable[[], Any]) -> None:
    """A change that leaves a prompt to answer, then its answer started in the background."""
    from webapp.answers import view as answers_view
    from webapp.budgets import view as budgets_view

    try:
        refused = budgets_view.refusal_for(st.session_state[Keys.MEMBER])
        if refused:  # before the change: Retry / Regenerate / Edit leave nothing half-done
            notify(refused, "error")
            return
        change()
    except ConversationNotFound:
        notify("That conversation no longer exists.", "error")
        return
    except ValueError as err:
        notify(str(err), "error")
        return
    except chat.SendFailed as err:
        notify(str(err), "error")
        return
    except chat.DATABASE_ERRORS:
        notify(chat.DATABASE_READ_ONLY, "error")
        return
    answers_view.start_answer()


def retry() -> None:
    opened = _opened()
    if opened is not None:
        _then_answer(lambda: chat.prepare_retry(get_store(), st.session_state[Keys.MEMBER], opened))


def regenerate() -> None:
    opened = _opened()
    if opened is not None:
        _then_answer(
            lambda: chat.prepare_regenerate(get_store(), st.session_state[Keys.MEMBER], opened)
        )


def start_edit() -> None:
    """Edit last message: its edit box opens in place (`versions_view`)."""
    opened = _opened()
    prompt = chat.last_prompt(opened) if opened else None
    if prompt is not None:
        versions_view.start_edit(prompt.id, prompt.text)


def send_unsent() -> None:
    """The member sends an imported prompt that was never sent (its Send button)."""
    opened = _opened()
    if opened is not None:
        _then_answer(lambda: chat.send_unsent(get_store(), st.session_state[Keys.MEMBER], opened))


def show_earlier() -> None:
    opened = _opened()
    if opened is not None:
        if opened.messages:
            # The message read first so far stays where it is (not a jump to the top).
            st.session_state[Keys.CHAT_SCROLL_ANCHOR] = (opened.messages[0].id, False)
        chat.show_earlier(opened)


def _row_menu_key(conversation_id: str) -> str:
    return f"chat_row_menu_{conversation_id}"


def close_row_menu(conversation_id: str) -> None:
    """Close a history row's ⋮ menu: its action is done."""
    st.session_state[_row_menu_key(conversation_id)] = False


def rename(conversation_id: str) -> None:
    close_row_menu(conversation_id)
    title = st.session_state.get(f"chat_rename_text_{conversation_id}", "")
    _guarded(
        lambda: chat.rename(
            get_store(), st.session_state[Keys.MEMBER], _opened(), conversation_id, title
        )
    )


def toggle_pin(conversation_id: str, pinned: bool) -> None:
    close_row_menu(conversation_id)
    _guarded(
        lambda: chat.set_pinned(
            get_store(), st.session_state[Keys.MEMBER], _opened(), conversation_id, pinned
        )
    )


def ask_delete(conversation_id: str) -> None:
    close_row_menu(conversation_id)
    st.session_state[Keys.CHAT_DELETE_PENDING] = conversation_id


def cancel_delete() -> None:
    st.session_state.pop(Keys.CHAT_DELETE_PENDING, None)


def confirm_delete(conversation_id: str) -> None:
    st.session_state.pop(Keys.CHAT_DELETE_PENDING, None)
    _guarded(lambda: chat.delete(get_store(), st.session_state[Keys.MEMBER], conversation_id))
    opened = _opened()
    if opened is not None and opened.id == conversation_id:
        st.session_state[Keys.CHAT_NEW_REQUESTED] = True


def more_history() -> None:
    st.session_state[Keys.CHAT_HISTORY_LIMIT] = (
        st.session_state.get(Keys.CHAT_HISTORY_LIMIT, HISTORY_STEP) + HISTORY_STEP
    )


def import_upload(key: str) -> None:
    """Import the uploaded export as a new conversation and open it; a bad
    file gets its reason and writes nothing."""
    upload = st.session_state.get(key)
    if upload is None:
        return
    # A new uploader key next run empties the widget for the next import.
    st.session_state[Keys.CHAT_IMPORT_ROUND] = st.session_state.get(Keys.CHAT_IMPORT_ROUND, 0) + 1
    try:
        conv = chat.import_file(get_store(), st.session_state[Keys.MEMBER], upload.getvalue())
    except ConversationImportError as err:
        notify(f"“{md.escape(upload.name)}” was not imported: {err} Nothing was changed.", "error")
        return
    request_open(conv.id)
    notify(f"Imported “{md.escape(conv.title)}”.", "success")


# ------------------------------------------------------------- the sidebar


def member_timezone() -> ZoneInfo | None:
    """The browser's time zone, so "Today" is the member's today."""
    return ui.member_timezone()


def render_history(member: Any, opened: chat.OpenChat | None) -> None:
    """Search, then the member's conversations grouped, each with its actions."""
    sidebar = st.sidebar
    sidebar.subheader("History")
    query = sidebar.text_input(
        "Search conversations",
        key=Keys.CHAT_HISTORY_QUERY,
        placeholder="Search titles and messages",
        label_visibility="collapsed",
    )
    store = get_store()
    pending = st.session_state.get(Keys.CHAT_DELETE_PENDING)
    if pending:
        try:
            doomed = store.get_conversation(member, pending)
        except ConversationNotFound:
            st.session_state.pop(Keys.CHAT_DELETE_PENDING, None)
        else:
            with sidebar.container(border=True):
                st.warning(
                    f"Delete “{md.escape(doomed.title)}” and all its messages? "
                    "This cannot be undone.",
                    icon=":material/delete:",
                )
                yes, no = st.columns(2)
                yes.button(
                    "Delete",
                    key="chat_delete_confirm",
                    type="primary",
                    on_click=confirm_delete,
                    args=(pending,),
                )
                no.button("Cancel", key="chat_delete_cancel", on_click=cancel_delete)

    try:
        sections = chat.history_sections(store, member, query, tz=member_timezone())
    except chat.DATABASE_ERRORS:
        sidebar.error(chat.DATABASE_UNREADABLE, icon=":material/database:")
        return
    if not sections:
        sidebar.caption(
            "No conversations match." if query.strip() else "No saved conversations yet."
        )
        return
    limit = st.session_state.get(Keys.CHAT_HISTORY_LIMIT, HISTORY_STEP)
    st.html(_HISTORY_ROW_STYLE)
    shown = 0
    for name, conversations in sections:
        if shown >= limit:
            break
        sidebar.caption(name)
        for conv in conversations[: limit - shown]:
            _history_row(conv, is_open=opened is not None and conv.id == opened.id)
            shown += 1
    if sum(len(c) for _, c in sections) > shown:
        sidebar.button("Show more", key="chat_history_more", on_click=more_history)


def local_time(when: datetime, tz: tzinfo | None) -> str:
    """`when` as the member reads a clock: "2026-11-30 14:05" in their zone
    (the browser's), with the zone's abbreviation; UTC when it is unknown."""
    shown = when.astimezone(tz or UTC)
    return f"{shown:%Y-%m-%d %H:%M} {shown.tzname() or ''}".rstrip()


# History titles start at the left edge, short or long (a stretched button
# centres its label by default).
_HISTORY_ROW_STYLE = (
    "<style>"
    '[class*="st-key-chat_open_"] button { justify-content: flex-start; text-align: left; }'
    '[class*="st-key-chat_open_"] button p { text-align: left; }'
    "</style>"
)


def _history_row(conv: history.Conversation, *, is_open: bool) -> None:
    title_col, menu_col = st.sidebar.columns([5, 1], vertical_alignment="center")
    imported = message_tools.imported_label(conv.imported_at, member_timezone())
    title_col.button(
        md.escape(conv.title),  # a label renders Markdown: show the title as typed
        icon=":material/view_column:"
        if conv.is_comparison
        else (message_tools.IMPORTED_ICON if imported else None),
        key=f"chat_open_{conv.id}",
        type="primary" if is_open else "tertiary",
        on_click=request_open,
        args=(conv.id,),
        width="stretch",
        help=f"{bot_display.name_md(conv.bot_name or conv.bot_slug)} · "
        f"last active {local_time(conv.updated_at, member_timezone())}"
        + (f" · {imported}" if imported else ""),
    )
    menu = menu_col.popover(
        "",
        icon=":material/more_vert:",
        type="tertiary",
        help="Manage",
        key=_row_menu_key(conv.id),
        on_change="rerun",  # its open state is then ours to read and to close
    )
    if not menu.open:
        # Drawn only while open: 30 rows then cost two elements each, not seven,
        # in every run (the first words of an answer wait behind this page).
        return
    with menu:
        with st.form(key=f"chat_rename_form_{conv.id}", border=False):
            st.text_input("Title", value=conv.title, key=f"chat_rename_text_{conv.id}")
            st.form_submit_button(
                "Rename", key=f"chat_rename_{conv.id}", on_click=rename, args=(conv.id,)
            )
        st.button(
            "Unpin" if conv.pinned else "Pin to top",
            key=f"chat_pin_{conv.id}",
            icon=":material/keep:",
            on_click=toggle_pin,
            args=(conv.id, not conv.pinned),
        )
        st.button(
            "Delete…",
            key=f"chat_delete_{conv.id}",
            icon=":material/delete:",
            on_click=ask_delete,
            args=(conv.id,),
        )


def render_import() -> None:
    with st.sidebar.expander("Import a conversation", icon=":material/upload:"):
        key = f"chat_import_{st.session_state.get(Keys.CHAT_IMPORT_ROUND, 0)}"
        st.file_uploader(
            "A JSON export from aBLT Chat",
            type=["json"],
            key=key,
            on_change=import_upload,
            args=(key,),
            help=f"Up to {history.MAX_IMPORT_BYTES // (1024 * 1024)} MB. "
            "It becomes a new conversation; nothing else changes.",
        )


def render_options(opened: chat.OpenChat) -> ConversationOptions:
    """The conversation's options as the widgets now say; keys carry its id."""
    options = opened.conversation.options
    suffix = opened.key
    with st.sidebar.expander("Conversation options", expanded=False):
        current = options.language or BOT_DEFAULT_LANGUAGE
        choice = st.selectbox(
            "Language",
            LANGUAGE_CHOICES,
            index=LANGUAGE_CHOICES.index(
                current if current in LANGUAGE_CHOICES else OTHER_LANGUAGE
            ),
            key=f"chat_language_{suffix}",
        )
        if choice == OTHER_LANGUAGE:
            typed = st.text_input(
                "Other language",
                value="" if current in LANGUAGE_CHOICES else current,
                max_chars=limits.LANGUAGE_MAX_CHARS,
                key=f"chat_language_other_{suffix}",
                placeholder="e.g. Catalan",
            )
            language = typed.strip() or None
        else:
            language = None if choice == BOT_DEFAULT_LANGUAGE else choice

        max_words = None
        if st.toggle(
            "Limit answer length", value=options.max_words is not None, key=f"chat_limit_{suffix}"
        ):
            max_words = int(
                st.number_input(
                    "Max words",
                    min_value=limits.MAX_WORDS_MIN,
                    max_value=limits.MAX_WORDS_MAX,
                    value=options.max_words or limits.MAX_WORDS_DEFAULT,
                    step=50,
                    key=f"chat_max_words_{suffix}",
                )
            )
        st.caption(
            f"The API's advice: under {chat.MAX_WORDS_CUT_BELOW} words answers get cut off; "
            f"over {chat.MAX_WORDS_SLOW_ABOVE} words regular models may time out."
        )
        use_search = st.toggle(
            "Web search",
            value=options.use_search,
            key=f"chat_search_{suffix}",
            help="A premium feature: the bot searches the web before answering.",
        )
        system = st.text_area(
            "System instruction",
            value=options.system_instruction or "",
            key=f"chat_system_{suffix}",
            # The widget keeps at most this many (in the browser and on the server),
            # so the model below never sees a longer one.
            max_chars=limits.SYSTEM_INSTRUCTION_MAX_CHARS,
            placeholder="Extends or overrides the bot's own instructions",
        )
        # A copy, so what the widgets don't show (the library entry) stays.
        chosen = options.model_copy(
            update={
                "language": language,
                "max_words": max_words,
                "use_search": use_search,
                "system_instruction": system if system.strip() else None,
            }
        )
        for note in chat.advice(chosen):
            st.warning(note, icon=":material/info:")
    return chosen


# ---------------------------------------------------------------- the chat


def render_exports(member: Any, opened: chat.OpenChat) -> None:
    """Download buttons whose files are built only when clicked (no per-run export)."""
    if opened.is_draft:
        return
    store, conv_id = get_store(), opened.id
    with st.popover("Export", icon=":material/download:"):
        st.download_button(
            "Markdown",
            data=lambda: chat.export_markdown(store, member, conv_id),
            file_name=history.export_filename(opened.conversation, "md"),
            mime="text/markdown",
            key="chat_export_md",
            on_click="ignore",
            icon=":material/description:",
        )
        st.download_button(
            "JSON (can be imported again)",
            data=lambda: chat.export_json(store, member, conv_id),
            file_name=history.export_filename(opened.conversation, "json"),
            mime="application/json",
            key="chat_export_json",
            on_click="ignore",
            icon=":material/data_object:",
        )


def avatar_for_role(role: str, bot_avatar: str) -> str:
    """The bubble's avatar: the bot's for answers, distinct ones for you and for system messages."""
    return {"assistant": bot_avatar, "system": SYSTEM_AVATAR}.get(role, USER_AVATAR)


def render_option_notes(opened: chat.OpenChat) -> None:
    """Stored options set aside on opening (outside today's limits), said once per run."""
    for note in opened.conversation.option_notes:
        st.info(note, icon=":material/tune:")


def render_message(message: Message, avatar: str, *, is_last: bool, editable: bool = False) -> None:
    """One bubble; `editable` (the chat page, not a shared copy) adds its
    versions switch and Edit, and the edit box in place of a prompt being edited."""
    with st.chat_message(message.role, avatar=avatar):
        if editable and versions_view.editing(message):
            versions_view.render_edit_box(message)
            return
        if message.role == "system":
            st.caption(SYSTEM_CAPTION)
        if message.text:
            show_text(message)
        if history.is_unsent_prompt(message):
            st.caption(f":material/upload_file: {history.UNSENT_NOTE}")
            if is_last:
                st.button(
                    "Send", key="chat_send_unsent", icon=":material/send:", on_click=send_unsent
                )
        elif message.status == chat.STOPPED:
            st.caption(
                ":material/stop_circle: Stopped: this is the part received before you stopped it."
            )
        elif message.status in chat.RETRYABLE_STATUSES:
            text = message.error or chat.INTERRUPTED_MESSAGE
            ui.error_box(text, retry_key="chat_retry" if is_last else None, on_retry=retry)
        # Its time on the member's clock, and Copy in one click (a real button).
        message_tools.render_tools(
            message.id or f"draft-{message.seq}",
            message.created_at,
            member_timezone(),
            message.text if chat.can_copy(message) else None,
        )
        if editable:
            versions_view.render_tools(message)


def show_text(message: Message) -> None:
    """A message's text as written: a prompt (or a system message, which a
    person wrote too) exactly as typed, an answer (or the welcome) as its
    Markdown, one element per block, as it was streamed."""
    if message.role in ("user", "system"):
        st.markdown(render.prompt_html(message.text), unsafe_allow_html=True)
        return
    for block in render.answer_blocks(message.text):
        st.markdown(block, unsafe_allow_html=True)


def restore_prompt() -> None:
    """Before the message box is drawn: a prompt that could not be sent goes back in it."""
    back = st.session_state.pop(Keys.CHAT_PROMPT_BACK, None)
    if back:
        input_key, text = back
        st.session_state[input_key] = text


def show_send_problem() -> None:
    problem = st.session_state.pop(Keys.CHAT_SEND_PROBLEM, None)
    if problem:
        st.error(problem, icon=":material/database:")


def render_last_controls(opened: chat.OpenChat) -> None:
    """Regenerate the last answer (the old one stays as a version); edit the last
    prompt (its edit box opens in place, `versions_view`)."""
    row = st.container(horizontal=True)
    if chat.can_regenerate(opened):
        row.button(
            "Regenerate",
            key="chat_regenerate",
            icon=":material/refresh:",
            type="tertiary",
            on_click=regenerate,
        )
    if chat.last_prompt(opened) is not None and not chat.awaiting_answer(opened):
        row.button(
            "Edit last message",
            key="chat_edit",
            icon=":material/edit:",
            type="tertiary",
            on_click=start_edit,
        )
