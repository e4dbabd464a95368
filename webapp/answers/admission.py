"""Whether an answer may start: the one admission point, for every way of starting one.

`AnswerService.admit(owner)` asks each of its `AdmissionRule`s in turn (the
month's budget now: `webapp.budgets.check.BudgetGate`; bot access for the
member's groups will be another rule) and returns an `Admission`, or raises
`AnswerRefused` with the first refusal's sentence. `AnswerService.submit` and
`start` take that ticket; without one they admit the member themselves
before writing any row, so no way of starting an answer skips the rules.

A change that must not happen when the answer is refused (Retry deletes the
failed answer, Regenerate makes a new version, Edit a new branch, a
comparison its columns, a send saves a new chat) asks for the ticket first,
makes the change, then starts the answer with it.

No Streamlit here; the rules may block (database, API): call them off an
event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from webapp.conversations.store import Owner


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """What a rule decides on: who asks, and where the prompt waits meanwhile.

    `queued`: the prompt to answer is queued (typed ahead), so a refusal says
    it stays queued; else it says the prompt is kept in the message box.
    """

    owner: Owner
    queued: bool = False


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


@dataclass(frozen=True, slots=True)
class Admission:
    """The ticket `AnswerService.admit` hands out: answers for `username` may
    start. Made only by `admit` (below); `submit` / `start` refuse a ticket of
    another member (ValueError)."""

    username: str
    queued: bool = False


def admit(rules: Sequence[AdmissionRule], request: AdmissionRequest) -> Admission:
    """Ask `rules` in order; the ticket when all let the answer start.

    Raises `AnswerRefused` with the first refusal (later rules are not asked,
    so a refusal is recorded once), and whatever a rule raises.
    """
    for rule in rules:
        reason = rule(request)
        if reason is not None:
            raise AnswerRefused(reason)
    return Admission(request.owner.username, request.queued)
