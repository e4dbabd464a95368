"""What the chat page shows, and when the whole page must be drawn again.

The chat page is drawn in two parts (views/chat.py, `webapp.chat.page`): the
*page* (the sidebar's History, the header, the tab's title, the URL) and the
*conversation* (a fragment: the messages, the message box, the answer being
written). Sending, Stop, Retry, ... rerun the conversation alone, so the first
words of an answer wait behind nothing else (issue 8). The page must then
catch up with what the conversation became: a new chat saved (its History row,
its title), an answer that ended (the History's order, the header's menus).

One value says what the conversation shows, as far as the page depends on it:

    View(chat, conversation_id, phase, last_id)

with `phase` one of

    none       no conversation open (no bots to chat with)
    draft      a new chat, not saved yet (no id)
    settled    a saved conversation with no answer being written
    streaming  an answer is being written (shown live, its Stop under it)

and `last_id` the id of its last message (an answer started or ended, a
version switched: another id). The session keeps one `ChatPageState` (under
`Keys.CHAT_PAGE_STATE`) whose `drawn` is the View the page was last drawn
for. Its transitions:

    page run          begin_page_run(state, view): drawn = view; the
                      conversation drawn in this run is the page's (it needs
                      no second read). The header goes after the answer when
                      the page already shows it for this chat (`header_last`).
    conversation run  conversation_run(state, view) after reading the
                      conversation again: `STREAM` when an answer is being
                      written (it streams in the conversation alone), `SHOW`
                      when the page was drawn for this very view, else
                      `RERUN_PAGE`: the whole page is drawn again (and so
                      `drawn` catches up). No flag to set or lose: a rerun
                      that cut a run short leaves nothing half-set.
    answer shown      after an answer was shown arriving to its end
                      (`after_answer`): the conversation reruns alone when
                      the page was drawn for this very conversation, settled,
                      its History row first in its group; else the whole
                      page reruns.
    answered in place a conversation run that finds the page drawn for the
                      same saved conversation with only its last message
                      changed (an answer that ended, a version switched):
                      `SHOW`, and `drawn` catches up, when what the page shows
                      around the conversation is unchanged: the conversation
                      (title, options, ...) but for its dates, and its
                      History row (`HistoryRow`: still first in the same
                      group, the same "last active" minute, the same expiry
                      note). Else `RERUN_PAGE`. The whole-page run costs a
                      third of an answer's CPU (docs/benchmarks.md, `load`).
    another page      left_page(state): drawn = None (the browser no longer
                      shows the chat's header), so the chat page, on its
                      return, draws everything in its usual order.

Switching pages, reloading (a new session: a fresh state) and a rerun in the
middle of an answer all meet the same rule: every run compares what it reads
with what the page was drawn for.

Also kept here, as the same session object: how many characters of the answer
being written are on screen (`shown`, what Stop keeps) and how many places the
conversation used at the end of its last settled run (`places_used`, see
`webapp.ui.leftovers`). Only `state()` touches Streamlit (the session): the
transitions are plain functions, tested without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import TYPE_CHECKING, Literal

import streamlit as st

from webapp.ui.state import Keys

if TYPE_CHECKING:
    from webapp.chat.open_chat import OpenChat
    from webapp.conversations.model import Conversation

Phase = Literal["none", "draft", "settled", "streaming"]


@dataclass(frozen=True)
class View:
    """What the conversation shows, as far as the rest of the page depends on it.

    `chat`: the open chat's `OpenChat.draft_key` (kept when a draft is saved);
    `conversation_id`: "" for a draft; `last_id`: the last message's id ("" none).
    """

    chat: str
    conversation_id: str
    phase: Phase
    last_id: str

    @property
    def streaming(self) -> bool:
        return self.phase == "streaming"


NO_VIEW = View(chat="", conversation_id="", phase="none", last_id="")


@dataclass(frozen=True)
class HistoryRow:
    """The open conversation's History row as far as an answer can change it,
    drawn first in its group: the group ("Today", "Pinned"...), the "last
    active" time as shown, the expiry note (None: none shown)."""

    group: str
    last_active: str
    expiry: str | None


@dataclass(frozen=True)
class Around:
    """What the page shows around the conversation, read now: the conversation
    (its row) and its History row as it would be drawn (first in its group:
    it was, and an answer makes it the newest)."""

    conversation: Conversation
    row: HistoryRow


class Action(Enum):
    """What a conversation run does after reading the conversation again."""

    SHOW = "show"  # draw it: the page around it is drawn for what it shows
    STREAM = "stream"  # draw it and stream the answer; the page reruns when it ends
    RERUN_PAGE = "rerun_page"  # the page was drawn for another view: draw it all again


@dataclass
class Shown:
    """`chars` characters of answer `answer_id` are on screen (Stop keeps these)."""

    answer_id: str
    chars: int = 0


@dataclass
class ChatPageState:
    """The chat page's own session state (one object, one session key)."""

    # The View the page (History, header, title, URL) was last drawn for;
    # None when another page was drawn since, or never.
    drawn: View | None = None
    # The conversation about to be drawn is the page run's (set by the page,
    # taken by the conversation in the same run).
    page_run: bool = False
    # The answer being written and how much of it is on screen.
    shown: Shown | None = None
    # Places the conversation used at the end of its last settled run.
    places_used: int | None = field(default=None)
    # The conversation as the last page run drew it (header, title, History),
    # and its History row when that run drew it first in its group (else None).
    drawn_conversation: Conversation | None = None
    drawn_row: HistoryRow | None = None


def view_of(opened: OpenChat | None) -> View:
    """The View of the open chat as last read (`NO_VIEW` when none is open)."""
    if opened is None:
        return NO_VIEW
    phase: Phase
    if opened.generating is not None:
        phase = "streaming"
    elif opened.is_draft:
        phase = "draft"
    else:
        phase = "settled"
    last = opened.last
    return View(opened.draft_key, opened.id, phase, last.id if last is not None else "")


def header_last(state: ChatPageState, view: View) -> bool:
    """Whether the page run draws the header after the answer being written:
    only when the page already shows this chat's header (the run before drew
    it; another page drew nothing of it), so it stays on screen meanwhile and
    the answer's first words wait behind fewer elements (issue 8)."""
    drawn = state.drawn
    return view.streaming and drawn is not None and drawn.chat == view.chat


def sidebar_first(view: View) -> bool:
    """Whether the page run draws the sidebar before the conversation: when an
    answer is already being written (opened mid-answer, a reload, back from
    another page), so the History shows this chat as the open one while it
    streams. Otherwise the conversation first: an answer started by this run
    waits behind nothing but the chat."""
    return view.streaming


def begin_page_run(
    state: ChatPageState, view: View, conversation: Conversation | None = None
) -> bool:
    """A whole-page run draws the page for `view` (of `conversation`, the open
    one as read); returns `header_last`. The History says if it draws the
    conversation's row first in its group (`drew_row`)."""
    last = header_last(state, view)
    state.drawn = view
    state.page_run = True
    state.drawn_conversation = conversation
    state.drawn_row = None
    return last


def drew_row(state: ChatPageState, row: HistoryRow) -> None:
    """The History drew the open conversation's row first in its group, so."""
    state.drawn_row = row


def take_page_run(state: ChatPageState) -> bool:
    """For the conversation: True when this run is the page's (the page has
    just read the conversation), False when the conversation reruns alone."""
    page_run, state.page_run = state.page_run, False
    return page_run


def conversation_run(
    state: ChatPageState, view: View, around: Callable[[], Around | None] | None = None
) -> Action:
    """What a run of the conversation alone does, given what it read (`view`).

    An answer being written streams here whatever the page shows (the page
    catches up when it ends). Otherwise the page must have been drawn for
    exactly this view: a new chat saved, an answer started and ended before
    this run could show it, an answer stopped, a version switched, all rerun
    the whole page once, after which `drawn` is this view. The one exception
    (`answered_in_place`): only the last message of the same settled
    conversation changed, and `around()` (what the page would show around it
    now; None: not known, or not to be trusted) equals what the page drew:
    then the page stays as it is, and `drawn` catches up.
    """
    if view.streaming:
        return Action.STREAM
    if state.drawn == view:
        return Action.SHOW
    if around is not None and answered_in_place(state, view):
        now = around()
        if now is not None and _same_around(state, now):
            state.drawn = view
            return Action.SHOW
    return Action.RERUN_PAGE


def answered_in_place(state: ChatPageState, view: View) -> bool:
    """Whether the page was drawn for this very saved conversation, settled,
    with its History row first in its group, and `view` (settled) differs only
    in its last message: the case where the page around it may be unchanged."""
    drawn = state.drawn
    return (
        drawn is not None
        and drawn.phase == "settled"
        and view.phase == "settled"
        and drawn.chat == view.chat
        and drawn.conversation_id == view.conversation_id
        and state.drawn_conversation is not None
        and state.drawn_row is not None
    )


def _same_around(state: ChatPageState, now: Around) -> bool:
    drawn = state.drawn_conversation
    if drawn is None or now.row != state.drawn_row:
        return False
    # Its dates show only through the History row (compared just above).
    dated = replace(now.conversation, updated_at=drawn.updated_at, opened_at=drawn.opened_at)
    return dated == drawn


def after_answer(
    state: ChatPageState, conversation_id: str, *, fragment_run: bool
) -> Literal["fragment", "app"]:
    """What reruns once an answer of `conversation_id` was shown arriving to
    its end: the conversation alone ("fragment") when this was its own run and
    the page was drawn for it settled with its History row first in its group
    (the next run compares the rest: `conversation_run`); else the whole page
    ("app"), so the History, the header and the title settle."""
    drawn = state.drawn
    if (
        fragment_run
        and drawn is not None
        and drawn.phase == "settled"
        and drawn.conversation_id == conversation_id
        and state.drawn_conversation is not None
        and state.drawn_row is not None
    ):
        return "fragment"
    return "app"


def left_page(state: ChatPageState) -> None:
    """Another page was drawn: the browser no longer shows the chat's page."""
    state.drawn = None
    state.page_run = False
    state.drawn_conversation = None
    state.drawn_row = None


def start_shown(state: ChatPageState, answer_id: str) -> Shown:
    """An answer starts streaming on screen: its counter, from 0 characters."""
    state.shown = Shown(answer_id)
    return state.shown


def kept_on_stop(state: ChatPageState, answer_id: str) -> int | None:
    """How many characters Stop keeps: what this page showed of `answer_id`,
    or None (all received) when this page was not showing it."""
    shown = state.shown
    return shown.chars if shown is not None and shown.answer_id == answer_id else None


def state() -> ChatPageState:
    """This session's `ChatPageState` (made on first use)."""
    found = st.session_state.get(Keys.CHAT_PAGE_STATE)
    if not isinstance(found, ChatPageState):
        found = ChatPageState()
        st.session_state[Keys.CHAT_PAGE_STATE] = found
    return found
