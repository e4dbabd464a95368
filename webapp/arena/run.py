"""Running an arena battle: two bots answer one prompt at once through the
background answers (`webapp.answers`), as Compare's columns do: the team's
slots, the member's budget (admitted once for both, before anything is
saved) and Stop all apply.

No Streamlit here: the page (`webapp.arena.view`) calls these, and the tests
drive them against the emulator and a real database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from webapp.arena.blind import Contender, draw_pair
from webapp.arena.store import Arena, Battle
from webapp.conversations.model import AnswerStatus, Message
from webapp.conversations.options import ConversationOptions
from webapp.conversations.store import Owner
from webapp.ui.i18n import _

if TYPE_CHECKING:
    from webapp.answers import AnswerService


def start(
    arena: Arena,
    answers: AnswerService,
    owner: Owner,
    bots: Sequence[Contender],
    prompt: str,
    *,
    options: ConversationOptions | None = None,
    rng: random.Random | None = None,
) -> Battle:
    """A new battle for `prompt` between two of `bots` (those the member may
    use, or their shortlist: `webapp.arena.blind.eligible`), drawn by
    `draw_pair` so the least-battled pair goes first; both answers started
    at once. ValueError for a blank prompt or fewer than two bots;
    `AnswerRefused` (from `answers.admit`) before anything is saved."""
    if not prompt.strip():
        raise ValueError(_("An empty message cannot be sent."))
    pair = draw_pair(bots, arena.pair_battles(), rng)
    # Both bots named: a bot the member may not use is refused before the
    # battle is saved (not at its first answer, leaving an empty battle).
    admission = answers.admit(owner, bots=(pair[0].slug, pair[1].slug))
    battle = arena.create(owner, pair, prompt, options)
    for column in battle.columns:
        answers.submit(owner, column, prompt, admission=admission)
    return battle


def answer_ended(message: Message | None) -> bool:
    """An answer that exists and is no longer being generated."""
    return message is not None and message.status != AnswerStatus.STREAMING


def both_complete(arena: Arena, owner: Owner, battle: Battle) -> bool:
    """Both answers finished in full (not streaming, stopped, failed or cut
    off): only then may the battle be voted on."""
    return all(
        m is not None and m.status == AnswerStatus.COMPLETE for m in arena.answers(owner, battle)
    )


def vote(arena: Arena, owner: Owner, battle_id: str, outcome: str) -> Battle:
    """The owner's vote, refused (`NotFinished`) until both answers are
    complete and (`AlreadyVoted`) after the first vote (see `Arena.vote`)."""
    battle = arena.get(owner, battle_id)
    return arena.vote(owner, battle_id, outcome, complete=both_complete(arena, owner, battle))


def stop_all(arena: Arena, answers: AnswerService, owner: Owner, battle: Battle) -> int:
    """Stop both answers now (each keeps what arrived); how many were stopped."""
    stopped = 0
    for message in arena.answers(owner, battle):
        if message is not None and not answer_ended(message) and answers.stop(owner, message.id):
            stopped += 1
    return stopped


def retry(arena: Arena, answers: AnswerService, owner: Owner, battle: Battle, side: int) -> None:
    """Ask one side again after its answer failed or was stopped: that answer
    goes, the prompt is answered anew (`AnswerRefused` before it is deleted)."""
    admission = answers.admit(owner)
    column = battle.columns[side]
    last = answers.store.messages(owner, column, limit=1).messages
    if last and last[-1].role == "assistant" and answer_ended(last[-1]):
        answers.store.delete_messages_from(owner, column, last[-1].seq)
    answers.start(owner, column, admission=admission)
