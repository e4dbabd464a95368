"""The Compare page's widgets: pick 2-4 bots and their options, one prompt to
all of them, the answers side by side and live, each with its figures, Stop
all, a failed column's own Retry, the vote, and "Continue with this bot".

Rendering and callbacks only: the rules are in `webapp.compare.store` and
`webapp.compare.run`. Columns become a stack on a narrow screen (Streamlit's
columns do so by themselves under 640 px).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from ablt_core import Bot
from webapp import limits, render
from webapp.answers.admission import AnswerRefused
from webapp.answers.live import describe_wait
from webapp.auth.guard import member_action, view_action
from webapp.backend import get_answers, get_store
from webapp.bots.avatars import USER_AVATAR, avatar_for
from webapp.chat import open_chat as chat
from webapp.compare import run
from webapp.compare.store import MAX_BOTS, MIN_BOTS, Comparison, Comparisons
from webapp.conversations import context as history
from webapp.conversations.context import ConversationOptions, Message
from webapp.conversations.store import ConversationNotFound
from webapp.library import PromptNotFound, fill_template
from webapp.library.view import (
    VariablesMissing,
    entry_with_values,
    get_library,
    render_entry_picker,
)
from webapp.team import Member
from webapp.text import literal as md
from webapp.ui import flash
from webapp.ui.i18n import _
from webapp.ui.member import current_member
from webapp.ui.session import page_state
from webapp.ui.state import Keys

OPEN_PARAM = "comparison"  # the query parameter naming the open comparison
CHAT_PAGE = "views/chat.py"
POLL_EVERY = 0.1  # seconds between redraws of the live columns
SHOWN_MESSAGES = 20  # the latest messages of each column drawn
LIBRARY_WHERE = "compare"  # the library entry's fields on this page (`Keys.library_variable`)
FLASH_AREA = "compare"  # where the page's notices wait (`webapp.ui.flash`)
ALL_BOTS = "all"  # the option fields' scope shared by every bot (else a bot's slug)


@dataclass
class CompareSession:
    """What the Compare page keeps between runs besides its widgets."""

    open_id: str | None = None  # the comparison shown; None: the setup for a new one
    library_id: str | None = None  # the library entry a new comparison comes from
    prompt_back: str | None = None  # text to put back in the message box (a refusal)
    go_to_chat: bool = False  # "Continue with this bot" made a chat: open the chat page


def session() -> CompareSession:
    """This session's Compare page state."""
    return page_state(Keys.COMPARE, CompareSession)


def get_comparisons() -> Comparisons:
    return Comparisons(get_store())


def _notice(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


def show_notice() -> None:
    """The last Compare action's outcome, once."""
    flash.show(FLASH_AREA)


# ------------------------------------------------------------- callbacks


def options_from_fields(scope: str) -> ConversationOptions:
    """The options a set of fields (`scope`: `ALL_BOTS` or one bot's slug) say."""
    state = st.session_state

    def field(name: str) -> Any:
        return state.get(Keys.compare_option(scope, name))

    limited = bool(field("limit"))
    system = (field("system") or "").strip()
    return ConversationOptions(
        library_prompt_id=session().library_id,
        language=(field("language") or "").strip() or None,
        max_words=int(field("max_words") or 0) or None if limited else None,
        use_search=bool(field("search")),
        system_instruction=system or None,
    )


@member_action(FLASH_AREA)
def submit_prompt(bots: Sequence[Bot]) -> None:
    """The message box's `on_submit`: start a comparison with the picked bots,
    or send a follow-up to every column of the open one."""
    text = st.session_state.get(Keys.COMPARE_PROMPT) or ""
    member, answers, page = current_member(), get_answers(), session()
    open_id = page.open_id
    try:
        if open_id:
            run.send(answers, member, get_comparisons().get(member, open_id), text)
            return
        by_slug = {b.slug: b for b in bots}
        picked = [by_slug[s] for s in st.session_state.get(Keys.COMPARE_BOTS, []) if s in by_slug]
        per_bot = bool(st.session_state.get(Keys.COMPARE_PER_BOT))
        options = [options_from_fields(b.slug if per_bot else ALL_BOTS) for b in picked]
        comparison = run.start(
            get_comparisons(), answers, member, [(b.slug, b.name) for b in picked], options, text
        )
        page.open_id = comparison.id
    except AnswerRefused as refused:
        _notice("error", refused.reason)
        page.prompt_back = text
    except ConversationNotFound:
        _notice("error", _("That comparison no longer exists."))
    except ValueError as err:
        _notice("error", _("{problem} Your text is back in the message box.").format(problem=err))
        page.prompt_back = text
    except chat.DATABASE_ERRORS:
        _notice("error", chat.PROMPT_NOT_SAVED)
        page.prompt_back = text


@member_action(FLASH_AREA)
def apply_library_entry(entry_id: str) -> None:
    """Callback: a library entry's options fill the shared fields, its starter
    (variables filled) waits in the message box, and the comparison will
    remember the entry. Nothing is sent by itself."""
    try:
        entry, values = entry_with_values(entry_id, LIBRARY_WHERE)
    except (PromptNotFound, VariablesMissing) as err:
        _notice("error", str(err))
        return
    state, page = st.session_state, session()

    def set_field(name: str, value: object) -> None:
        state[Keys.compare_option(ALL_BOTS, name)] = value

    state[Keys.COMPARE_PER_BOT] = False
    set_field("language", entry.options.language or "")
    set_field("limit", entry.options.max_words is not None)
    if entry.options.max_words is not None:
        set_field("max_words", entry.options.max_words)
    set_field("search", entry.options.use_search)
    set_field("system", entry.system_instruction)
    page.library_id = entry.id
    if entry.starter_prompt:
        page.prompt_back = fill_template(entry.starter_prompt, values)
    _notice(
        "success",
        _("Applied “{name}”: send the prompt when ready.").format(name=md.escape(entry.name)),
    )


def render_library_picker() -> None:
    """Start a comparison from a prompt-library entry (the any-bot ones)."""
    render_entry_picker(
        [e for e in get_library().visible(current_member()) if not e.bot_slug],
        label=_("Start from a library entry (optional)"),
        key="compare_library_pick",
        where=LIBRARY_WHERE,
        button=_("Apply"),
        button_key="compare_library_apply",
        on_click=apply_library_entry,
    )


@view_action
def new_comparison() -> None:
    page = session()
    page.open_id = page.library_id = None


@view_action
def open_comparison(comparison_id: str) -> None:
    """Show that comparison on the Compare page's next run (a callback, or the
    chat page handing over a comparison picked in History)."""
    session().open_id = comparison_id


@member_action(FLASH_AREA)
def stop_all(comparison_id: str) -> None:
    member = current_member()
    try:
        run.stop_all(get_answers(), member, get_comparisons().get(member, comparison_id))
    except (ConversationNotFound, *chat.DATABASE_ERRORS):
        _notice("error", _("The answers could not be stopped; try again."))


@member_action(FLASH_AREA)
def retry_column(column_id: str) -> None:
    """A failed column asks again; the others are left as they are."""
    try:
        run.retry(get_answers(), current_member(), column_id)
    except AnswerRefused as refused:
        _notice("error", refused.reason)
    except (ConversationNotFound, *chat.DATABASE_ERRORS):
        _notice("error", _("That answer could not be started again; try once more."))


@member_action(FLASH_AREA)
def vote(comparison_id: str, column_id: str | None) -> None:
    try:
        get_comparisons().vote(current_member(), comparison_id, column_id)
    except ConversationNotFound:
        _notice("error", _("That comparison no longer exists."))


@member_action(FLASH_AREA)
def continue_with(comparison_id: str, column_id: str) -> None:
    """A normal chat from that column (a copy), opened on the chat page."""
    try:
        chat_conv = get_comparisons().continue_with(current_member(), comparison_id, column_id)
    except ConversationNotFound:
        _notice("error", _("That comparison no longer exists."))
        return
    st.session_state[Keys.CHAT_OPEN_ID] = chat_conv.id
    session().go_to_chat = True


def follow_to_chat() -> None:
    """After "Continue with this bot": open the new chat on the chat page."""
    page = session()
    if page.go_to_chat:
        page.go_to_chat = False
        st.switch_page(CHAT_PAGE)


def restore_prompt() -> None:
    """Put text kept after a refusal (or a library entry's starter) back in
    the message box; before the box is drawn."""
    page = session()
    text, page.prompt_back = page.prompt_back, None
    if text:
        st.session_state[Keys.COMPARE_PROMPT] = text


# ---------------------------------------------------------------- drawing


def render_option_fields(scope: str) -> None:
    """Language, answer length, web search and a system instruction, for
    `scope`: `ALL_BOTS` or one bot's slug."""
    left, right = st.columns(2)
    left.text_input(
        _("Language"),
        key=Keys.compare_option(scope, "language"),
        placeholder=_("The bot's default"),
        max_chars=limits.LANGUAGE_MAX_CHARS,
    )
    right.number_input(
        _("Max words"),
        limits.MAX_WORDS_MIN,
        limits.MAX_WORDS_MAX,
        value=limits.MAX_WORDS_DEFAULT,
        step=50,
        key=Keys.compare_option(scope, "max_words"),
    )
    left.toggle(_("Web search"), key=Keys.compare_option(scope, "search"))
    right.toggle(_("Limit answer length"), key=Keys.compare_option(scope, "limit"))
    st.text_area(
        _("System instruction"),
        key=Keys.compare_option(scope, "system"),
        max_chars=limits.SYSTEM_INSTRUCTION_MAX_CHARS,
        placeholder=_("Extends or overrides each bot's own instructions"),
        height=80,
    )


def render_setup(bots: Sequence[Bot]) -> None:
    """Before the first prompt: which bots, and their options."""
    render_library_picker()
    labels = chat.bot_labels(bots)
    st.multiselect(
        _("Bots to compare ({min_bots} to {max_bots})").format(
            min_bots=MIN_BOTS, max_bots=MAX_BOTS
        ),
        list(labels),
        format_func=labels.__getitem__,
        max_selections=MAX_BOTS,
        key=Keys.COMPARE_BOTS,
        placeholder=_("Pick the bots"),
    )
    picked = st.session_state.get(Keys.COMPARE_BOTS, [])
    with st.expander(_("Options"), icon=":material/tune:"):
        per_bot = st.toggle(_("Options per bot"), key=Keys.COMPARE_PER_BOT)
        if not per_bot:
            render_option_fields(ALL_BOTS)
        else:
            for slug in picked:
                st.markdown(f"**{md.escape(labels[slug])}**")
                render_option_fields(slug)
    if len(picked) < MIN_BOTS:
        st.caption(
            _("Pick {min_bots} to {max_bots} bots, then type one prompt for all of them.").format(
                min_bots=MIN_BOTS, max_bots=MAX_BOTS
            )
        )


def _answer_status(message: Message) -> None:
    if message.status == history.AnswerStatus.STOPPED:
        st.caption(_(":material/stop_circle: Stopped: the part received before Stop."))
    elif message.status in history.RETRYABLE_STATUSES:
        # A stored error may come from an imported file or the API's detail: text.
        error = md.escape(message.error) if message.error else chat.INTERRUPTED_MESSAGE
        st.error(error, icon=":material/error:")


def _draw_message(message: Message, avatar: str) -> None:
    with st.chat_message(
        message.role, avatar=avatar if message.role == "assistant" else USER_AVATAR
    ):
        if message.role == "user":
            st.markdown(render.prompt_html(message.text), unsafe_allow_html=True)
        elif message.text:
            st.markdown(render.answer_html(message.text), unsafe_allow_html=True)
        if message.role == "assistant":
            _answer_status(message)


def render_comparison(comparison: Comparison, bots_by_slug: dict[str, Bot]) -> None:
    """The columns side by side; live answers are followed together until all end."""
    member, answers = current_member(), get_answers()
    live_slots: list[tuple[Message, Any, Any]] = []
    voted = comparison.voted
    columns = st.columns(len(comparison.columns), border=True)
    # Two bots may share a name ("Omni"): a shared one is told apart by its slug.
    headings = chat.unique_labels({c.bot_slug: c.bot_name for c in comparison.columns})
    for column, conv in zip(columns, comparison.columns, strict=True):
        bot = bots_by_slug.get(conv.bot_slug)
        avatar = avatar_for(bot.avatar_url if bot else None, conv.bot_name or conv.bot_slug)
        with column:
            heading = md.escape(headings[conv.bot_slug])
            star = " :material/star:" if voted is not None and voted.id == conv.id else ""
            st.markdown(f"**{heading}**{star}")
            messages = answers.store.messages(member, conv.id, limit=SHOWN_MESSAGES).messages
            shown = messages
            for message in shown:
                if message.role == "assistant" and message.status == history.AnswerStatus.STREAMING:
                    with st.chat_message("assistant", avatar=avatar):
                        live_slots.append((message, st.empty(), st.empty()))
                    continue
                _draw_message(message, avatar)
            last = shown[-1] if shown else None
            if (
                last is None
                or last.role != "assistant"
                or last.status == history.AnswerStatus.STREAMING
            ):
                continue
            live = answers.live(last.id)
            st.caption(run.figures(last, live).caption())
            row = st.container(horizontal=True)
            if last.status in history.RETRYABLE_STATUSES:
                row.button(
                    _("Retry"),
                    key=f"compare_retry_{conv.id}",
                    type="primary",
                    on_click=retry_column,
                    args=(conv.id,),
                )
            else:
                row.button(
                    _("Best answer"),
                    key=f"compare_vote_{conv.id}",
                    icon=":material/star:",
                    type="tertiary",
                    on_click=vote,
                    args=(comparison.id, conv.id),
                    disabled=voted is not None and voted.id == conv.id,
                )
            row.button(
                _("Continue with this bot"),
                key=f"compare_continue_{conv.id}",
                icon=":material/chat:",
                type="tertiary",
                on_click=continue_with,
                args=(comparison.id, conv.id),
            )
    if live_slots:
        st.button(
            _("Stop all"),
            key="compare_stop_all",
            icon=":material/stop_circle:",
            on_click=stop_all,
            args=(comparison.id,),
        )
        follow_live(member, live_slots)
        st.rerun()  # draw the ended answers with their figures and controls


def follow_live(member: Member, slots: list[tuple[Message, Any, Any]]) -> None:
    """Redraw every live column from its answer's text until all have ended
    (in this process from memory, else from the database)."""
    answers = get_answers()
    pending = list(slots)
    while pending:
        still = []
        for message, text_slot, status_slot in pending:
            live = answers.live(message.id)
            if live is not None:
                text, ended, wait = live.text, live.done, live.wait
            else:
                row = answers.store.answer_row(member, message.id)
                if row is None:
                    continue
                text, ended, wait = row.text, row.status != history.AnswerStatus.STREAMING, None
            if text:
                text_slot.markdown(render.answer_html(text), unsafe_allow_html=True)
            if ended:
                status_slot.empty()
                continue
            status_slot.caption(describe_wait(wait, _("The bot")) if not text or wait else "…")
            still.append((message, text_slot, status_slot))
        pending = still
        if pending:
            time.sleep(POLL_EVERY)


def render_exports(comparison: Comparison) -> None:
    """Markdown (a section per column) and JSON downloads, built when clicked."""
    member, comparisons, cid = current_member(), get_comparisons(), comparison.id
    name = history.export_filename(comparison.conversation, "md").removesuffix(".md")
    with st.popover(_("Export"), icon=":material/download:"):
        st.download_button(
            _("Markdown"),
            data=lambda: comparisons.export_markdown(member, cid),
            file_name=f"{name}-comparison.md",
            mime="text/markdown",
            key="compare_export_md",
            on_click="ignore",
            icon=":material/description:",
        )
        st.download_button(
            _("JSON"),
            data=lambda: comparisons.export_json(member, cid),
            file_name=f"{name}-comparison.json",
            mime="application/json",
            key="compare_export_json",
            on_click="ignore",
            icon=":material/data_object:",
        )


def render_recent(member: Member) -> None:
    """The member's comparisons in the sidebar, newest first."""
    sidebar = st.sidebar
    sidebar.button(
        _("New comparison"), key="compare_new", icon=":material/add:", on_click=new_comparison
    )
    recent = [c for c in get_store().list_conversations(member) if c.is_comparison][:15]
    if recent:
        sidebar.caption(_("Comparisons"))
    for conv in recent:
        sidebar.button(
            md.escape(conv.title),
            key=f"compare_open_{conv.id}",
            icon=":material/view_column:",
            type="tertiary",
            on_click=open_comparison,
            args=(conv.id,),
        )
