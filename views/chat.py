"""Chat page: pick a bot or reopen a conversation, set its options, talk.

Answers are generated in the background (`webapp.answers`): this page sends
prompts from the message box's own callback and attaches to the answer in
progress, so a rerun, a page switch or a reload never cuts it. With the API
down, History, reading, search and export still work; only sending needs it.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from ablt_core import AbltError
from webapp import (
    bot_display,
    catalogue,
    chat,
    chat_notice,
    chat_view,
    conversation_search,
    limits,
    message_tools,
    ui,
    usage_api,
    versions_view,
)
from webapp import markdown as md
from webapp.answers import view as answers_view
from webapp.auth import require_member
from webapp.avatars import avatar_for
from webapp.backend import get_answers, get_client, get_store
from webapp.budgets import view as budgets_view
from webapp.errors import describe
from webapp.library import view as library_view
from webapp.settings import get_settings
from webapp.sharing import view as sharing_view
from webapp.state import Keys


def render() -> None:
    member = require_member()
    client = get_client()
    settings = get_settings()
    store = get_store(settings)
    answers = get_answers(settings)
    bots_problem = None
    try:
        bots = catalogue.load_bots(client)
    except AbltError as err:
        bots, bots_problem = [], describe(err)

    current = st.session_state.get(Keys.CHAT_OPEN)
    try:
        opened, notice = chat.choose_open(
            store,
            member,
            bots,
            current,
            requested_id=st.session_state.pop(Keys.CHAT_OPEN_ID, None)
            or st.query_params.get(chat.OPEN_PARAM),
            requested_slug=st.session_state.get(Keys.CHAT_BOT_SLUG),
            new_requested=bool(st.session_state.pop(Keys.CHAT_NEW_REQUESTED, False)),
            carry_options=st.session_state.pop(Keys.CHAT_CARRY_OPTIONS, None),
            alive=answers.alive_ids(),
        )
    except chat.DATABASE_ERRORS:
        # The database cannot be read: keep what this page last showed, say why.
        opened, notice = current, None
        chat_view.notify(chat.DATABASE_UNREADABLE, "error")
    if opened is not None and opened.conversation.is_comparison:
        # A comparison picked in History opens on its own page.
        st.session_state[Keys.COMPARE_OPEN] = opened.id
        st.query_params.pop(chat.OPEN_PARAM, None)
        st.session_state[Keys.CHAT_OPEN] = current if current is not opened else None
        st.switch_page("views/compare.py")
    st.session_state[Keys.CHAT_OPEN] = opened
    if opened is not None:
        # The browser tab names the open conversation (titles are plain text there).
        st.set_page_config(page_title=chat.tab_title(opened))
        st.session_state[Keys.CHAT_BOT_SLUG] = opened.conversation.bot_slug
        if opened.id:
            if st.query_params.get(chat.OPEN_PARAM) != opened.id:
                st.query_params[chat.OPEN_PARAM] = opened.id
        elif chat.OPEN_PARAM in st.query_params:
            del st.query_params[chat.OPEN_PARAM]
    if notice:
        chat_notice.hold(notice, opened)

    by_slug = {b.slug: b for b in bots}
    names = chat.bot_labels(bots)
    if bots and opened is not None:
        # The picker mirrors CHAT_BOT_SLUG (set before the widget exists this run).
        if opened.conversation.bot_slug not in by_slug:  # its bot left the catalogue
            gone = bot_display.plain_name(
                opened.conversation.bot_name or opened.conversation.bot_slug
            )
            names[opened.conversation.bot_slug] = f"{gone} (no longer listed)"
        st.session_state[Keys.CHAT_BOT_SELECT] = opened.conversation.bot_slug
        query = ""
        if len(names) > limits.BOT_PICKER_MAX_CHOICES:
            # Thousands of bots: search them rather than list them all.
            query = st.sidebar.text_input(
                "Find a bot", key=Keys.CHAT_BOT_QUERY, placeholder="Name, slug, model…"
            )
        choices, matching = catalogue.picker_slugs(bots, query, opened.conversation.bot_slug)
        st.sidebar.selectbox(
            "Bot",
            choices,
            format_func=lambda slug: names[slug],
            key=Keys.CHAT_BOT_SELECT,
            on_change=chat_view.pick_bot,
        )
        if matching > limits.BOT_PICKER_MAX_CHOICES:
            st.sidebar.caption(
                f"Showing {limits.BOT_PICKER_MAX_CHOICES} of {matching:,} matching bots: "
                "type to find others."
            )
        new_col, clear_col = st.sidebar.columns(2)
        new_col.button(
            "New chat",
            key="chat_new",
            icon=":material/add:",
            on_click=chat_view.request_new_chat,
            shortcut=chat_view.NEW_CHAT_SHORTCUT,
            help=chat_view.NEW_CHAT_HELP,
        )
        clear_col.button(
            "Clear chat",
            key="chat_clear",
            icon=":material/delete_sweep:",
            on_click=chat_view.clear_chat,
            help="Start over with the same bot and options; "
            "this conversation stays in the history.",
        )
    if opened is not None:
        try:
            chat.set_options(store, member, opened, chat_view.render_options(opened))
        except chat.DATABASE_ERRORS:
            chat_view.notify(chat.DATABASE_READ_ONLY, "error")
    chat_view.render_history(member, opened)
    chat_view.render_import()

    if bots_problem:
        # Reading needs no API: only new chats and answers do.
        ui.error_box(
            f"{bots_problem} You can still read, search and export your conversations; "
            "sending needs the API.",
            retry_key="chat_bots_retry",
        )
    chat_view.show_notice()
    chat_notice.show(opened)
    if opened is None:
        st.title("Chat")
        if bots_problem:
            st.info("Open a conversation from the History; new chats need the bot list.")
        else:
            st.info("The API lists no bots to chat with.")
        return

    bot = by_slug.get(opened.conversation.bot_slug)
    # Shown as text everywhere (cut; escaped where Markdown renders): the API's data.
    bot_name = bot_display.plain_name(
        bot.name if bot else opened.conversation.bot_name or opened.conversation.bot_slug
    )
    bot_avatar = avatar_for(
        bot.avatar_url if bot else None, bot_name, catalogue.client_base_url(client)
    )
    library_view.settle_on_chat_page()
    sharing_view.show_flash()
    heading_avatar, heading_text, heading_menu = st.columns([1, 7, 6], vertical_alignment="center")
    heading_avatar.image(bot_avatar, width=48)
    # The picker's label: two bots may share a name, the header and the message
    # box tell them apart too.
    label = names.get(opened.conversation.bot_slug, bot_name) if bot else bot_name
    heading_text.subheader(md.escape(label))
    if bot is not None:
        model = bot_display.model_md(bot.model)
        description = bot_display.description_line_md(bot.description)
        heading_text.caption(f"{model} · {description}" if description else model)
    elif not bots_problem:
        heading_text.warning("This bot is no longer in the catalogue; answers may fail.")
    with heading_text:
        message_tools.render_imported_badge(
            opened.conversation.imported_at, chat_view.member_timezone()
        )
    # Ends where the chat ends.
    with heading_menu.container(horizontal=True, horizontal_alignment="right"):
        library_view.render_chat_menu(
            opened.conversation.options, opened.conversation.bot_slug, bots
        )
        sharing_view.render_share_menu(opened.id)
        conversation_search.render_find(opened, member)
        chat_view.render_exports(member, opened)
    if opened.problem:
        st.warning(opened.problem, icon=":material/database:")

    chat_view.render_option_notes(opened)
    chat_view.restore_prompt()
    budgets_view.render_budget_status(member)  # what is left of the month's budget
    # The message box stays usable while an answer streams: a prompt sent then is
    # saved by the callback and queued behind the answer (type-ahead).
    st.chat_input(f"Message {label}", key=Keys.CHAT_PROMPT, on_submit=answers_view.submit_prompt)

    anchor, mark = st.session_state.pop(Keys.CHAT_SCROLL_ANCHOR, None) or (None, False)
    message_tools.render_page_tools(
        focus_input=bool(st.session_state.pop(Keys.CHAT_FOCUS_INPUT, False)),
        anchor=anchor,
        mark=mark,
    )
    if opened.hidden:
        st.button(
            f"Show earlier ({opened.hidden} more)",
            key="chat_show_earlier",
            icon=":material/expand_less:",
            on_click=chat_view.show_earlier,
        )
    generating = opened.generating
    ended = answers.live(generating.id) if generating is not None else None
    if generating is not None and ended is not None and ended.done:
        # Ended here, but its final save has not landed (the database refuses
        # writes): show it as it ended rather than attach again.
        opened.messages[-1] = replace(
            generating, text=ended.text, status=ended.status, error=ended.error
        )
        generating = None
    shown = opened.messages[:-1] if generating is not None else opened.messages
    versions_view.prepare(opened)
    for index, message in enumerate(shown):
        chat_view.render_message(
            message,
            chat_view.avatar_for_role(message.role, bot_avatar),
            is_last=generating is None and index == len(shown) - 1,
            editable=True,
        )
    if generating is None:
        if chat.awaiting_answer(opened) and not opened.queued:
            answers_view.render_unanswered()
        elif opened.queued and not chat.can_retry(opened):
            # A queue left behind (its worker died before starting the next).
            answers_view.start_answer()
            if answers.store.generating(member, opened.id):
                st.rerun()
        answers_view.render_queued(opened.queued)
        if chat.last_controls_shown(opened, sending=False):
            chat_view.render_last_controls(opened)
    ended = answers.live(opened.last.id) if opened.last is not None else None
    if ended is not None and ended.done:
        opened.context_omitted = ended.context_omitted
    note = chat.context_note(opened)
    if note:
        st.caption(f":material/content_cut: {note}")
    chat_view.show_send_problem()

    if generating is not None:
        answers_view.render_live(generating, bot_avatar, bot_name, queued=opened.queued)
        usage_api.forget_statistics()  # the Statistics page counts this chat at once
        # Show the finished answer settled: its status, Regenerate / Edit, Retry.
        st.rerun()


render()
