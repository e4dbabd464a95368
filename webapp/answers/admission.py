"""Whether an answer may start: the one admission point, for every way of starting one.

`AnswerService.admit(owner)` asks each of its `AdmissionRule`s in turn (the
month's budget: `webapp.budgets.check.BudgetGate`; bot access for the
member's groups: `webapp.groups.admission.BotAccessRule`) and returns an `Admission`, or raises
`AnswerRefused` with the first refusal's sentence. `AnswerService.submit` and
`start` take that ticket; without one they admit the member themselves
before writing any row, so no way of starting an answer skips the rules.

A change that must not happen when the answer is refused (Retry deletes the
failed answer, Regenerate makes a new version, Edit a new branch, a
comparison its columns, a send saves a new chat) asks for the ticket first,
makes the change, then starts the answer with it.

A rule that depends on the conversation (its bot) is also `Rechecking`:
`submit` and `start` ask it again with the conversation they start, even
with a ticket in hand, so a ticket asked for without naming the
conversation cannot start an answer the rule would refuse.

A rule may reserve something for the answers it admits (the budget's hold:
`webapp.budgets.check.BudgetGate` counts answers in flight at an estimate and
reserves it in the same transaction as its check, so parallel sends cannot
all pass one check). Such a rule is `Reserving`: the service tells it what
became of the ticket (an answer started with it, or none) and when that
answer ended. A ticket older than `TICKET_TTL` is not taken: the member is
admitted again.

No Streamlit here; the rules may block (database, API): call them off an
event loop.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol, runtime_checkable

from webapp.conversations.store import Owner
from webapp.operations import metrics

log = logging.getLogger(__name__)

# Seconds a ticket may wait before an answer is started with it: a page uses
# it within its callback; older, the member is admitted again, and what a
# rule reserved for it lapses (`Reserving`).
TICKET_TTL: Final = 120.0


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """What a rule decides on: who asks, and where the prompt waits meanwhile.

    `queued`: the prompt to answer is queued (typed ahead), so a refusal says
    it stays queued; else it says the prompt is kept in the message box.
    `ticket`: the id of the ticket being decided (what a `Reserving` rule files
    its reservation under); `conversation_id`: the conversation to answer,
    when known (a rule may estimate the answer from its options). `bots`:
    the slugs of the bots that would answer, when the page knows them before
    the conversation exists (a new chat, a comparison's columns).
    """

    owner: Owner
    queued: bool = False
    ticket: str = ""
    conversation_id: str | None = None
    bots: tuple[str, ...] = ()


class AdmissionRule(Protocol):
    """One rule of the gate: None to let the answer start, else the refusal's
    sentence in plain words (saying whom to ask). A rule records its own
    refusals (e.g. in the audit log), once per call. It may raise (e.g. the
    database's errors): the answer is then not started either."""

    def __call__(self, request: AdmissionRequest, /) -> str | None: ...


class AnswerRefused(Exception):
    """An answer may not start now; `reason` is the sentence to show the member."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Reserving(Protocol):
    """A rule that reserves something for each answer it admits, until the
    answer ends. The answer service tells it what became of a ticket; each
    call may raise the database's errors (the service logs them: a
    reservation not released lapses by itself)."""

    def claimed(self, ticket: str, owner: Owner, answer_id: str, conversation_id: str) -> None:
        """An answer (`answer_id`, of `conversation_id`) was started with `ticket`."""

    def unused(self, ticket: str) -> None:
        """No answer was started with `ticket` this time (nothing was due, or
        the prompt was queued): release what is reserved for it."""

    def ended(self, answer_id: str) -> None:
        """The answer ended (its final save is done, whatever its status)."""


@runtime_checkable
class Rechecking(Protocol):
    """A rule asked again when an answer starts in a known conversation,
    whatever ticket the caller holds (e.g. the conversation's bot may not be
    used): None to let it start, else the refusal's sentence."""

    def recheck(self, request: AdmissionRequest, /) -> str | None:
        """The rule for `request.conversation_id`, without reserving anything."""


@dataclass(frozen=True, slots=True)
class Admission:
    """The ticket `AnswerService.admit` hands out: answers for `username` may
    start. Made only by `admit` (below); `submit` / `start` refuse a ticket of
    another member (ValueError), and admit again for one older than
    `TICKET_TTL`. `ticket`: its id (a `Reserving` rule's reservation is filed
    under it); `issued`: `time.monotonic()` when it was made. Neither takes
    part in equality."""

    username: str
    queued: bool = False
    ticket: str = field(default="", compare=False)
    issued: float = field(default=0.0, compare=False)

    @property
    def stale(self) -> bool:
        """True once the ticket is older than `TICKET_TTL` (admit again)."""
        return time.monotonic() - self.issued > TICKET_TTL


def admit(
    rules: Sequence[AdmissionRule],
    owner: Owner,
    *,
    queued: bool = False,
    conversation_id: str | None = None,
    bots: Sequence[str] = (),
) -> Admission:
    """Ask `rules` in order about a new ticket; the ticket when all let the
    answer start (`bots`: see `AdmissionRequest`).

    Raises `AnswerRefused` with the first refusal (later rules are not asked,
    so a refusal is recorded once), and whatever a rule raises; either way
    the `Reserving` rules asked before release what they reserved.
    """
    request = AdmissionRequest(owner, queued, str(uuid.uuid4()), conversation_id, tuple(bots))
    passed: list[AdmissionRule] = []
    try:
        for rule in rules:
            reason = rule(request)
            if reason is not None:
                metrics.answer_refused(rule)
                raise AnswerRefused(reason)
            passed.append(rule)
    except BaseException:
        release(passed, request.ticket)
        raise
    return Admission(owner.username, queued, request.ticket, time.monotonic())


def release(rules: Sequence[AdmissionRule], ticket: str) -> None:
    """Tell the `Reserving` rules that no answer was started with `ticket`
    (errors are logged: the reservation then lapses after `TICKET_TTL`)."""
    for rule in rules:
        if isinstance(rule, Reserving):
            try:
                rule.unused(ticket)
            except Exception:
                log.warning("Could not release an unused admission", exc_info=True)


def recheck(
    rules: Sequence[AdmissionRule], owner: Owner, admission: Admission, conversation_id: str
) -> None:
    """Ask the `Rechecking` rules about `conversation_id` for a ticket in hand;
    on a refusal (`AnswerRefused`) or an error the ticket's reservations are
    released first."""
    request = AdmissionRequest(owner, admission.queued, admission.ticket, conversation_id)
    try:
        for rule in rules:
            if isinstance(rule, Rechecking):
                reason = rule.recheck(request)
                if reason is not None:
                    raise AnswerRefused(reason)
    except BaseException:
        release(rules, admission.ticket)
        raise
