"""`BotAccessRule`: the answer service's rule that an answer comes only from a
bot the member may use (`webapp.groups.model`: any of their groups allows
it; in no group, the team's setting).

Given to `AnswerService(rules=...)` by `webapp.backend`, beside the budget's
`BudgetGate`. The service asks it before any answer starts, whichever way: a
send (a crafted widget event included), Retry, Regenerate, Edit, a queued
prompt started by the worker, an imported conversation, a copied share,
Compare. As `Rechecking` it is asked again with the conversation an answer
starts in, so a ticket asked for without naming it starts nothing the rule
would refuse. A refusal writes nothing and sends nothing; the conversation
stays readable and exportable.

Blocking (two small reads): the worker calls it in a thread. The recheck of a
ticket a moment after its admission found the same bots allowed reads only the
conversation (`RECHECK_TRUSTS_ADMISSION_FOR`), unless a group or the team's
setting was written in this process since.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Final

from webapp.answers.admission import AdmissionRequest
from webapp.conversations.store import ConversationNotFound, ConversationStore, Owner
from webapp.groups.store import access_for, writes_so_far
from webapp.text import literal as md
from webapp.ui.i18n import N_

KEPT_IN_BOX: Final = N_("Your message is kept in the box.")
KEPT_QUEUED: Final = N_("Your queued message stays queued.")
# How long (s) a ticket's admission vouches for its bots at the recheck: a send
# admits, saves and starts within one callback, tens of milliseconds apart.
RECHECK_TRUSTS_ADMISSION_FOR: Final = 2.0
_KEPT_TICKETS: Final = 256  # tickets remembered at most (older ones are read again)


class BotAccessRule:
    """An admission rule: None when the member may use the bot(s) that would
    answer, else the refusal's sentence (the bot named, whom to ask, where
    the prompt is kept). The bots are `request.bots` when the page names them
    (a new chat, Compare), else the bot of `request.conversation_id`; with
    neither there is nothing to check here (`recheck` checks at the start).

    `store`: the conversation store (its engine holds the groups). Raises the
    database's errors (nothing is started then either).
    """

    def __init__(self, store: ConversationStore) -> None:
        self.store = store
        # ticket -> (time.monotonic(), group writes then, the bots found
        # allowed, whether the member could use every bot)
        self._allowed: dict[str, tuple[float, int, frozenset[str], bool]] = {}
        self._lock = threading.Lock()

    def _remember(
        self, ticket: str, writes: int, bots: Sequence[tuple[str, str]], all_bots: bool
    ) -> None:
        with self._lock:
            if len(self._allowed) >= _KEPT_TICKETS:
                self._allowed.pop(next(iter(self._allowed)))  # the oldest
            self._allowed[ticket] = (
                time.monotonic(),
                writes,
                frozenset(s for s, _ in bots),
                all_bots,
            )

    def _vouched(self, ticket: str) -> tuple[frozenset[str], bool] | None:
        """What `ticket`'s admission, just now, found (the bots allowed, and
        whether every bot was), when no group or team setting was written
        here since; None otherwise. Taken: a ticket vouches once."""
        with self._lock:
            kept = self._allowed.pop(ticket, None)
        if kept is None:
            return None
        at, writes, allowed, all_bots = kept
        if time.monotonic() - at >= RECHECK_TRUSTS_ADMISSION_FOR or writes != writes_so_far():
            return None
        return allowed, all_bots

    def _bots_of(self, owner: Owner, conversation_id: str | None) -> list[tuple[str, str]]:
        if not conversation_id:
            return []
        try:
            conversation = self.store.get_conversation(owner, conversation_id)
        except ConversationNotFound:
            return []  # the caller says so itself
        return [(conversation.bot_slug, conversation.bot_name or conversation.bot_slug)]

    def _decide(
        self, request: AdmissionRequest, bots: Sequence[tuple[str, str]]
    ) -> tuple[str | None, bool]:
        """(the refusal or None, whether the member may use every bot)."""
        if not bots:
            return None, False
        access = access_for(self.store.engine, request.owner.username)
        for slug, name in bots:
            if not access.allows(slug):
                kept = KEPT_QUEUED if request.queued else KEPT_IN_BOX
                return f"Not sent: {access.why_not(md.escape(name))} {kept}", False
        return None, access.all_bots

    def __call__(self, request: AdmissionRequest, /) -> str | None:
        bots = [(slug, slug) for slug in request.bots] or self._bots_of(
            request.owner, request.conversation_id
        )
        writes = writes_so_far()  # before the read: a write meanwhile voids it
        refusal, all_bots = self._decide(request, bots)
        if refusal is None and bots and request.ticket:
            self._remember(request.ticket, writes, bots, all_bots)
        return refusal

    def recheck(self, request: AdmissionRequest, /) -> str | None:
        """The rule for the conversation an answer starts in (`Rechecking`).
        A ticket admitted a moment ago for a member who may use every bot
        needs no read of which bot the conversation has."""
        vouched = self._vouched(request.ticket)
        if vouched is not None and vouched[1]:
            return None
        bots = self._bots_of(request.owner, request.conversation_id)
        if vouched is not None and bots and all(slug in vouched[0] for slug, _ in bots):
            return None
        return self._decide(request, bots)[0]
