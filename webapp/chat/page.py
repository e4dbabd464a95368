"""The chat page (views/chat.py): pick a bot or reopen a conversation, set its options, talk.

Answers are generated in the background (`webapp.answers`): this page sends
prompts from the message box's own callback and attaches to the answer in
progress, so a rerun, a page switch or a reload never cuts it. With the API
down, History, reading, search and export still work; only sending needs it.

Drawn in two parts, the page (sidebar, header, title) and the conversation (a
fragment); when the one must be drawn again for the other is
`webapp.chat.page_state`'s rule.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import streamlit as st

from ablt_core import AbltError, Bot
from webapp.auth import gate as auth
from webapp.auth.gate import Member
from webapp.backend import get_answers, get_client, get_store
from webapp.bots import catalogue
from webapp.bots import display as bot_display
from webapp.bots.avatars import avatar_alt, avatar_for
from webapp.budgets import view as budgets_view
from webapp.chat import answer_view as answers_view
from webapp.chat import changes, message_tools, page_state, versions_view
from webapp.chat import find as conversation_search
from webapp.chat import header as chat_header
from webapp.chat import notice as chat_notice
from webapp.chat import open_chat as chat
from webapp.chat import view as chat_view
from webapp.compare import view as compare_view
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationNotFound
from webapp.errors import describe
from webapp.feedback import view as feedback_view
from webapp.groups import view as groups_view
from webapp.history import organising, sidebar
from webapp.library import view as library_view
from webapp.settings import get_settings
from webapp.sharing import view as sharing_view
from webapp.statistics import api as usage_api
from webapp.text import literal as md
from webapp.ui import flash, leftovers, runtime
from webapp.ui import page as ui
from webapp.ui.i18n import _
from webapp.ui.member import require_member
from webapp.ui.state import Keys

log = logging.getLogger(__name__)


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

    # The picker and new chats offer the bots the member's groups may use;
    # the whole catalogue still names an open conversation's bot.
    catalogue_bots, access = bots, groups_view.current_access(member)
    bots = groups_view.usable(access, catalogue_bots)
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
            temporary=bool(st.session_state.pop(Keys.CHAT_TEMPORARY_NEXT, False)),
        )
    except chat.DATABASE_ERRORS:
        # The database cannot be read: keep what this page last showed, say why.
        opened, notice = current, None
        flash.flash(chat_notice.NOTICE_AREA, _(chat.DATABASE_UNREADABLE), "error")
    try:
        # A temporary chat left for another conversation is gone at once.
        organising.leave_temporary(store, member, current, opened)
    except chat.DATABASE_ERRORS:
        log.warning("Could not delete a temporary chat left; the sweep will", exc_info=True)
    if opened is not None and opened.conversation.is_comparison:
        # A comparison picked in History opens on its own page.
        compare_view.open_comparison(opened.id)
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
    view = page_state.view_of(opened)
    header_last = page_state.begin_page_run(
        page_state.state(), view, opened.conversation if opened is not None else None
    )

    by_slug = {b.slug: b for b in catalogue_bots}
    names = chat.bot_labels(bots)
    if opened is not None and bots and opened.conversation.bot_slug in by_slug.keys() - names:
        # Listed, but not for this member's groups: the picker still names it.
        names[opened.conversation.bot_slug] = (
            f"{bot_display.plain_name(by_slug[opened.conversation.bot_slug].name)} (not allowed)"
        )
    if opened is not None and bots and opened.conversation.bot_slug not in by_slug:
        # Its bot left the catalogue: the picker still names it.
        gone = bot_display.plain_name(opened.conversation.bot_name or opened.conversation.bot_slug)
        names[opened.conversation.bot_slug] = f"{gone} (no longer listed)"

    can_start = bool(bots) and opened is not None
    # Streamlit sends a run's elements in script order: see `page_state.sidebar_first`.
    # (Sending from the message box reruns the conversation's fragment alone.)
    if page_state.sidebar_first(view):
        render_sidebar(member, opened, can_start=can_start)
    render_chat(member, opened, bots, by_slug, names, bots_problem, header_last=header_last)
    if not page_state.sidebar_first(view):
        render_sidebar(member, opened, can_start=can_start)


def render_sidebar(member: Member, opened: chat.OpenChat | None, *, can_start: bool) -> None:
    """New chat, then the History with its search and Import (the account is app.py's)."""
    sidebar.render_new_chat(can_start=can_start)
    sidebar.render_history(member, opened)


def render_chat(
    member: Member,
    opened: chat.OpenChat | None,
    bots: list[Bot],
    by_slug: dict[str, Bot],
    names: dict[str, str],
    bots_problem: str | None,
    *,
    header_last: bool = False,
) -> None:
    """The header, then the conversation (`header_last`: the other way round, see
    `page_state.header_last`) (`render_conversation`: the messages,
    the message box, and the answer arriving, after which the page reruns)."""
    client = get_client()
    if bots_problem:
        # Reading needs no API: only new chats and answers do.
        ui.error_box(
            _(
                "{bots_problem} You can still read, search and export your "
                "conversations; sending needs the API."
            ).format(bots_problem=bots_problem),
            retry_key="chat_bots_retry",
        )
    chat_notice.show(opened)
    if opened is None:
        flash.show(chat_notice.NOTICE_AREA)
        st.title(_("Chat"))
        if bots_problem:
            st.info(_("Open a conversation from the History; new chats need the bot list."))
        else:
            st.info(_("The API lists no bots to chat with, or none your groups may use."))
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
    # The picker's label: two bots may share a name, the header and the
    # message box tell them apart too.
    label = names.get(opened.conversation.bot_slug, bot_name) if bot else bot_name
    # With `header_last`, the last run's header stays on screen meanwhile (a
    # container sent again keeps what it held until then).
    header = st.container(key=chat_header.HEADER_KEY, gap=None)

    def draw_header() -> None:
        chat_header.render_style()
        # The bot and its picker; the bot's model and description; then the
        # options (their chips) and the menus in a row that wraps on a phone.
        with header, st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.image(bot_avatar, width=40, alt=avatar_alt(bot_name))
            st.subheader(md.escape(label), anchor=False, width="stretch")
            if bots:
                chat_header.render_bot_picker(bots, names, opened.conversation.bot_slug)
        with header:
            if bot is not None:
                model = bot_display.model_md(bot.model)
                description = bot_display.description_line_md(bot.description)
                st.caption(f"{model} · {description}" if description else model)
            elif not bots_problem:
                st.warning(_("This bot is no longer in the catalogue; answers may fail."))
            groups_view.render_refused_bot_note(
                groups_view.current_access(member), opened.conversation.bot_slug, bot_name
            )
            message_tools.render_imported_badge(
                opened.conversation.imported_at,
                chat_view.member_timezone(),
                opened.conversation.import_source,
                opened.conversation.original_model,
            )
            chat_header.render_temporary_note(opened)
            # Ends where the chat ends, under the picker.
            menus = st.container(horizontal=True, gap="small", horizontal_alignment="right")
            render_menus(menus, member, opened, bots)

    if not header_last:
        draw_header()
    render_conversation(member, bot_avatar, bot_name, label)
    if header_last:
        draw_header()


@st.fragment
def render_conversation(member: Member, bot_avatar: str, bot_name: str, label: str) -> None:
    """The messages, the message box and the answer arriving: a fragment.

    Sending a prompt (or Stop, Retry, Regenerate, Edit, Show earlier) reruns
    only this part, so the first words of an answer wait behind nothing but the
    conversation: the browser redraws neither the sidebar nor the header (issue 8).
    A fragment rerun reads the conversation again, checks the member's session
    is still valid, and reruns the whole page when the page was drawn for
    another state (`page_state.conversation_run`); a run that showed an answer
    arriving ends with a rerun of the whole page, so the History, the header
    and the title settle, or of the conversation alone when nothing around it
    changes (`page_state.after_answer`).
    """
    answers = get_answers(get_settings())
    state = page_state.state()
    opened: chat.OpenChat | None = st.session_state.get(Keys.CHAT_OPEN)
    page_run = page_state.take_page_run(state)
    if not page_run:
        # A rerun of this fragment alone: the page's reads did not run.
        if opened is None or not auth.session_still_valid(member):
            st.rerun()
        assert opened is not None
        try:
            chat.refresh(get_store(), member, opened, alive=answers.alive_ids())
        except ConversationNotFound:
            st.rerun()  # deleted in another tab: the page says so
        except chat.DATABASE_ERRORS:
            flash.flash(chat_notice.NOTICE_AREA, _(chat.DATABASE_UNREADABLE), "error")
        if opened.id and st.query_params.get(chat.OPEN_PARAM) != opened.id:
            # A new chat saved by this send: the URL names it (a reload, a second tab).
            st.query_params[chat.OPEN_PARAM] = opened.id
        action = page_state.conversation_run(
            state, page_state.view_of(opened), around=lambda: _around(opened)
        )
        if action is page_state.Action.RERUN_PAGE:
            # A new chat saved, an answer that ended or was stopped, ...: the
            # History, the header and the title catch up (notices wait for it).
            st.rerun()
    if opened is None:
        return
    flash.show(chat_notice.NOTICE_AREA)
    if opened.problem:
        st.warning(opened.problem, icon=":material/database:")

    chat_view.render_option_notes(opened)
    chat_view.restore_prompt()
    budgets_view.render_budget_status(member)  # what is left of the month's budget
    # The message box stays usable while an answer streams: a prompt sent then is
    # saved by the callback and queued behind the answer (type-ahead). Pinned to
    # the bottom, as in the main script (a fragment's own container would not be).
    with st.bottom:
        st.chat_input(
            _("Message {label}").format(label=label),
            key=Keys.CHAT_PROMPT,
            on_submit=answers_view.submit_prompt,
        )

    anchor, mark = st.session_state.pop(Keys.CHAT_SCROLL_ANCHOR, None) or (None, False)
    message_tools.render_page_tools(
        focus_input=bool(st.session_state.pop(Keys.CHAT_FOCUS_INPUT, False)),
        anchor=anchor,
        mark=mark,
        conversation=opened.draft_key,
    )
    if opened.hidden:
        st.button(
            _("Show earlier ({hidden} more)").format(hidden=opened.hidden),
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
            generating,
            text=ended.text,
            status=ended.status,
            error=ended.error,
        )
        generating = None
    shown = opened.messages[:-1] if generating is not None else opened.messages
    versions_view.prepare(opened)
    feedback_view.prepare(opened)
    for index, message in enumerate(shown):
        chat_view.render_message(
            message,
            chat_view.avatar_for_role(message.role, bot_avatar),
            is_last=generating is None and index == len(shown) - 1,
            editable=True,
        )
    if generating is None:
        held = None
        if chat.awaiting_answer(opened) and not opened.queued:
            answers_view.render_unanswered()
        elif opened.queued and not chat.can_retry(opened):
            # A queue left behind: held back by the month's budget (it says so,
            # with Send now), or its worker died before starting the next.
            held = answers_view.queue_held(member, opened.conversation.bot_slug, bot_name)
            if held is None:
                answers_view.start_answer()
                if answers.store.generating(member, opened.id):
                    st.rerun()
        answers_view.render_queued(opened.queued, held=held)
        if chat.last_controls_shown(opened, sending=False):
            chat_view.render_last_controls(opened)
    ended = answers.live(opened.last.id) if opened.last is not None else None
    if ended is not None and ended.done:
        opened.context_omitted = ended.context_omitted
    note = chat.context_note(opened)
    if note:
        st.caption(_(":material/content_cut: {note}").format(note=note))
    chat_view.show_send_problem()

    if generating is not None:
        answers_view.render_live(generating, bot_avatar, bot_name, queued=opened.queued)
        usage_api.forget_statistics()  # the Statistics page counts this chat at once
        # Show the finished answer settled (status, Regenerate / Edit, Retry), and
        # the rest of the page with it: the History row, the header, the title
        # (the conversation alone when they stay as they are: `after_answer`).
        fragment_run = not page_run and runtime.in_fragment_run()
        st.rerun(scope=page_state.after_answer(state, opened.id, fragment_run=fragment_run))
    # How far this run drew: a run that streams an answer clears the rest (`leftovers`).
    state.places_used = leftovers.places_used()


def _around(opened: chat.OpenChat) -> page_state.Around | None:
    """What the page would show around the conversation now (its row, its
    History row), for `page_state.conversation_run`; None after an answer
    that did not complete or a refused read (the whole page is drawn again)."""
    last = opened.last
    if opened.problem or last is None or last.status != AnswerStatus.COMPLETE:
        return None
    try:
        return page_state.Around(opened.conversation, sidebar.history_row(opened.conversation))
    except chat.DATABASE_ERRORS:
        return None


def render_menus(where: Any, member: Member, opened: chat.OpenChat, bots: list[Bot]) -> None:
    """The header's buttons: Options (its label the active ones' chips), Library,
    Temporary, Share, Find, Export."""
    with where:
        try:
            changes.set_options(get_store(), member, opened, chat_header.render_options(opened))
        except chat.DATABASE_ERRORS:
            flash.flash(chat_notice.NOTICE_AREA, _(chat.DATABASE_READ_ONLY), "error")
        library_view.render_chat_menu(
            opened.conversation.options, opened.conversation.bot_slug, bots
        )
        temporary = opened.conversation.temporary
        # Before Share and Export: the row's last button ends where the content ends.
        chat_header.render_temporary_switch(opened)
        if not temporary:  # a temporary chat is neither shared nor exported
            sharing_view.render_share_menu(opened.id)
        conversation_search.render_find(opened, member)
        if not temporary:
            chat_view.render_exports(member, opened)
