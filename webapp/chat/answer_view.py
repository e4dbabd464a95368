"""The chat page's side of background answers: send, show live, stop, queue.

- `submit_prompt` is the message box's `on_submit` callback: the prompt is
  saved (and its answer started, or queued) before the run that follows
  draws anything, so no rerun can lose it.
- `render_live` shows a generating answer: the text so far, then the rest as
  it arrives (`show_stream`, the one place that hands pieces to
  `st.write_stream`), a status line saying what it waits for, and a Stop bound
  to the worker (not to the script run). A rerun, a click elsewhere or a
  closed tab only detaches the page; the answer goes on.
- `render_queued` shows prompts typed ahead, each with its Cancel; when the
  worker held them back (the month's budget is used up: `queue_held`), the
  first says why and offers "Send now".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import streamlit as st

from webapp import render
from webapp.answers.admission import Admission, AnswerRefused
from webapp.answers.live import Wait, describe_wait
from webapp.auth.guard import member_action
from webapp.backend import get_answers, get_store
from webapp.bots import display as bot_display
from webapp.bots.avatars import USER_AVATAR
from webapp.budgets import view as budgets_view
from webapp.chat import busy as answer_busy
from webapp.chat import changes, page_state
from webapp.chat import open_chat as chat
from webapp.chat.notice import NOTICE_AREA
from webapp.conversations.context import Message
from webapp.conversations.store import ConversationNotFound, QueuedPrompt
from webapp.groups import view as groups_view
from webapp.ui import announce, flash, leftovers, runtime
from webapp.ui.i18n import _
from webapp.ui.member import current_member
from webapp.ui.state import Keys

STOP_LABEL = "Stop"
STOP_SHORTCUT = "Esc"  # as in ChatGPT: Esc stops the answer being written
WAIT_ICON = ":material/pending:"


def _problem(text: str) -> None:
    flash.flash(NOTICE_AREA, text, "error")


# ------------------------------------------------------------- callbacks


@member_action(NOTICE_AREA)
def submit_prompt() -> None:
    """`st.chat_input(on_submit=...)`: save the prompt and start (or queue) its answer.

    A database that refuses the prompt, or the answer service's refusal
    (`AnswerService.admit`: a used-up monthly budget), puts the text back in
    the message box with the reason; nothing was saved or sent.
    """
    text = st.session_state.get(Keys.CHAT_PROMPT) or ""
    opened: chat.OpenChat | None = st.session_state.get(Keys.CHAT_OPEN)
    if opened is None or not text.strip():
        return
    # Read from the database an instant ago by `member_action` (removed, disabled
    # or logged out since: nothing is sent); a second read here would only repeat it.
    who = current_member()
    st.session_state.pop(Keys.CHAT_EDITING, None)
    try:
        answers = get_answers()
        # Before a new chat is saved; its bot named, as a draft has no row yet.
        admission = answers.admit(who, bots=(opened.conversation.bot_slug,))
        changes.save_draft(get_store(), who, opened)
        # The page catches up when the answer ends (`page_state.conversation_run`).
        answers.submit(who, opened.id, text, admission=admission)
    except AnswerRefused as refused:
        _problem(refused.reason)
        st.session_state[Keys.CHAT_PROMPT_BACK] = (Keys.CHAT_PROMPT, text)
    except ConversationNotFound:
        _problem(_("That conversation no longer exists. Your text is back in the message box."))
        st.session_state[Keys.CHAT_PROMPT_BACK] = (Keys.CHAT_PROMPT, text)
    except chat.DATABASE_ERRORS:
        st.session_state[Keys.CHAT_SEND_PROBLEM] = chat.PROMPT_NOT_SAVED
        st.session_state[Keys.CHAT_PROMPT_BACK] = (Keys.CHAT_PROMPT, text)


@member_action(NOTICE_AREA)
def start_answer(admission: Admission | None = None) -> None:
    """Answer the conversation's last prompt now (after Retry, Regenerate, Edit,
    with the `admission` they asked for before their change; "Send now" and
    "Answer it" are admitted here). A refusal is shown; nothing starts."""
    opened: chat.OpenChat | None = st.session_state.get(Keys.CHAT_OPEN)
    if opened is None or opened.is_draft:
        return
    try:
        answers = get_answers()
        if admission is None:
            admission = answers.admit(current_member(), queued=bool(opened.queued))
        answers.start(current_member(), opened.id, admission=admission)
    except AnswerRefused as refused:
        _problem(refused.reason)
    except ConversationNotFound:
        _problem(_("That conversation no longer exists."))
    except chat.DATABASE_ERRORS:
        st.session_state[Keys.CHAT_SEND_PROBLEM] = chat.ANSWER_NOT_STARTED


def answer_after(change: Callable[[], object]) -> None:
    """A change that leaves a prompt to answer (Retry, Regenerate, Edit, an
    imported prompt's Send), then its answer started in the background.

    Admitted first (`AnswerService.admit`), so a refused answer leaves the
    change unmade; a problem with the change is said and nothing starts."""
    if answer_busy.refused():  # a click that raced an answer's start: nothing changes
        return
    try:
        opened: chat.OpenChat | None = st.session_state.get(Keys.CHAT_OPEN)
        bots = (opened.conversation.bot_slug,) if opened is not None else ()
        admission = get_answers().admit(current_member(), bots=bots)  # its bot, before the change
        change()
    except AnswerRefused as refused:
        _problem(refused.reason)
        return
    except ConversationNotFound:
        _problem(_("That conversation no longer exists."))
        return
    except (ValueError, changes.SendFailed) as err:
        _problem(str(err))
        return
    except chat.DATABASE_ERRORS:
        _problem(chat.DATABASE_READ_ONLY)
        return
    start_answer(admission)


@member_action(NOTICE_AREA)
def answer_now() -> None:
    """Answer it: start the answer to a prompt left without one, unless one is
    being written here already (a click that raced its start: `answer_busy`)."""
    if not answer_busy.refused():
        start_answer()


@member_action(NOTICE_AREA)
def stop_answer(answer_id: str) -> None:
    """Stop: the worker is cancelled now; what this page showed is what is kept."""
    keep = page_state.kept_on_stop(page_state.state(), answer_id)
    try:
        get_answers().stop(current_member(), answer_id, keep)
    except chat.DATABASE_ERRORS:
        _problem(chat.DATABASE_READ_ONLY)


@member_action(NOTICE_AREA)
def cancel_queued(queued_id: str) -> None:
    try:
        get_answers().cancel_queued(current_member(), queued_id)
    except chat.DATABASE_ERRORS:
        _problem(chat.DATABASE_READ_ONLY)


# ---------------------------------------------------------------- drawing


def show_stream(pieces: Iterable[str], answer_id: str) -> None:
    """Draw an answer's pieces as they come: the one place that streams text.

    Block by block (`render.stream_blocks`: a finished block is sent once,
    redraws coalesced). Counts the characters on screen for Stop: a block
    write counts once Streamlit has drawn it and asks for the next (a click
    that ends the run stops it before the next draw is sent). The counter is
    the page state's `Shown`, updated without a Streamlit call.
    """
    counter = page_state.start_shown(page_state.state(), answer_id)

    def drawn() -> Iterator[render.BlockWrite]:
        for write in render.stream_blocks(pieces):
            yield write
            counter.chars = write.shown

    st.write_stream(drawn())


def yield_to_waiting_click() -> None:
    """End this run now if a click (Stop, Cancel, a prompt typed ahead) waits for it.

    The answer streams inside the conversation's fragment (views/chat.py), and
    Streamlit lets a fragment's widget preempt nothing: its rerun waits until
    the run in progress ends (`script_requests`: a fragment rerun that is not
    fragment-scoped does not preempt), which would hold Stop until the answer
    is whole. So the streaming loop looks for a waiting request itself and
    reruns: the fragment alone when this is a fragment run, else the app. The
    click's callback then runs first; the answer itself goes on in its worker,
    and the rerun attaches to it again.
    """
    if not runtime.rerun_requested():
        return
    st.rerun(scope="fragment" if runtime.in_fragment_run() else "app")


def _announced(pieces: Iterable[str], on_first: Callable[[], None]) -> Iterator[str]:
    """`pieces`; `on_first()` runs just before the first text (the waiting line
    makes way for it). A click waiting meanwhile ends the run (`yield_to_waiting_click`)."""
    first = True
    for piece in pieces:
        yield_to_waiting_click()
        if first and piece:
            first = False
            on_first()
        yield piece


def render_live(
    message: Message, avatar: str, bot_name: str, *, queued: list[QueuedPrompt]
) -> bool:
    """Draw a generating answer live until it ends; True when it ended here
    (the caller reruns to draw it settled). The queued prompts are drawn
    below it first, so their Cancel works while it streams."""
    who = current_member()
    answers = get_answers()
    name = bot_display.name_md(bot_name)
    # A fresh place: nothing of the last run's element there stays in the bubble
    # (another conversation's time and Copy line under Stop: `leftovers`).
    with leftovers.fresh(), st.chat_message("assistant", avatar=avatar):
        text_slot = st.container()
        row = st.container(horizontal=True, vertical_alignment="center")
        row.button(
            _(STOP_LABEL),
            key=announce.STOP_KEY,  # the screen readers' announcer watches it
            icon=":material/stop_circle:",
            type="secondary",
            on_click=stop_answer,
            args=(message.id,),
            help=_("Stop this answer now; the part shown is kept (Esc)."),
            shortcut=STOP_SHORTCUT,
        )
        status = row.empty()
    render_queued(queued)
    # Nothing of the last run below, while the answer streams.
    shown = page_state.state()
    shown.places_used = leftovers.clear_rest(shown.places_used)

    live = answers.live(message.id)
    first: Wait | None = live.wait if live is not None else None
    if live is None:
        row_now = answers.store.answer_row(who, message.id)
        first = Wait.from_json(row_now.waiting) if row_now else None
    started = bool(message.text) or (live is not None and bool(live.text))

    def tick(wait: Wait | None) -> None:
        # Also the chance to act on a click made meanwhile (Stop).
        yield_to_waiting_click()
        if wait is None and started:
            status.empty()
        else:
            status.caption(f"{WAIT_ICON} {describe_wait(wait, name)}")

    if not started or first is not None:
        tick(first)

    def text_started() -> None:
        nonlocal started
        started = True
        status.empty()

    pieces = _announced(answers.follow(who, message.id, tick), text_started)
    with text_slot:
        show_stream(pieces, message.id)
    status.empty()
    opened: chat.OpenChat | None = st.session_state.get(Keys.CHAT_OPEN)
    if live is not None and opened is not None:
        opened.context_omitted = live.context_omitted
    return True


def queue_held(member: Any, bot_slug: str = "", bot_name: str = "") -> str | None:
    """Why the conversation's queued prompts wait with no answer in progress:
    its bot (`bot_slug`) is not for the member's groups (`webapp.groups`), or
    the budget's refusal (`budgets_view.queue_held_by`) while the month's
    budget is used up, else None (the page then starts the next one: its
    worker died first). None too when the budget cannot be read: starting
    checks it again (`start_answer`) and says what went wrong."""
    refused = groups_view.why_not(groups_view.current_access(member), bot_slug, bot_name)
    if bot_slug and refused:
        return _("{refused} Your queued message stays queued.").format(refused=refused)
    try:
        return budgets_view.queue_held_by(member)
    except Exception:
        return None


def render_queued(queued: list[QueuedPrompt], *, held: str | None = None) -> None:
    """Prompts typed ahead: shown in order, marked queued, each cancellable.

    `held`: why the first is not being sent (the month's budget, see
    `queue_held`): said on it, with "Send now" (`start_answer`, which checks
    the budget again) beside its Cancel; the others wait behind it.
    """
    for index, item in enumerate(queued):
        with st.chat_message("user", avatar=USER_AVATAR):
            st.markdown(render.prompt_html(item.text), unsafe_allow_html=True)
            if held is not None and index == 0:
                st.caption(_(":material/block: {held}").format(held=held))
            line = st.container(horizontal=True, vertical_alignment="center")
            if held is None:
                line.caption(
                    _(":material/schedule: Queued: sent when the answer before it is done.")
                )
            elif index == 0:
                line.button(
                    _("Send now"),
                    key=f"chat_queued_send_{item.id}",
                    type="tertiary",
                    icon=":material/send:",
                    on_click=start_answer,
                    help=_("Send it now, if this month's budget allows."),
                )
            else:
                line.caption(_(":material/schedule: Queued: sent after the one above."))
            line.button(
                _("Cancel"),
                key=f"chat_queued_cancel_{item.id}",
                type="tertiary",
                icon=":material/close:",
                on_click=cancel_queued,
                args=(item.id,),
            )


def render_unanswered() -> None:
    """A prompt without an answer and none coming (its start failed, or an import)."""
    row = st.container(horizontal=True, vertical_alignment="center")
    row.caption(_(":material/help: This message has no answer yet."))
    row.button(_("Answer it"), key="chat_answer_now", icon=":material/send:", on_click=answer_now)
