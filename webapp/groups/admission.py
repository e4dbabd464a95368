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

Blocking (two small reads): the worker calls it in a thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from webapp.answers.admission import AdmissionRequest
from webapp.conversations.store import ConversationNotFound, ConversationStore, Owner
from webapp.groups.store import access_for
from webapp.text import literal as md
from webapp.ui.i18n import N_

KEPT_IN_BOX: Final = N_("Your message is kept in the box.")
KEPT_QUEUED: Final = N_("Your queued message stays queued.")


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

    def _bots_of(self, owner: Owner, conversation_id: str | None) -> list[tuple[str, str]]:
        if not conversation_id:
            return []
        try:
            conversation = self.store.get_conversation(owner, conversation_id)
        except ConversationNotFound:
            return []  # the caller says so itself
        return [(conversation.bot_slug, conversation.bot_name or conversation.bot_slug)]

    def _decide(self, request: AdmissionRequest, bots: Sequence[tuple[str, str]]) -> str | None:
        if not bots:
            return None
        access = access_for(self.store.engine, request.owner.username)
        for slug, name in bots:
            if not access.allows(slug):
                kept = KEPT_QUEUED if request.queued else KEPT_IN_BOX
                return f"Not sent: {access.why_not(md.escape(name))} {kept}"
        return None

    def __call__(self, request: AdmissionRequest, /) -> str | None:
        bots = [(slug, slug) for slug in request.bots] or self._bots_of(
            request.owner, request.conversation_id
        )
        return self._decide(request, bots)

    def recheck(self, request: AdmissionRequest, /) -> str | None:
        """The rule for the conversation an answer starts in (`Rechecking`)."""
        return self._decide(request, self._bots_of(request.owner, request.conversation_id))
