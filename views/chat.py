"""Chat page: pick a bot or reopen a conversation, set its options, talk; answers
stream in and are saved as they grow."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError
from webapp import bot_display, catalogue, chat, chat_view, limits, ui, usage_api
from webapp import markdown as md
from webapp.auth import require_member
from webapp.avatars import avatar_for
from webapp.backend import get_client, get_store
from webapp.errors import describe
from webapp.library import view as library_view
from webapp.render import stream_blocks
from webapp.settings import get_settings
from webapp.sharing import view as sharing_view
from webapp.state import Keys

PROMPT_KEY = Keys.CHAT_PROMPT


def render() -> None:
    member = require_member()
    client = get_client()
    settings = get_settings()
    store = get_store(settings)
    try:
        bots = catalogue.load_bots(client)
    except AbltError as err:
        st.title("Chat")
        ui.error_box(describe(err), retry_key="chat_bots_retry")
        return
    if not bots:
        st.title("Chat")
        st.info("The API lists no bots to chat with.")
        return

    # The URL names the open conversation, so a reload or a bookmark reopens it.
    opened, notice = chat.choose_open(
        store,
        member,
        bots,
        st.session_state.get(Keys.CHAT_OPEN),
        requested_id=st.session_state.pop(Keys.CHAT_OPEN_ID, None)
        or st.query_params.get(chat.OPEN_PARAM),
        requested_slug=st.session_state.get(Keys.CHAT_BOT_SLUG),
        new_requested=bool(st.session_state.pop(Keys.CHAT_NEW_REQUESTED, False)),
        carry_options=st.session_state.pop(Keys.CHAT_CARRY_OPTIONS, None),
    )
    st.session_state[Keys.CHAT_OPEN] = opened
    st.session_state[Keys.CHAT_BOT_SLUG] = opened.conversation.bot_slug
    if opened.id:
        if st.query_params.get(chat.OPEN_PARAM) != opened.id:
            st.query_params[chat.OPEN_PARAM] = opened.id
    elif chat.OPEN_PARAM in st.query_params:
        del st.query_params[chat.OPEN_PARAM]
    if notice:
        chat_view.notify(notice, "error")

    by_slug = {b.slug: b for b in bots}
    bot = by_slug.get(opened.conversation.bot_slug)
    # Shown as text everywhere (cut; escaped where Markdown renders): the API's data.
    bot_name = bot_display.plain_name(
        bot.name if bot else opened.conversation.bot_name or opened.conversation.bot_slug
    )
    bot_avatar = avatar_for(
        bot.avatar_url if bot else None, bot_name, catalogue.client_base_url(client)
    )

    # The picker mirrors CHAT_BOT_SLUG (set before the widget exists this run).
    names = chat.bot_labels(bots)
    if bot is None:  # a reopened conversation whose bot left the catalogue
        names[opened.conversation.bot_slug] = f"{bot_name} (no longer listed)"
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
        "New chat", key="chat_new", icon=":material/add:", on_click=chat_view.request_new_chat
    )
    clear_col.button(
        "Clear chat",
        key="chat_clear",
        icon=":material/delete_sweep:",
        on_click=chat_view.clear_chat,
        help="Start over with the same bot and options; this conversation stays in the history.",
    )
    chat.set_options(store, member, opened, chat_view.render_options(opened))
    chat_view.render_history(member, opened)
    chat_view.render_import()

    chat_view.show_notice()
    library_view.settle_on_chat_page()
    sharing_view.show_flash()
    heading_avatar, heading_text, heading_menu = st.columns([1, 8, 5], vertical_alignment="center")
    heading_avatar.image(bot_avatar, width=48)
    # The picker's label: two bots may share a name, the header and the message
    # box tell them apart too.
    label = names[opened.conversation.bot_slug] if bot else bot_name
    heading_text.subheader(md.escape(label))
    if bot is not None:
        model = bot_display.model_md(bot.model)
        description = bot_display.description_line_md(bot.description)
        heading_text.caption(f"{model} · {description}" if description else model)
    else:
        heading_text.warning("This bot is no longer in the catalogue; answers may fail.")
    # Ends where the chat ends.
    with heading_menu.container(horizontal=True, horizontal_alignment="right"):
        library_view.render_chat_menu(
            opened.conversation.options, opened.conversation.bot_slug, bots
        )
        sharing_view.render_share_menu(opened.id)
        chat_view.render_exports(member, opened)

    chat_view.render_option_notes(opened)
    chat_view.restore_prompt()
    # Read before the messages are drawn (st.chat_input sits at the bottom of the
    # page wherever the script calls it), so a send run knows from the start that
    # the last exchange's controls are not to be drawn above the new prompt.
    # "stop" turns the send button into a Stop button while the answer streams.
    prompt = st.chat_input(f"Message {label}", key=PROMPT_KEY, submit_mode="stop")
    sending = bool(prompt and prompt.strip())
    if sending:
        st.session_state.pop(Keys.CHAT_EDITING, None)

    if opened.hidden:
        st.button(
            f"Show earlier ({opened.hidden} more)",
            key="chat_show_earlier",
            icon=":material/expand_less:",
            on_click=chat_view.show_earlier,
        )
    for index, message in enumerate(opened.messages):
        chat_view.render_message(
            message,
            chat_view.avatar_for_role(message.role, bot_avatar),
            # A failed answer's Retry, too, is not offered above a new prompt.
            is_last=index == len(opened.messages) - 1 and not sending,
        )
    if chat.last_controls_shown(opened, sending=sending):
        chat_view.render_last_controls(opened)
    note = chat.context_note(opened)
    if note:
        st.caption(f":material/content_cut: {note}")

    chat_view.show_send_problem()
    if sending:
        message = chat_view.send(store, member, opened, prompt, PROMPT_KEY)
        st.query_params[chat.OPEN_PARAM] = opened.id
        chat_view.render_message(message, chat_view.USER_AVATAR, is_last=False)

    if chat.awaiting_answer(opened):
        try:
            answer = chat.stream_answer(client, store, member, opened, settings.context_limits)
        except chat.SendFailed as err:
            # The prompt is saved; any rerun (this Retry) tries the answer again.
            ui.error_box(str(err), retry_key="chat_answer_retry")
            return
        with st.chat_message("assistant", avatar=bot_avatar):
            thinking = chat_view.ThinkingIndicator(bot_name)
            try:
                # Block by block: a finished block is sent once, not with every piece.
                st.write_stream(stream_blocks(chat.on_first_piece(answer, thinking.clear)))
            finally:
                try:
                    # Stop (or the session ending) raises out of write_stream: close
                    # the generator now so the part received is saved before the run ends.
                    answer.close()
                finally:
                    thinking.clear()  # an error or a Stop before the first words
        usage_api.forget_statistics()  # the Statistics page counts this chat at once
        # Show the finished answer with its status (stopped, error + Retry).
        st.rerun()


render()
