"""Share links' widgets: the chat header's "Share" menu and the Shared page
(a snapshot read-only with "Copy into my chats", or the owner's own links).

Rendering and callbacks only; the rules live in `webapp.sharing.links`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import streamlit as st

from webapp.auth.guard import member_action
from webapp.backend import get_store
from webapp.bots.avatars import USER_AVATAR
from webapp.chat import message_tools
from webapp.chat import view as chat_view
from webapp.chat.open_chat import PAGE_SIZE
from webapp.conversations.context import Message
from webapp.conversations.store import MAX_PAGE, ConversationNotFound
from webapp.groups import view as groups_view
from webapp.sharing.links import (
    SHARE_PARAM,
    SharedSnapshot,
    ShareLinks,
    ShareNotAvailable,
    share_path,
)
from webapp.team import Member
from webapp.text import literal as md
from webapp.ui import flash, window
from webapp.ui.i18n import N_, _, format_number
from webapp.ui.member import current_member
from webapp.ui.session import page_state
from webapp.ui.state import Keys

CHAT_PAGE = "views/chat.py"
SHARED_PAGE = "views/shared.py"
FLASH_AREA = "share"  # where share actions' outcomes wait (`webapp.ui.flash`)
# A share opens at its latest messages, "Show earlier" adds as many, as the chat
# does (`webapp.chat.open_chat.PAGE_SIZE`, up to the store's `MAX_PAGE`).
SHARE_WINDOW_STEP: Final = PAGE_SIZE
SHARE_WINDOW_MAX: Final = MAX_PAGE
LINKS_SHOWN: Final = 20  # the Shared page's own links, "Show more" adds as many
# The lists' names for `webapp.ui.window`.
SHARE_WINDOW: Final = "share_messages"
LINKS_WINDOW: Final = "share_links"


@dataclass
class ShareSession:
    """What share links keep between runs (the chat's Share menu, the Shared page)."""

    last: tuple[str, str] | None = None  # (conversation id, token) of the link just made
    go_to_chat: bool = False  # "Copy into my chats" made a copy: open it on the chat page


def session() -> ShareSession:
    """This session's share-link state."""
    return page_state(Keys.SHARE, ShareSession)


def get_links() -> ShareLinks:
    """The share links over this process's conversation store."""
    return ShareLinks(get_store())


def _flash(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


def show_flash() -> None:
    """The result of the last share action, once."""
    flash.show(FLASH_AREA)


def absolute_link(token: str, page_url: str | None) -> str:
    """The full URL of a share link, on the host and path prefix the member is
    using now (`page_url`, from `st.context.url`); app-relative without one."""
    path = share_path(token)
    if not page_url:
        return path
    parts = urlsplit(page_url)
    prefix = parts.path.rsplit("/", 1)[0]  # drop the page's own segment (/chat)
    return f"{parts.scheme}://{parts.netloc}{prefix}{path}"


# ------------------------------------------------------------ chat header


@member_action(FLASH_AREA)
def create_link(conversation_id: str) -> None:
    """Callback: a new snapshot link to the open conversation."""
    try:
        link = get_links().share(current_member(), conversation_id)
    except (ConversationNotFound, ValueError) as err:
        _flash("error", str(err))
        return
    session().last = (conversation_id, link.token)


def render_share_menu(conversation_id: str) -> None:
    """The "Share" popover of a saved conversation: make a read-only link."""
    if not conversation_id:
        return  # a draft: nothing to share yet
    with st.popover(_("Share"), icon=":material/share:", help=_("A read-only link for the team")):
        st.caption(
            _(
                "Anyone logged in to this app can open the link and read the "
                "conversation as it is now; later messages are not shared, nor is "
                "the conversation's system instruction. You can revoke it on the "
                "Shared page."
            )
        )
        st.button(
            _("Create a read-only link"),
            key="share_create",
            icon=":material/link:",
            on_click=create_link,
            args=(conversation_id,),
        )
        last = session().last
        if last and last[0] == conversation_id:
            st.code(absolute_link(last[1], st.context.url), language=None, wrap_lines=True)
        st.page_link(_(SHARED_PAGE), label=_("Your shared links"), icon=":material/list:")


# ------------------------------------------------------------ Shared page


@member_action(FLASH_AREA)
def copy_into_my_chats(token: str) -> None:
    """Callback: the snapshot becomes the reader's own conversation, opened."""
    try:
        conversation = get_links().copy_into(current_member(), token)
    except ShareNotAvailable as err:
        _flash("error", str(err))
        return
    st.session_state[Keys.CHAT_OPEN_ID] = conversation.id
    session().go_to_chat = True


@member_action(FLASH_AREA)
def revoke(token: str) -> None:
    """Callback: stop sharing one of the member's links."""
    try:
        get_links().revoke(current_member(), token)
    except ShareNotAvailable as err:
        _flash("error", str(err))
        return
    _flash("success", _("Stopped sharing: the link now shows “not available”."))


def follow_to_chat() -> None:
    """After "Copy into my chats": open the copy on the chat page."""
    share = session()
    if share.go_to_chat:
        share.go_to_chat = False
        st.query_params.pop(SHARE_PARAM, None)
        st.switch_page(CHAT_PAGE)


def snapshot_messages(snapshot: SharedSnapshot) -> list[Message]:
    """The snapshot's messages in the shape the chat's bubbles draw."""
    return [
        Message(
            id="",
            conversation_id="",
            seq=seq,
            role=m.role,
            text=m.text,
            status=m.status,
            error=m.error,
            created_at=m.created_at,
        )
        for seq, m in enumerate(snapshot.conversation.messages)
    ]


def render_snapshot(snapshot: SharedSnapshot, token: str) -> None:
    """The shared conversation, read-only: no message box, no controls that change it."""
    info = snapshot.conversation.conversation
    st.title(md.escape(info.title))
    st.caption(
        _(
            "Shared by {owner} · {value} · {message_count} messages as of "
            "{created_at:%Y-%m-%d %H:%M} UTC · read-only"
        ).format(
            owner=md.escape(snapshot.link.owner),
            value=md.escape(info.bot_name or info.bot_slug),
            message_count=snapshot.link.message_count,
            created_at=snapshot.link.created_at,
        )
    )
    refused = groups_view.why_not(
        groups_view.current_access(current_member()),
        info.bot_slug,
        info.bot_name or info.bot_slug,
    )
    if refused:  # the copy is allowed (to read, export); sending in it is not
        st.warning(
            _(
                "{refused} A copy in your chats stays readable and exportable, but "
                "sending in it will be refused."
            ).format(refused=refused),
            icon=":material/lock:",
        )
    st.button(
        _("Copy into my chats"),
        key="share_copy",
        icon=":material/content_copy:",
        type="primary",
        on_click=copy_into_my_chats,
        args=(token,),
        help=_("A copy of your own, to continue the conversation; the original stays as it is."),
    )
    message_tools.render_page_tools()  # the bubbles' Copy buttons work here too
    shown = window.size(SHARE_WINDOW, token, SHARE_WINDOW_STEP)
    messages, hidden = window.latest(snapshot_messages(snapshot), shown)
    window.more_button(
        SHARE_WINDOW,
        token,
        SHARE_WINDOW_STEP,
        hidden,
        label=N_("Show earlier"),
        cap=SHARE_WINDOW_MAX,
    )
    if hidden and shown >= SHARE_WINDOW_MAX:
        st.caption(
            _(
                "The latest {share_window_max} messages are shown here; copy the "
                "conversation into your chats to read or export all of it."
            ).format(share_window_max=format_number(SHARE_WINDOW_MAX))
        )
    for message in messages:
        avatar = ":material/smart_toy:" if message.role == "assistant" else USER_AVATAR
        chat_view.render_message(message, avatar, is_last=False)


def render_owned(member: Member) -> None:
    """The member's own links: what is shared, since when, and Revoke."""
    st.header(_("Your shared links"))
    every = get_links().owned(member)
    if not every:
        st.caption(_("You have not shared anything yet: use Share in a chat's header."))
        return
    links, hidden = window.first(every, window.size(LINKS_WINDOW, "", LINKS_SHOWN))
    for link in links:
        with st.container(border=True):
            state = "active" if link.active else "revoked"
            st.markdown(f"**{md.escape(link.title)}**")
            st.caption(
                _(
                    "{message_count} messages · shared {created_at:%Y-%m-%d %H:%M} UTC · {state}"
                ).format(message_count=link.message_count, created_at=link.created_at, state=state)
            )
            if link.active:
                st.code(absolute_link(link.token, st.context.url), language=None)
                st.button(
                    _("Revoke"),
                    key=f"share_revoke_{link.token}",
                    icon=":material/link_off:",
                    on_click=revoke,
                    args=(link.token,),
                )
    window.more_button(LINKS_WINDOW, "", LINKS_SHOWN, hidden)
