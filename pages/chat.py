"""Chat page: pick a bot, set the conversation's options, talk; answers stream in."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError, Bot
from webapp import catalogue, chat, ui
from webapp.auth import require_member
from webapp.avatars import avatar_for, has_image
from webapp.backend import get_client
from webapp.errors import describe
from webapp.state import Keys

BOT_DEFAULT_LANGUAGE = "Bot's default"
OTHER_LANGUAGE = "Other…"
LANGUAGE_CHOICES = (BOT_DEFAULT_LANGUAGE, *chat.COMMON_LANGUAGES, OTHER_LANGUAGE)


def conversation() -> chat.Conversation:
    return st.session_state[Keys.CHAT_CONVERSATION]


def pick_bot() -> None:
    st.session_state[Keys.CHAT_BOT_SLUG] = st.session_state[Keys.CHAT_BOT_SELECT]


def request_new_chat() -> None:
    st.session_state[Keys.CHAT_NEW_REQUESTED] = True


def clear_chat(bot: Bot) -> None:
    st.session_state[Keys.CHAT_CONVERSATION] = chat.clear_conversation(conversation(), bot)


def retry() -> None:
    chat.prepare_retry(conversation())


def render_options(conv: chat.Conversation) -> None:
    """The conversation's options; keys carry its id so each keeps its own."""
    options = conv.options
    suffix = conv.id
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
                key=f"chat_language_other_{suffix}",
                placeholder="e.g. Catalan",
            )
            options.language = typed.strip() or None
        else:
            options.language = None if choice == BOT_DEFAULT_LANGUAGE else choice

        limit = st.toggle(
            "Limit answer length",
            value=options.max_words is not None,
            key=f"chat_limit_{suffix}",
        )
        if limit:
            options.max_words = int(
                st.number_input(
                    "Max words",
                    min_value=1,
                    max_value=20_000,
                    value=options.max_words or 300,
                    step=50,
                    key=f"chat_max_words_{suffix}",
                )
            )
        else:
            options.max_words = None
        st.caption(
            f"The API's advice: under {chat.MAX_WORDS_CUT_BELOW} words answers get cut off; "
            f"over {chat.MAX_WORDS_SLOW_ABOVE} words regular models may time out."
        )

        options.use_search = st.toggle(
            "Web search",
            value=options.use_search,
            key=f"chat_search_{suffix}",
            help="A premium feature: the bot searches the web before answering.",
        )
        for note in options.advice():
            st.warning(note, icon=":material/info:")

        system = st.text_area(
            "System instruction",
            value=options.system_instruction or "",
            key=f"chat_system_{suffix}",
            placeholder="Extends or overrides the bot's own instructions",
        )
        options.system_instruction = system if system.strip() else None


def render_message(message: chat.ChatMessage, avatar: str, *, is_last: bool) -> None:
    with st.chat_message(message.role, avatar=avatar):
        if message.text:
            st.markdown(chat.display_text(message.text))
        if message.status == chat.STOPPED:
            st.caption(
                ":material/stop_circle: Stopped: this is the part received before you stopped it."
            )
        if message.status in chat.RETRYABLE_STATUSES and message.error:
            ui.error_box(
                message.error,
                retry_key="chat_retry" if is_last else None,
                on_retry=retry,
            )


def render() -> None:
    member = require_member()
    client = get_client()
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

    conv = chat.choose_conversation(
        st.session_state.get(Keys.CHAT_CONVERSATION),
        st.session_state.get(Keys.CHAT_BOT_SLUG),
        bool(st.session_state.pop(Keys.CHAT_NEW_REQUESTED, False)),
        bots,
    )
    st.session_state[Keys.CHAT_CONVERSATION] = conv
    st.session_state[Keys.CHAT_BOT_SLUG] = conv.bot_slug
    chat.settle_interrupted(conv)
    bot = next(b for b in bots if b.slug == conv.bot_slug)
    bot_avatar = avatar_for(bot.avatar_url)

    # The picker mirrors CHAT_BOT_SLUG (set before the widget exists this run).
    st.session_state[Keys.CHAT_BOT_SELECT] = conv.bot_slug
    names = chat.bot_labels(bots)
    st.sidebar.selectbox(
        "Bot",
        list(names),
        format_func=lambda slug: names[slug],
        key=Keys.CHAT_BOT_SELECT,
        on_change=pick_bot,
    )
    new_col, clear_col = st.sidebar.columns(2)
    new_col.button("New chat", key="chat_new", icon=":material/add:", on_click=request_new_chat)
    clear_col.button(
        "Clear chat",
        key="chat_clear",
        icon=":material/delete_sweep:",
        on_click=clear_chat,
        args=(bot,),
    )
    render_options(conv)

    heading_avatar, heading_text = st.columns([1, 12], vertical_alignment="center")
    if has_image(bot_avatar):
        heading_avatar.image(bot_avatar, width=48)
    heading_text.subheader(bot.name)
    heading_text.caption(f"{bot.model} · {bot.description}" if bot.description else bot.model)

    for index, message in enumerate(conv.messages):
        render_message(
            message,
            bot_avatar if message.role == "assistant" else ":material/person:",
            is_last=index == len(conv.messages) - 1,
        )

    # "stop" turns the send button into a Stop button while the answer streams.
    prompt = st.chat_input(f"Message {bot.name}", key="chat_prompt", submit_mode="stop")
    if prompt and prompt.strip():
        message = chat.add_prompt(conv, prompt)
        render_message(message, ":material/person:", is_last=False)

    if chat.awaiting_answer(conv):
        with st.chat_message("assistant", avatar=bot_avatar):
            st.write_stream(chat.stream_answer(client, conv, member.user_id))
        # Show the finished answer with its status (stopped, error + Retry).
        st.rerun()


render()
