"""The chat's header: the bot, its picker, and the conversation's options behind a button.

Issue 11's layout: the bot picker and the options live with the conversation
they change, not in the sidebar. The options button's label lists the active
options as chips (`option_chips`), so they show at a glance and one click opens
them. On a phone the header wraps to two short lines and drops the bot's
description (`render_style`), so the first screen is the conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ablt_core import Bot
from webapp import limits
from webapp.auth.guard import member_action, view_action
from webapp.backend import get_store
from webapp.bots import catalogue
from webapp.chat import open_chat as chat
from webapp.chat.notice import NOTICE_AREA
from webapp.conversations.context import ConversationOptions
from webapp.history import organising
from webapp.text import literal as md
from webapp.ui import flash, styles
from webapp.ui.i18n import N_, _, format_number
from webapp.ui.member import current_member
from webapp.ui.state import Keys

BOT_DEFAULT_LANGUAGE = N_("Bot's default")
OTHER_LANGUAGE = "Other…"
LANGUAGE_CHOICES = (BOT_DEFAULT_LANGUAGE, *chat.COMMON_LANGUAGES, OTHER_LANGUAGE)
HEADER_KEY = styles.CHAT_HEADER_KEY  # its style (`render_style`) names it
OPTIONS_KEY = "chat_options"
OPTIONS_LABEL = N_("Options")
OPTIONS_HELP = N_("This conversation's options: language, answer length, web search, instruction")
PICKER_WIDTH_PX = 240
CHIP_LANGUAGE_MAX_CHARS = 24  # a long "Other…" language is cut in its chip


def render_style() -> None:
    """The header's layout (`webapp.ui.styles.chat_header`): room under
    Streamlit's top bar, menus not dimmed while an answer arrives, and two short
    lines without the bot's description on a phone."""
    styles.chat_header()


@view_action
def pick_bot() -> None:
    """The picker's callback: the chat page opens a conversation with the picked bot."""
    st.session_state[Keys.CHAT_BOT_SLUG] = st.session_state[Keys.CHAT_BOT_SELECT]


def option_chips(options: ConversationOptions) -> list[str]:
    """The active options as short chips (Markdown with Material icons), in the
    options panel's order: language, word limit, web search, system instruction.
    Options left at the bot's defaults give no chip."""
    chips: list[str] = []
    if options.language:
        language = options.language
        if len(language) > CHIP_LANGUAGE_MAX_CHARS:
            language = language[: CHIP_LANGUAGE_MAX_CHARS - 1] + "…"
        chips.append(f":material/translate: {md.escape(language)}")
    if options.max_words is not None:
        chips.append(
            _(":material/short_text: ≤{words} words").format(words=format_number(options.max_words))
        )
    if options.use_search:
        chips.append(_(":material/travel_explore: Web search"))
    if options.system_instruction and options.system_instruction.strip():
        chips.append(_(":material/tune: Instruction"))
    return chips


def options_label(options: ConversationOptions) -> str:
    """The options button's label: the chips, or "Options" when none is active."""
    return "  ·  ".join(option_chips(options)) or _(OPTIONS_LABEL)


def render_bot_picker(bots: Sequence[Bot], names: dict[str, str], current_slug: str) -> None:
    """The bot picker (a search box first when the catalogue is huge).

    `names` maps slug -> the label shown (two bots may share a name); the
    picker mirrors CHAT_BOT_SLUG, set before the widget exists this run.
    """
    st.session_state[Keys.CHAT_BOT_SELECT] = current_slug
    query = ""
    if len(names) > limits.BOT_PICKER_MAX_CHOICES:
        # Thousands of bots: search them rather than list them all.
        query = st.text_input(
            _("Find a bot"),
            key=Keys.CHAT_BOT_QUERY,
            placeholder=_("Name, slug, model…"),
            label_visibility="collapsed",
            width=PICKER_WIDTH_PX,
        )
    choices, matching = catalogue.picker_slugs(bots, query, current_slug)
    st.selectbox(
        _("Bot"),
        choices,
        format_func=lambda slug: names[slug],
        key=Keys.CHAT_BOT_SELECT,
        on_change=pick_bot,
        label_visibility="collapsed",
        width=PICKER_WIDTH_PX,
        help=_("The bot this conversation talks to; another bot starts a new chat"),
    )
    if matching > limits.BOT_PICKER_MAX_CHOICES:
        st.caption(
            _(
                "Showing {bot_picker_max_choices} of {matching} matching bots: type to find others."
            ).format(
                bot_picker_max_choices=limits.BOT_PICKER_MAX_CHOICES,
                matching=format_number(matching),
            )
        )


def _as_widgets_say(opened: chat.OpenChat) -> ConversationOptions:
    """The options as the widgets say before they are drawn this run (what the
    browser sent is in session state already): the label then shows a change
    in the run the change makes, not one run later."""
    options = opened.conversation.options
    state, suffix = st.session_state, opened.key
    language = options.language
    choice = state.get(f"chat_language_{suffix}")
    if choice == OTHER_LANGUAGE:
        kept = "" if (options.language or BOT_DEFAULT_LANGUAGE) in LANGUAGE_CHOICES else language
        language = str(state.get(f"chat_language_other_{suffix}", kept) or "").strip() or None
    elif choice is not None:
        language = None if choice == BOT_DEFAULT_LANGUAGE else str(choice)
    max_words = options.max_words
    if state.get(f"chat_limit_{suffix}", max_words is not None):
        max_words = int(
            state.get(f"chat_max_words_{suffix}", max_words or limits.MAX_WORDS_DEFAULT)
        )
    else:
        max_words = None
    system = str(state.get(f"chat_system_{suffix}", options.system_instruction or ""))
    return options.model_copy(
        update={
            "language": language,
            "max_words": max_words,
            "use_search": bool(state.get(f"chat_search_{suffix}", options.use_search)),
            "system_instruction": system if system.strip() else None,
        }
    )


def render_options(opened: chat.OpenChat) -> ConversationOptions:
    """The conversation's options behind a button whose label shows the active
    ones; returns them as the widgets now say (keys carry the conversation's id)."""
    options = opened.conversation.options
    suffix = opened.key
    with st.popover(
        options_label(_as_widgets_say(opened)),
        icon=":material/tune:",
        help=_(OPTIONS_HELP),
        key=OPTIONS_KEY,
    ):
        current = options.language or BOT_DEFAULT_LANGUAGE
        choice = st.selectbox(
            _("Language"),
            LANGUAGE_CHOICES,
            index=LANGUAGE_CHOICES.index(
                current if current in LANGUAGE_CHOICES else OTHER_LANGUAGE
            ),
            key=f"chat_language_{suffix}",
        )
        if choice == OTHER_LANGUAGE:
            typed = st.text_input(
                _("Other language"),
                value="" if current in LANGUAGE_CHOICES else current,
                max_chars=limits.LANGUAGE_MAX_CHARS,
                key=f"chat_language_other_{suffix}",
                placeholder=_("e.g. Catalan"),
            )
            language = typed.strip() or None
        else:
            language = None if choice == BOT_DEFAULT_LANGUAGE else choice

        max_words = None
        if st.toggle(
            _("Limit answer length"),
            value=options.max_words is not None,
            key=f"chat_limit_{suffix}",
        ):
            max_words = int(
                st.number_input(
                    _("Max words"),
                    min_value=limits.MAX_WORDS_MIN,
                    max_value=limits.MAX_WORDS_MAX,
                    value=options.max_words or limits.MAX_WORDS_DEFAULT,
                    step=50,
                    key=f"chat_max_words_{suffix}",
                )
            )
        st.caption(
            _(
                "The API's advice: under {max_words_cut_below} words answers get "
                "cut off; over {max_words_slow_above} words regular models may "
                "time out."
            ).format(
                max_words_cut_below=chat.MAX_WORDS_CUT_BELOW,
                max_words_slow_above=chat.MAX_WORDS_SLOW_ABOVE,
            )
        )
        use_search = st.toggle(
            _("Web search"),
            value=options.use_search,
            key=f"chat_search_{suffix}",
            help=_("A premium feature: the bot searches the web before answering."),
        )
        system = st.text_area(
            _("System instruction"),
            value=options.system_instruction or "",
            key=f"chat_system_{suffix}",
            # The widget keeps at most this many (in the browser and on the server),
            # so the model below never sees a longer one.
            max_chars=limits.SYSTEM_INSTRUCTION_MAX_CHARS,
            placeholder=_("Extends or overrides the bot's own instructions"),
        )
        # A copy, so what the widgets don't show (the library entry) stays.
        chosen: ConversationOptions = options.model_copy(
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


# ------------------------------------------------------------- temporary chats

TEMPORARY_LABEL = N_("Temporary")
TEMPORARY_HELP = N_(
    "A temporary chat is never saved in History: it is deleted when "
    "you open another conversation or log out (Keep this conversation "
    "saves it)."
)
TEMPORARY_NOTE = N_(
    "**Temporary chat**: not in History, and deleted when you leave it "
    "or log out. Its answers still count towards your budget."
)
KEEP_KEY = "chat_keep_temporary"


@view_action
def switch_temporary() -> None:
    """The switch: on starts a temporary chat, off a saved one (the temporary
    chat left is deleted by the page, `organising.leave_temporary`)."""
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True
    st.session_state[Keys.CHAT_TEMPORARY_NEXT] = bool(st.session_state.get(Keys.CHAT_TEMPORARY))
    st.session_state[Keys.CHAT_FOCUS_INPUT] = True


@member_action(NOTICE_AREA)
def keep_temporary() -> None:
    """ "Keep this conversation": it becomes an ordinary one, listed in History."""
    opened = st.session_state.get(Keys.CHAT_OPEN)
    if opened is None:
        return
    organising.keep(get_store(), current_member(), opened)
    flash.flash(NOTICE_AREA, _("Kept: this conversation is now in your History."), "success")


def render_temporary_switch(opened: chat.OpenChat) -> None:
    """The header's Temporary chat switch (on while a temporary chat is open)."""
    # Mirrors the open conversation, set before the widget exists this run.
    st.session_state[Keys.CHAT_TEMPORARY] = opened.conversation.temporary
    st.toggle(
        _(TEMPORARY_LABEL),
        key=Keys.CHAT_TEMPORARY,
        on_change=switch_temporary,
        help=_(TEMPORARY_HELP),
    )


def render_temporary_note(opened: chat.OpenChat) -> None:
    """A temporary chat says so, with Keep this conversation."""
    if not opened.conversation.temporary:
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.info(_(TEMPORARY_NOTE), icon=":material/visibility_off:", width="stretch")
        st.button(
            _("Keep this conversation"),
            key=KEEP_KEY,
            icon=":material/bookmark_add:",
            on_click=keep_temporary,
        )
