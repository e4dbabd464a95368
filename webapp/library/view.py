"""The prompt library's widgets: the Prompts page's list and form, and the chat
header's "Library" menu (start a chat from an entry, save the chat's options).

Rendering and callbacks only; the rules live in `webapp.library.prompts`.
Starting a chat from an entry asks for its `{{variables}}` first, then opens a
new conversation with the entry's bot (if it names one) and options, with the
filled starter prompt waiting in the message box: nothing is sent by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import streamlit as st

from ablt_core import Bot
from webapp.auth.guard import member_action
from webapp.backend import get_store
from webapp.bots import display as bot_display
from webapp.conversations.context import ConversationOptions
from webapp.groups import view as groups_view
from webapp.library.prompts import (
    LibraryPrompt,
    PromptLibrary,
    PromptNotFound,
    entry_options,
    fill_template,
    unasked_note,
)
from webapp.limits import LIBRARY_MAX_VARIABLES
from webapp.team import Member
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import _
from webapp.ui.member import current_member
from webapp.ui.session import page_state
from webapp.ui.state import Keys

ANY_BOT = ""  # the bot picker's value for "any bot"
ENTRIES_SHOWN = 20  # the Prompts page's cards at first, and added by each "Show more"
ENTRIES_WINDOW = "library_entries"  # that list's name for `webapp.ui.window`
LANGUAGE_DEFAULT = ""  # the language field left empty: the bot's default
CHAT_PAGE = "views/chat.py"
FLASH_AREA = "library"  # where library actions' outcomes wait (`webapp.ui.flash`)


@dataclass
class LibrarySession:
    """What the prompt library keeps between runs besides its widgets (the
    Prompts page and the chat's Library menu)."""

    # (where, entry id) -> why "Start a chat" was refused (variables left empty);
    # said under that button until it is pressed again.
    missing: dict[tuple[str, str], str] = field(default_factory=dict)
    go_to_chat: bool = False  # a chat was started from an entry: open the chat page
    # The entry whose variables' fields the Prompts page draws (the one being
    # started): only its fields, so a list of entries never draws every entry's.
    starting: str | None = None


def session() -> LibrarySession:
    """This session's prompt-library state."""
    return page_state(Keys.LIBRARY, LibrarySession)


def get_library() -> PromptLibrary:
    """The library over this process's conversation store."""
    return PromptLibrary(get_store())


def _flash(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


def render_entry_picker(
    entries: Sequence[LibraryPrompt],
    *,
    label: str,
    key: str,
    where: str,
    button: str,
    button_key: str,
    on_click: Callable[[str], None],
) -> None:
    """A prompt-library entry picked from `entries` (a searchable select labelled
    `label`, widget key `key`), the fields of its variables (keys
    `Keys.library_variable(where, ...)`, read back by `entry_with_values`),
    and a button `button` that calls `on_click(entry_id)`: the picker of
    Compare, the arena and evaluation sets. Draws nothing without entries."""
    if not entries:
        return
    labels = {e.id: entry_label(e, {}) for e in entries}
    chosen = st.selectbox(
        label,
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder=_("Search the prompt library…"),
        key=key,
    )
    if chosen is None:
        return
    entry = next(e for e in entries if e.id == chosen)
    for name in entry.variables:
        st.text_input(  # the author's text: escaped, a label renders Markdown
            md.escape(name),
            key=Keys.library_variable(where, entry.id, name),
            max_chars=2000,
        )
    st.button(
        button, key=button_key, icon=":material/menu_book:", on_click=on_click, args=(entry.id,)
    )


class VariablesMissing(ValueError):
    """Some of a library entry's variables were left blank; the message names
    them ("Fill in “city”, “days” first.")."""


def entry_with_values(entry_id: str, where: str) -> tuple[LibraryPrompt, dict[str, str]]:
    """The member's library entry `entry_id` and what was typed for each of its
    variables in the fields drawn at `where` (`Keys.library_variable`), for a
    callback that uses the entry (a chat, a comparison, the arena, an
    evaluation set). Raises `PromptNotFound` (not the member's, or gone) and
    `VariablesMissing` (a variable blank); the callback shows the message."""
    entry = get_library().get(current_member(), entry_id)
    values: dict[str, str] = {
        name: str(st.session_state.get(Keys.library_variable(where, entry.id, name), ""))
        for name in entry.variables
    }
    missing = [name for name, value in values.items() if not value.strip()]
    if missing:
        raise VariablesMissing(
            _("Fill in {fields} first.").format(
                fields=", ".join(_("“{name}”").format(name=md.escape(n)) for n in missing)
            )
        )
    return entry, values


def saved_message(entry: LibraryPrompt, where: str = "") -> str:
    """ "Saved “name”." and, when some `{{...}}` of its starter are not asked
    for, the sentence naming them (`unasked_note`)."""
    text = f"Saved “{md.escape(entry.name)}”{' ' + where if where else ''}."
    note = unasked_note(entry.starter_prompt)
    return f"{text} {note}" if note else text


def show_flash() -> None:
    """The result of the last library action, once."""
    flash.show(FLASH_AREA)


def entry_label(entry: LibraryPrompt, bots_by_slug: dict[str, Bot]) -> str:
    """One line naming an entry for pickers: name, bot, and whose it is."""
    bot = bots_by_slug.get(entry.bot_slug or "")
    # The bot's name is the API's data: cut for display (callers escape it for Markdown).
    bot_name = bot_display.plain_name(bot.name) if bot else entry.bot_slug
    parts = [entry.name, f"for {bot_name}" if entry.bot_slug else ""]
    prefix = "📌 " if entry.pinned else ""
    suffix = " (team)" if entry.shared else " (private)"
    return prefix + " · ".join(p for p in parts if p) + suffix


def option_facts(options: ConversationOptions) -> list[str]:
    """The options an entry sets, as short phrases ("language French", ...)."""
    facts = []
    if options.language:
        facts.append(f"language {md.escape(options.language)}")
    if options.max_words:
        facts.append(f"max {options.max_words:,} words")
    if options.use_search:
        facts.append("web search")
    return facts


# ------------------------------------------------------------ start a chat


@member_action(FLASH_AREA)
def start_chat(entry_id: str, where: str) -> None:
    """Callback: a new conversation from the entry, its starter (variables
    filled) waiting in the message box, then the chat page."""
    library = session()
    try:
        entry, values = entry_with_values(entry_id, where)
    except PromptNotFound as err:
        _flash("error", str(err))
        return
    except VariablesMissing as missing:
        library.starting = entry_id  # its fields are drawn from now
        # Said under the button, and kept until it is pressed again: a banner at
        # the top would vanish on the next field's rerun and move the fields.
        library.missing[where, entry_id] = str(missing)
        return
    refused = _bot_refused(entry)
    if refused:  # a crafted event for a greyed-out entry: nothing is started
        _flash("error", refused)
        return
    library.missing.pop((where, entry.id), None)
    library.starting = None
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True
    st.session_state[Keys.CHAT_CARRY_OPTIONS] = entry_options(entry)
    if entry.bot_slug:
        st.session_state[Keys.CHAT_BOT_SLUG] = entry.bot_slug
    if entry.starter_prompt:
        st.session_state[Keys.CHAT_PROMPT_BACK] = (
            Keys.CHAT_PROMPT,
            fill_template(entry.starter_prompt, values),
        )
    library.go_to_chat = True


def follow_to_chat() -> None:
    """After `start_chat` ran from a page other than Chat: go there."""
    library = session()
    if library.go_to_chat:
        library.go_to_chat = False
        st.switch_page(CHAT_PAGE)


def settle_on_chat_page() -> None:
    """On the chat page: a chat started from its own Library menu is already
    here (no page to switch to); show what the last library action did."""
    session().go_to_chat = False
    show_flash()


def _bot_refused(entry: LibraryPrompt) -> str | None:
    """Why the member may not start a chat from `entry` (its bot is not for
    their groups: `webapp.groups`), else None."""
    if not entry.bot_slug:
        return None
    access = groups_view.current_access(current_member())
    return groups_view.why_not(access, entry.bot_slug, entry.bot_slug)


def render_start_form(entry: LibraryPrompt, where: str, *, fields: bool = True) -> None:
    """The button that starts a chat from the entry and, with `fields`, its
    variables as fields (at most `LIBRARY_MAX_VARIABLES`, `entry.variables`).
    Without `fields` the first press asks for them (`start_chat`)."""
    if fields:
        for name in entry.variables:
            # A name is the author's text: a label renders Markdown, so it is escaped.
            st.text_input(
                md.escape(name), key=Keys.library_variable(where, entry.id, name), max_chars=2000
            )
        note = unasked_note(entry.starter_prompt)
        if note:
            st.caption(note)
    refused = _bot_refused(entry)
    if refused:  # greyed out, with why
        st.caption(_(":material/lock: {refused}").format(refused=refused))
    st.button(
        _("Start a chat with it"),
        key=f"library_start_{where}_{entry.id}",
        icon=":material/play_arrow:",
        type="primary",
        on_click=start_chat,
        args=(entry.id, where),
        disabled=refused is not None,
    )
    problem = session().missing.get((where, entry.id))
    if problem:
        st.error(problem, icon=":material/edit_note:")


# ---------------------------------------------------------- the chat's menu


@member_action(FLASH_AREA)
def save_from_chat(options: ConversationOptions, bot_slug: str) -> None:
    """Callback: the chat's current options as a new library entry."""
    name = st.session_state.get(Keys.LIBRARY_SAVE_NAME, "")
    starter = st.session_state.get(Keys.LIBRARY_SAVE_STARTER, "")
    try:
        entry = get_library().create(
            current_member(),
            name,
            system_instruction=options.system_instruction or "",
            starter_prompt=starter,
            options=options,
            bot_slug=bot_slug if st.session_state.get(Keys.LIBRARY_SAVE_THIS_BOT) else None,
            shared=bool(st.session_state.get(Keys.LIBRARY_SAVE_SHARED)),
        )
    except ValueError as err:
        _flash("error", str(err))
        return
    _flash("success", saved_message(entry, "in the prompt library"))


def render_chat_menu(options: ConversationOptions, bot_slug: str, bots: Sequence[Bot]) -> None:
    """The chat header's "Library" popover: pick an entry (searchable, this
    bot's and any-bot entries) to start a chat with it, or save these options."""
    by_slug = {b.slug: b for b in bots}
    with st.popover(_("Library"), icon=":material/menu_book:", help=_("The team's prompt library")):
        entries = [
            e for e in get_library().visible(current_member()) if e.bot_slug in (None, "", bot_slug)
        ]
        labels = {e.id: entry_label(e, by_slug) for e in entries}
        if entries:
            chosen = st.selectbox(
                _("Start from a library entry"),
                list(labels),
                index=None,
                format_func=labels.__getitem__,
                placeholder=_("Search the library…"),
                key="library_chat_pick",
            )
            if chosen is not None:
                render_start_form(next(e for e in entries if e.id == chosen), "chat")
        else:
            st.caption(_("No library entries for this bot yet."))
        st.divider()
        with st.form("library_save_form", border=False, clear_on_submit=True):
            st.caption(_("Save this chat's options (language, max words, search, instruction)"))
            st.text_input(_("Name"), key=Keys.LIBRARY_SAVE_NAME, max_chars=200)
            st.text_area(
                _("Starter prompt (optional; {{variables}} are asked for)"),
                key=Keys.LIBRARY_SAVE_STARTER,
                max_chars=20_000,
            )
            st.checkbox(_("Only for this bot"), key=Keys.LIBRARY_SAVE_THIS_BOT)
            st.checkbox(_("Share with the team"), key=Keys.LIBRARY_SAVE_SHARED)
            st.form_submit_button(
                _("Save to library"), on_click=save_from_chat, args=(options, bot_slug)
            )


# ---------------------------------------------------------- the Prompts page


@member_action(FLASH_AREA)
def create_from_form() -> None:
    """Callback of the Prompts page's "New entry" form."""
    state = st.session_state
    max_words = state.get(Keys.LIBRARY_NEW_MAX_WORDS) if state.get(Keys.LIBRARY_NEW_LIMIT) else None
    try:
        options = ConversationOptions(
            language=(state.get(Keys.LIBRARY_NEW_LANGUAGE) or "").strip() or None,
            max_words=int(max_words) if max_words else None,
            use_search=bool(state.get(Keys.LIBRARY_NEW_SEARCH)),
        )
        entry = get_library().create(
            current_member(),
            state.get(Keys.LIBRARY_NEW_NAME, ""),
            system_instruction=state.get(Keys.LIBRARY_NEW_SYSTEM, ""),
            starter_prompt=state.get(Keys.LIBRARY_NEW_STARTER, ""),
            options=options,
            bot_slug=state.get(Keys.LIBRARY_NEW_BOT) or None,
            shared=bool(state.get(Keys.LIBRARY_NEW_SHARED)),
        )
    except ValueError as err:
        _flash("error", str(err))
        return
    _flash("success", saved_message(entry))


@member_action(FLASH_AREA)
def set_shared(entry_id: str, shared: bool) -> None:
    """Callback: share an own entry with the team, or make it private again."""
    try:
        get_library().set_shared(current_member(), entry_id, shared)
    except (PromptNotFound, PermissionError) as err:
        _flash("error", str(err))


@member_action(FLASH_AREA)
def delete_entry(entry_id: str) -> None:
    """Callback: delete an own entry for everyone."""
    try:
        get_library().delete(current_member(), entry_id)
    except (PromptNotFound, PermissionError) as err:
        _flash("error", str(err))


@member_action(FLASH_AREA, admin=True)
def set_pinned(entry_id: str, pinned: bool) -> None:
    """Callback (admins): pin a shared entry for the team, or unpin it."""
    try:
        get_library().set_pinned(current_member(), entry_id, pinned)
    except (PromptNotFound, PermissionError) as err:
        _flash("error", str(err))


def render_new_form(bots: Sequence[Bot]) -> None:
    names = {
        ANY_BOT: _("Any bot"),
        **{
            b.slug: f"{bot_display.plain_name(b.name)} ({bot_display.plain_slug(b.slug)})"
            for b in bots
        },
    }
    with (
        st.expander(_("New library entry"), icon=":material/add:"),
        st.form("library_new_form", border=False, clear_on_submit=True),
    ):
        st.text_input(_("Name"), key=Keys.LIBRARY_NEW_NAME, max_chars=200)
        st.text_area(
            _("System instruction"),
            key=Keys.LIBRARY_NEW_SYSTEM,
            max_chars=50_000,
            placeholder=_("Extends or overrides the bot's own instructions"),
        )
        st.text_area(
            _("Starter prompt"),
            key=Keys.LIBRARY_NEW_STARTER,
            max_chars=20_000,
            placeholder=_("e.g. Write a friendly reply to {{customer}} about {{topic}}."),
            help=_(
                "Words in double braces are asked for when the entry is used (up "
                "to {library_max_variables}); saving names any that will stay as "
                "typed."
            ).format(library_max_variables=LIBRARY_MAX_VARIABLES),
        )
        left, right = st.columns(2)
        left.selectbox(
            _("Bot"), list(names), format_func=names.__getitem__, key=Keys.LIBRARY_NEW_BOT
        )
        right.text_input(
            _("Language"), key=Keys.LIBRARY_NEW_LANGUAGE, placeholder=_("The bot's default")
        )
        left.checkbox(_("Limit answer length"), key=Keys.LIBRARY_NEW_LIMIT)
        right.number_input(
            _("Max words"), 1, 20_000, value=300, step=50, key=Keys.LIBRARY_NEW_MAX_WORDS
        )
        left.checkbox(_("Web search"), key=Keys.LIBRARY_NEW_SEARCH)
        right.checkbox(_("Share with the team"), key=Keys.LIBRARY_NEW_SHARED)
        st.form_submit_button(_("Save"), type="primary", on_click=create_from_form)


def render_entry(entry: LibraryPrompt, member: Member, bots_by_slug: dict[str, Bot]) -> None:
    """One entry as a card: what it sets, and what this member may do with it."""
    with st.container(border=True):
        st.markdown(f"**{md.escape(entry_label(entry, bots_by_slug))}**")
        st.caption(" · ".join([f"by {md.escape(entry.owner)}", *option_facts(entry.options)]))
        if entry.system_instruction:
            st.caption(_("System instruction"))
            st.code(entry.system_instruction, language=None, wrap_lines=True)
        if entry.starter_prompt:
            st.caption(_("Starter prompt"))
            st.code(entry.starter_prompt, language=None, wrap_lines=True)
        # Only the entry being started draws its fields: a list of entries with
        # many variables each would otherwise draw them all on every run.
        starting = session().starting == entry.id
        render_start_form(entry, "page", fields=starting or not entry.variables)
        row = st.container(horizontal=True)
        if entry.owner == member.username:
            row.button(
                _("Make private") if entry.shared else _("Share with the team"),
                key=f"library_share_{entry.id}",
                icon=":material/group:",
                type="tertiary",
                on_click=set_shared,
                args=(entry.id, not entry.shared),
            )
            with row.popover(_("Delete…"), icon=":material/delete:", type="tertiary"):
                st.caption(
                    _("Delete this entry for everyone? Chats started from it keep their options.")
                )
                st.button(
                    _("Delete"),
                    key=f"library_delete_{entry.id}",
                    type="primary",
                    on_click=delete_entry,
                    args=(entry.id,),
                )
        if member.is_admin and entry.shared:
            row.button(
                _("Unpin") if entry.pinned else _("Pin for the team"),
                key=f"library_pin_{entry.id}",
                icon=":material/keep:",
                type="tertiary",
                on_click=set_pinned,
                args=(entry.id, not entry.pinned),
            )
