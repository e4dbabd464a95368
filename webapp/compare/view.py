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
from typing import Any

import streamlit as st

from ablt_core import Bot
from webapp import limits, render
from webapp.answers.live import describe_wait
from webapp.backend import get_answers, get_store
from webapp.bots.avatars import avatar_for
from webapp.budgets import view as budgets_view
from webapp.chat import open_chat as chat
from webapp.compare import run
from webapp.compare.store import MAX_BOTS, MIN_BOTS, Comparison, Comparisons
from webapp.conversations import context as history
from webapp.conversations.context import ConversationOptions, Message
from webapp.conversations.store import ConversationNotFound
from webapp.library import PromptNotFound, fill_template
from webapp.library.view import entry_label, get_library
from webapp.text import literal as md
from webapp.ui.state import Keys

OPEN_PARAM = "comparison"  # the query parameter naming the open comparison
CHAT_PAGE = "views/chat.py"
POLL_EVERY = 0.1  # seconds between redraws of the live columns
SHOWN_MESSAGES = 20  # the latest messages of each column drawn
USER_AVATAR = ":material/person:"  # as in the chat


def get_comparisons() -> Comparisons:
    return Comparisons(get_store())


def _member() -> Any:
    return st.session_state[Keys.MEMBER]


def _notice(kind: str, text: str) -> None:
    st.session_state[Keys.COMPARE_NOTICE] = (kind, text)


def show_notice() -> None:
    notice = st.session_state.pop(Keys.COMPARE_NOTICE, None)
    if notice:
        kind, text = notice
        (st.error if kind == "error" else st.success)(text)


# ------------------------------------------------------------- callbacks


def options_from_fields(prefix: str) -> ConversationOptions:
    """The options a set of fields (`prefix`: shared or one bot's) say."""
    state = st.session_state
    limited = bool(state.get(f"{prefix}_limit"))
    system = (state.get(f"{prefix}_system") or "").strip()
    return ConversationOptions(
        library_prompt_id=state.get(Keys.COMPARE_LIBRARY_ID),
        language=(state.get(f"{prefix}_language") or "").strip() or None,
        max_words=int(state.get(f"{prefix}_max_words") or 0) or None if limited else None,
        use_search=bool(state.get(f"{prefix}_search")),
        system_instruction=system or None,
    )


def submit_prompt(bots: Sequence[Bot]) -> None:
    """The message box's `on_submit`: start a comparison with the picked bots,
    or send a follow-up to every column of the open one."""
    text = st.session_state.get(Keys.COMPARE_PROMPT) or ""
    member, answers = _member(), get_answers()
    open_id = st.session_state.get(Keys.COMPARE_OPEN)
    try:
        refused = budgets_view.refusal_for(member)
        if refused:
            _notice("error", refused)
            st.session_state[Keys.COMPARE_PROMPT_BACK] = text
            return
        if open_id:
            run.send(answers, member, get_comparisons().get(member, open_id), text)
            return
        by_slug = {b.slug: b for b in bots}
        picked = [by_slug[s] for s in st.session_state.get(Keys.COMPARE_BOTS, []) if s in by_slug]
        per_bot = bool(st.session_state.get("compare_per_bot"))
        options = [
            options_from_fields(f"compare_opts_{b.slug}" if per_bot else "compare_opts_all")
            for b in picked
        ]
        comparison = run.start(
            get_comparisons(), answers, member, [(b.slug, b.name) for b in picked], options, text
        )
        st.session_state[Keys.COMPARE_OPEN] = comparison.id
    except ConversationNotFound:
        _notice("error", "That comparison no longer exists.")
    except ValueError as err:
        _notice("error", f"{err} Your text is back in the message box.")
        st.session_state[Keys.COMPARE_PROMPT_BACK] = text
    except chat.DATABASE_ERRORS:
        _notice("error", chat.PROMPT_NOT_SAVED)
        st.session_state[Keys.COMPARE_PROMPT_BACK] = text


def apply_library_entry(entry_id: str) -> None:
    """Callback: a library entry's options fill the shared fields, its starter
    (variables filled) waits in the message box, and the comparison will
    remember the entry. Nothing is sent by itself."""
    try:
        entry = get_library().get(_member(), entry_id)
    except PromptNotFound as err:
        _notice("error", str(err))
        return
    values = {
        name: st.session_state.get(f"library_var_compare_{entry.id}_{name}", "")
        for name in entry.variables
    }
    missing = [name for name, value in values.items() if not value.strip()]
    if missing:
        _notice("error", "Fill in " + ", ".join(f"“{md.escape(n)}”" for n in missing) + " first.")
        return
    state, prefix = st.session_state, "compare_opts_all"
    state["compare_per_bot"] = False
    state[f"{prefix}_language"] = entry.options.language or ""
    state[f"{prefix}_limit"] = entry.options.max_words is not None
    if entry.options.max_words is not None:
        state[f"{prefix}_max_words"] = entry.options.max_words
    state[f"{prefix}_search"] = entry.options.use_search
    state[f"{prefix}_system"] = entry.system_instruction
    state[Keys.COMPARE_LIBRARY_ID] = entry.id
    if entry.starter_prompt:
        state[Keys.COMPARE_PROMPT_BACK] = fill_template(entry.starter_prompt, values)
    _notice("success", f"Applied “{md.escape(entry.name)}”: send the prompt when ready.")


def render_library_picker() -> None:
    """Start a comparison from a prompt-library entry (the any-bot ones)."""
    entries = [e for e in get_library().visible(_member()) if not e.bot_slug]
    if not entries:
        return
    labels = {e.id: entry_label(e, {}) for e in entries}
    chosen = st.selectbox(
        "Start from a library entry (optional)",
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        placeholder="Search the prompt library…",
        key="compare_library_pick",
    )
    if chosen is None:
        return
    entry = next(e for e in entries if e.id == chosen)
    for name in entry.variables:
        st.text_input(  # the author's text: escaped, a label renders Markdown
            md.escape(name), key=f"library_var_compare_{entry.id}_{name}", max_chars=2000
        )
    st.button(
        "Apply",
        key="compare_library_apply",
        icon=":material/menu_book:",
        on_click=apply_library_entry,
        args=(entry.id,),
    )


def new_comparison() -> None:
    st.session_state.pop(Keys.COMPARE_OPEN, None)
    st.session_state.pop(Keys.COMPARE_LIBRARY_ID, None)


def open_comparison(comparison_id: str) -> None:
    st.session_state[Keys.COMPARE_OPEN] = comparison_id


def stop_all(comparison_id: str) -> None:
    try:
        run.stop_all(get_answers(), _member(), get_comparisons().get(_member(), comparison_id))
    except (ConversationNotFound, *chat.DATABASE_ERRORS):
        _notice("error", "The answers could not be stopped; try again.")


def retry_column(column_id: str) -> None:
    """A failed column asks again; the others are left as they are."""
    try:
        refused = budgets_view.refusal_for(_member())
        if refused:
            _notice("error", refused)
            return
        run.retry(get_answers(), _member(), column_id)
    except (ConversationNotFound, *chat.DATABASE_ERRORS):
        _notice("error", "That answer could not be started again; try once more.")


def vote(comparison_id: str, column_id: str | None) -> None:
    try:
        get_comparisons().vote(_member(), comparison_id, column_id)
    except ConversationNotFound:
        _notice("error", "That comparison no longer exists.")


def continue_with(comparison_id: str, column_id: str) -> None:
    """A normal chat from that column (a copy), opened on the chat page."""
    try:
        chat_conv = get_comparisons().continue_with(_member(), comparison_id, column_id)
    except ConversationNotFound:
        _notice("error", "That comparison no longer exists.")
        return
    st.session_state[Keys.CHAT_OPEN_ID] = chat_conv.id
    st.session_state[Keys.COMPARE_GO_TO_CHAT] = True


def follow_to_chat() -> None:
    if st.session_state.pop(Keys.COMPARE_GO_TO_CHAT, False):
        st.switch_page(CHAT_PAGE)


def restore_prompt() -> None:
    text = st.session_state.pop(Keys.COMPARE_PROMPT_BACK, None)
    if text:
        st.session_state[Keys.COMPARE_PROMPT] = text


# ---------------------------------------------------------------- drawing


def render_option_fields(prefix: str) -> None:
    """Language, answer length, web search and a system instruction."""
    left, right = st.columns(2)
    left.text_input(
        "Language",
        key=f"{prefix}_language",
        placeholder="The bot's default",
        max_chars=limits.LANGUAGE_MAX_CHARS,
    )
    right.number_input(
        "Max words",
        limits.MAX_WORDS_MIN,
        limits.MAX_WORDS_MAX,
        value=limits.MAX_WORDS_DEFAULT,
        step=50,
        key=f"{prefix}_max_words",
    )
    left.toggle("Web search", key=f"{prefix}_search")
    right.toggle("Limit answer length", key=f"{prefix}_limit")
    st.text_area(
        "System instruction",
        key=f"{prefix}_system",
        max_chars=limits.SYSTEM_INSTRUCTION_MAX_CHARS,
        placeholder="Extends or overrides each bot's own instructions",
        height=80,
    )


def render_setup(bots: Sequence[Bot]) -> None:
    """Before the first prompt: which bots, and their options."""
    render_library_picker()
    labels = chat.bot_labels(bots)
    st.multiselect(
        f"Bots to compare ({MIN_BOTS} to {MAX_BOTS})",
        list(labels),
        format_func=labels.__getitem__,
        max_selections=MAX_BOTS,
        key=Keys.COMPARE_BOTS,
        placeholder="Pick the bots",
    )
    picked = st.session_state.get(Keys.COMPARE_BOTS, [])
    with st.expander("Options", icon=":material/tune:"):
        per_bot = st.toggle("Options per bot", key="compare_per_bot")
        if not per_bot:
            render_option_fields("compare_opts_all")
        else:
            for slug in picked:
                st.markdown(f"**{md.escape(labels[slug])}**")
                render_option_fields(f"compare_opts_{slug}")
    if len(picked) < MIN_BOTS:
        st.caption(f"Pick {MIN_BOTS} to {MAX_BOTS} bots, then type one prompt for all of them.")


def _answer_status(message: Message) -> None:
    if message.status == chat.STOPPED:
        st.caption(":material/stop_circle: Stopped: the part received before Stop.")
    elif message.status in chat.RETRYABLE_STATUSES:
        st.error(message.error or chat.INTERRUPTED_MESSAGE, icon=":material/error:")


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
    member, answers = _member(), get_answers()
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
                if message.role == "assistant" and message.status == chat.STREAMING:
                    with st.chat_message("assistant", avatar=avatar):
                        live_slots.append((message, st.empty(), st.empty()))
                    continue
                _draw_message(message, avatar)
            last = shown[-1] if shown else None
            if last is None or last.role != "assistant" or last.status == chat.STREAMING:
                continue
            live = answers.live(last.id)
            st.caption(run.figures(last, live).caption())
            row = st.container(horizontal=True)
            if last.status in chat.RETRYABLE_STATUSES:
                row.button(
                    "Retry",
                    key=f"compare_retry_{conv.id}",
                    type="primary",
                    on_click=retry_column,
                    args=(conv.id,),
                )
            else:
                row.button(
                    "Best answer",
                    key=f"compare_vote_{conv.id}",
                    icon=":material/star:",
                    type="tertiary",
                    on_click=vote,
                    args=(comparison.id, conv.id),
                    disabled=voted is not None and voted.id == conv.id,
                )
            row.button(
                "Continue with this bot",
                key=f"compare_continue_{conv.id}",
                icon=":material/chat:",
                type="tertiary",
                on_click=continue_with,
                args=(comparison.id, conv.id),
            )
    if live_slots:
        st.button(
            "Stop all",
            key="compare_stop_all",
            icon=":material/stop_circle:",
            on_click=stop_all,
            args=(comparison.id,),
        )
        follow_live(member, live_slots)
        st.rerun()  # draw the ended answers with their figures and controls


def follow_live(member: Any, slots: list[tuple[Message, Any, Any]]) -> None:
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
                text, ended, wait = row.text, row.status != chat.STREAMING, None
            if text:
                text_slot.markdown(render.answer_html(text), unsafe_allow_html=True)
            if ended:
                status_slot.empty()
                continue
            status_slot.caption(describe_wait(wait, "The bot") if not text or wait else "…")
            still.append((message, text_slot, status_slot))
        pending = still
        if pending:
            time.sleep(POLL_EVERY)


def render_exports(comparison: Comparison) -> None:
    """Markdown (a section per column) and JSON downloads, built when clicked."""
    member, comparisons, cid = _member(), get_comparisons(), comparison.id
    name = history.export_filename(comparison.conversation, "md").removesuffix(".md")
    with st.popover("Export", icon=":material/download:"):
        st.download_button(
            "Markdown",
            data=lambda: comparisons.export_markdown(member, cid),
            file_name=f"{name}-comparison.md",
            mime="text/markdown",
            key="compare_export_md",
            on_click="ignore",
            icon=":material/description:",
        )
        st.download_button(
            "JSON",
            data=lambda: comparisons.export_json(member, cid),
            file_name=f"{name}-comparison.json",
            mime="application/json",
            key="compare_export_json",
            on_click="ignore",
            icon=":material/data_object:",
        )


def render_recent(member: Any) -> None:
    """The member's comparisons in the sidebar, newest first."""
    sidebar = st.sidebar
    sidebar.button(
        "New comparison", key="compare_new", icon=":material/add:", on_click=new_comparison
    )
    recent = [c for c in get_store().list_conversations(member) if c.is_comparison][:15]
    if recent:
        sidebar.caption("Comparisons")
    for conv in recent:
        sidebar.button(
            md.escape(conv.title),
            key=f"compare_open_{conv.id}",
            icon=":material/view_column:",
            type="tertiary",
            on_click=open_comparison,
            args=(conv.id,),
        )
