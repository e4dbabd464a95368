"""The Arena page's Battle tab: a prompt (typed, or from the prompt library),
two bots drawn for it answering side by side as "Bot A" and "Bot B", live;
the vote; the reveal; "Continue with" either bot as a normal chat.

Blind until the vote: no names, no avatars, and each answer's text masked
(`webapp.arena.blind.mask`, on the whole text at every redraw). Rendering and
callbacks only: the rules are in `webapp.arena.store` and `webapp.arena.run`;
every callback is a guarded `member_action` or a `view_action`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import streamlit as st

from ablt_core import Bot
from webapp import render
from webapp.answers.admission import AnswerRefused
from webapp.answers.live import describe_wait
from webapp.arena import run
from webapp.arena.blind import SIDES, Contender, eligible, mask
from webapp.arena.ranking import OUTCOME_LABELS
from webapp.arena.store import AlreadyVoted, Arena, Battle, NotFinished
from webapp.auth.guard import member_action, view_action
from webapp.backend import get_answers, get_store
from webapp.bots.avatars import USER_AVATAR, avatar_for
from webapp.chat import open_chat as chat
from webapp.conversations.model import RETRYABLE_STATUSES, AnswerStatus, Message
from webapp.conversations.options import ConversationOptions
from webapp.conversations.store import ConversationNotFound
from webapp.groups import view as groups_view
from webapp.groups.store import access_for
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
from webapp.ui.i18n import N_, _, ngettext
from webapp.ui.member import current_member
from webapp.ui.session import page_state
from webapp.ui.state import Keys

FLASH_AREA: Final = "arena"
OPEN_PARAM: Final = "battle"  # the query parameter naming the open battle
CHAT_PAGE: Final = "views/chat.py"
POLL_EVERY: Final = 0.1  # seconds between redraws of the live answers
BLIND_AVATAR: Final = ":material/help:"  # the same for both sides until the reveal
LIBRARY_WHERE: Final = "arena"  # the library entry's fields (`Keys.library_variable`)
VOTE_HELP: Final = N_("Vote once both answers are complete; the names are shown after the vote.")


@dataclass
class ArenaSession:
    """What the Arena page keeps between runs besides its widgets."""

    open_id: str | None = None  # the battle shown; None: a new one is set up
    library_id: str | None = None  # the library entry the next battle uses
    options: ConversationOptions | None = None  # ... and its options (both bots alike)
    prompt_back: str | None = None  # text for the prompt box (a refusal, a library starter)
    go_to_chat: bool = False  # "Continue with" made a chat: open the chat page


def session() -> ArenaSession:
    return page_state(Keys.ARENA, ArenaSession)


def get_arena() -> Arena:
    return Arena(get_store())


def _notice(kind: flash.Kind, text: str) -> None:
    flash.flash(FLASH_AREA, text, kind)


def usable_bots(bots: Sequence[Bot]) -> list[Bot]:
    """The catalogue's bots the member may use (their groups, `webapp.groups`):
    the only ones the shortlist offers and a battle draws from."""
    return groups_view.usable(groups_view.current_access(current_member()), bots)


def contenders(bots: Sequence[Bot]) -> list[Contender]:
    """The bots the member may draw from: the shortlist when it names two or
    more, else every bot the member may use. Access is read afresh (not the
    page's kept copy): a bot taken away since the page was drawn is not drawn."""
    access = access_for(get_store().engine, current_member().username)
    every = [Contender(b.slug, b.name or b.slug) for b in bots]
    return eligible(every, access.allows, st.session_state.get(Keys.ARENA_SHORTLIST) or ())


# ------------------------------------------------------------- callbacks


@member_action(FLASH_AREA)
def start_battle(bots: Sequence[Bot]) -> None:
    """Start a battle for the typed prompt between two drawn bots."""
    state, page = st.session_state, session()
    text = state.get(Keys.ARENA_PROMPT) or ""
    options = page.options or ConversationOptions()
    if page.library_id:
        options = options.model_copy(update={"library_prompt_id": page.library_id})
    try:
        battle = run.start(
            get_arena(), get_answers(), current_member(), contenders(bots), text, options=options
        )
    except AnswerRefused as refused:
        _notice("error", refused.reason)
        return
    except ValueError as err:
        _notice("error", str(err))
        return
    except chat.DATABASE_ERRORS:
        _notice("error", chat.PROMPT_NOT_SAVED)
        return
    page.open_id, page.library_id, page.options = battle.id, None, None
    state[Keys.ARENA_PROMPT] = ""


@member_action(FLASH_AREA)
def cast_vote(battle_id: str, outcome: str) -> None:
    """The member's vote; refused before both answers are complete, and
    after the first vote (the store's UNIQUE row decides)."""
    try:
        run.vote(get_arena(), current_member(), battle_id, outcome)
    except (NotFinished, AlreadyVoted) as err:
        _notice("warning", str(err))
    except ConversationNotFound:
        _notice("error", _("That battle no longer exists."))
    except chat.DATABASE_ERRORS:
        _notice("error", _("Your vote could not be saved; try again."))


@member_action(FLASH_AREA)
def stop_both(battle_id: str) -> None:
    member, arena = current_member(), get_arena()
    try:
        run.stop_all(arena, get_answers(), member, arena.get(member, battle_id))
    except (ConversationNotFound, *chat.DATABASE_ERRORS):
        _notice("error", _("The answers could not be stopped; try again."))


@member_action(FLASH_AREA)
def retry_side(battle_id: str, side: int) -> None:
    member, arena = current_member(), get_arena()
    try:
        run.retry(arena, get_answers(), member, arena.get(member, battle_id), side)
    except AnswerRefused as refused:
        _notice("error", refused.reason)
    except (ConversationNotFound, *chat.DATABASE_ERRORS):
        _notice("error", _("That answer could not be started again; try once more."))


@member_action(FLASH_AREA)
def continue_with(battle_id: str, side: int) -> None:
    """A normal chat with that bot (after the vote), opened on the chat page."""
    try:
        made = get_arena().continue_with(current_member(), battle_id, side)
    except NotFinished as err:
        _notice("warning", str(err))
        return
    except (ConversationNotFound, *chat.DATABASE_ERRORS):
        _notice("error", _("That chat could not be made; try again."))
        return
    st.session_state[Keys.CHAT_OPEN_ID] = made.id
    session().go_to_chat = True


@member_action(FLASH_AREA)
def apply_library_entry(entry_id: str) -> None:
    """A library entry's starter (variables filled) goes in the prompt box;
    its options apply to both bots. Nothing is sent by itself."""
    try:
        entry, values = entry_with_values(entry_id, LIBRARY_WHERE)
    except (PromptNotFound, VariablesMissing) as err:
        _notice("error", str(err))
        return
    page = session()
    page.library_id = entry.id
    page.options = entry.options.model_copy(
        update={"system_instruction": entry.system_instruction or None}
    )
    page.prompt_back = fill_template(entry.starter_prompt, values) if entry.starter_prompt else ""
    _notice(
        "success",
        _("Applied “{name}”: start the battle when ready.").format(name=md.escape(entry.name)),
    )


@view_action
def new_battle() -> None:
    session().open_id = None


def follow_to_chat() -> None:
    """After "Continue with": open the new chat on the chat page."""
    page = session()
    if page.go_to_chat:
        page.go_to_chat = False
        st.switch_page(CHAT_PAGE)


# ---------------------------------------------------------------- drawing


def render_library_picker() -> None:
    """Take the prompt from a prompt-library entry (the any-bot ones)."""
    render_entry_picker(
        [e for e in get_library().visible(current_member()) if not e.bot_slug],
        label=_("Prompt from the library (optional)"),
        key="arena_library_pick",
        where=LIBRARY_WHERE,
        button=_("Use this prompt"),
        button_key="arena_library_apply",
        on_click=apply_library_entry,
    )


def render_setup(catalogue: Sequence[Bot]) -> None:
    """Before a battle: the prompt, and optionally a shortlist of the bots
    the member may use (only those are offered, and drawn)."""
    page = session()
    if page.prompt_back is not None:
        st.session_state[Keys.ARENA_PROMPT], page.prompt_back = page.prompt_back, None
    bots = usable_bots(catalogue)
    if catalogue and len(bots) < 2:
        st.info(
            ngettext(
                "The arena needs at least two bots you may use; your groups allow "
                "{count}. Ask an admin for access to more bots.",
                "The arena needs at least two bots you may use; your groups allow "
                "{count}. Ask an admin for access to more bots.",
                len(bots),
            ).format(count=len(bots)),
            icon=":material/lock:",
        )
    render_library_picker()
    labels = chat.bot_labels(bots)
    shortlist = st.session_state.get(Keys.ARENA_SHORTLIST)
    if shortlist and any(slug not in labels for slug in shortlist):
        # A bot no longer allowed (or gone) leaves the shortlist before it is drawn.
        st.session_state[Keys.ARENA_SHORTLIST] = [s for s in shortlist if s in labels]
    st.multiselect(
        _("Shortlist (optional: two or more bots to draw from; none: all you may use)"),
        list(labels),
        format_func=labels.__getitem__,
        key=Keys.ARENA_SHORTLIST,
        placeholder=_("All bots"),
    )
    with st.form("arena_prompt_form", border=False):
        st.text_area(
            _("Your prompt"),
            key=Keys.ARENA_PROMPT,
            max_chars=100_000,
            placeholder=_("Two bots, drawn for you, answer it blind"),
        )
        st.form_submit_button(
            _("Start battle"),
            type="primary",
            icon=":material/swords:",
            disabled=len(bots) < 2,
            on_click=start_battle,
            args=(bots,),
        )
    st.caption(
        _(
            "Two bots answer side by side as Bot A and Bot B; their names stay "
            "hidden until you vote. Every pair of bots gets its turn."
        )
    )


def _heading(battle: Battle, side: int) -> str:
    if not battle.revealed:
        return f"**{SIDES[side]}**"
    return f"**{SIDES[side]}: {md.escape(battle.bots[side].name or battle.bots[side].slug)}**"


def _shown_text(battle: Battle, text: str, *, streaming: bool = False) -> str:
    """An answer's text as shown: masked until the vote."""
    return text if battle.revealed else mask(text, battle.bots, streaming=streaming)


def _status(message: Message) -> None:
    if message.status == AnswerStatus.STOPPED:
        st.caption(_(":material/stop_circle: Stopped: the part received before Stop."))
    elif message.status in RETRYABLE_STATUSES:
        st.error(md.escape(message.error or chat.INTERRUPTED_MESSAGE), icon=":material/error:")


def render_battle(battle: Battle, bots_by_slug: dict[str, Bot]) -> None:
    """The prompt, both answers side by side (live until both end), the vote
    or its outcome, and the controls of each side."""
    member, arena = current_member(), get_arena()
    with st.chat_message("user", avatar=USER_AVATAR):
        st.markdown(render.prompt_html(battle.prompt), unsafe_allow_html=True)
    answers = arena.answers(member, battle)
    live_slots: list[tuple[Message, Any, Any]] = []
    for side, (column, message) in enumerate(zip(st.columns(2, border=True), answers, strict=True)):
        bot = battle.bots[side]
        avatar = BLIND_AVATAR
        if battle.revealed:
            found = bots_by_slug.get(bot.slug)
            avatar = avatar_for(found.avatar_url if found else None, bot.name or bot.slug)
        with column:
            st.markdown(_heading(battle, side))
            with st.chat_message("assistant", avatar=avatar):
                if message is None:
                    st.caption(_("Waiting for the answer…"))
                    continue
                if message.status == AnswerStatus.STREAMING:
                    live_slots.append((message, st.empty(), st.empty()))
                    continue
                if message.text:
                    shown = _shown_text(battle, message.text)
                    st.markdown(render.answer_html(shown), unsafe_allow_html=True)
                _status(message)
            row = st.container(horizontal=True)
            if not battle.revealed and message.status != AnswerStatus.COMPLETE:
                row.button(
                    _("Retry"),
                    key=f"arena_retry_{side}",
                    icon=":material/refresh:",
                    on_click=retry_side,
                    args=(battle.id, side),
                )
            if battle.revealed:
                row.button(
                    _("Continue with {value}").format(value=bot.name or bot.slug),
                    key=f"arena_continue_{side}",
                    icon=":material/chat:",
                    type="tertiary",
                    on_click=continue_with,
                    args=(battle.id, side),
                )
    render_vote(battle)
    if live_slots or any(m is None for m in answers):
        st.button(
            _("Stop both"),
            key="arena_stop",
            icon=":material/stop_circle:",
            on_click=stop_both,
            args=(battle.id,),
        )
        follow_live(member, battle, live_slots)
        if any(m is None for m in answers):
            time.sleep(POLL_EVERY)
        st.rerun()  # draw the ended answers with their controls and the vote


def render_vote(battle: Battle) -> None:
    """The four vote buttons before the vote; what was voted after it."""
    if battle.revealed and battle.outcome is not None:
        st.success(
            _("You voted: {value}. The names are shown above.").format(
                value=OUTCOME_LABELS[battle.outcome]
            ),
            icon=":material/how_to_vote:",
        )
        st.button(_("New battle"), key="arena_new", icon=":material/add:", on_click=new_battle)
        return
    row = st.container(horizontal=True)
    for outcome, label in OUTCOME_LABELS.items():
        row.button(
            label,
            key=f"arena_vote_{outcome}",
            help=_(VOTE_HELP),
            on_click=cast_vote,
            args=(battle.id, outcome),
        )
    row.button(
        _("New battle"),
        key="arena_new",
        icon=":material/add:",
        type="tertiary",
        help=_("Leave this battle without a vote (it stays out of the leaderboard)."),
        on_click=new_battle,
    )


def follow_live(member: Member, battle: Battle, slots: list[tuple[Message, Any, Any]]) -> None:
    """Redraw each live answer from its text until both have ended, masked
    on the whole text each time (a name split over pieces is still caught)."""
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
                text, ended, wait = row.text, row.status != AnswerStatus.STREAMING, None
            if text:
                shown = _shown_text(battle, text, streaming=not ended)
                text_slot.markdown(render.answer_html(shown), unsafe_allow_html=True)
            if ended:
                status_slot.empty()
                continue
            status_slot.caption(describe_wait(wait, _("The bot")) if not text or wait else "…")
            still.append((message, text_slot, status_slot))
        pending = still
        if pending:
            time.sleep(POLL_EVERY)
