"""The budget check without Streamlit: whether a member may start an answer now.

`BudgetGate` is one of the answer service's admission rules
(`webapp.answers.admission`), given to `AnswerService(rules=...)` by
`webapp.backend`: the service asks it before any answer starts, whichever
way (a send, Retry, Regenerate, Edit, Compare, "Answer it", or the worker
starting a queued prompt on its own), and writes nothing when it refuses.
The page's status line (`webapp.budgets.view.status_for`) counts the same way
(`member_status`: `webapp.budgets.count`, API figure + this app's answers
since, the figures kept per process in `FIGURES`) against the same limits
(`webapp.budgets.book`). A refusal is written to the audit log once.

The check and the admission are one step per member: `BudgetGate` counts
the month (answers in flight at their estimate, `webapp.budgets.holds`) and
writes the admitted answer's hold in one transaction that runs alone among
that member's checks, in every app process (`serialised_write`: SQLite's
write lock, a PostgreSQL advisory lock per member). So five browsers
pressing Enter at once with 20 words left start one answer, not three. It is
`Reserving`: the answer service binds the hold to the answer it starts,
lets it lapse when none starts, and drops it when the answer ends.

Blocking (database and, at most once a minute per member, the API, read
before the transaction): the worker calls it in a thread, off its event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import date
from typing import Final, Protocol

from ablt_core import AbltClient, UsageTotals
from webapp.answers.admission import TICKET_TTL, AdmissionRequest
from webapp.audit import AuditLog
from webapp.budgets import holds
from webapp.budgets.book import BudgetBook, Limit
from webapp.budgets.count import (
    FIGURES,
    BudgetStatus,
    Fetch,
    FigureCache,
    in_flight_note,
    month_figure,
    month_usage,
    next_month_start,
    refusal_message,
    status_of,
    usage_on,
)
from webapp.conversations.store import ConversationNotFound, ConversationStore, Owner
from webapp.db.engine import serialised_write
from webapp.team.members import MemberStore
from webapp.text import literal as md
from webapp.ui.i18n import N_

log = logging.getLogger(__name__)

# How a refusal ends: where the refused prompt is now.
KEPT_IN_BOX: Final = N_("Your message is kept in the box.")
KEPT_QUEUED: Final = N_(
    "Your queued message stays queued: send it once your limit allows, or cancel it."
)


class Named(Protocol):
    """A team member as the refusal names admins (`webapp.auth.gate.Member` fits)."""

    @property
    def username(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...


def admin_names(members: Sequence[Named]) -> list[str]:
    """The team's admins as "Name (username)", for the refusal's "ask ...".

    The refusal is drawn as Markdown (an alert, a caption), so each name and
    username is escaped (`webapp.text.literal.escape`): shown as typed."""
    return [
        f"{md.escape(m.name)} ({md.escape(m.username)})" if m.name else md.escape(m.username)
        for m in members
        if m.is_admin
    ]


def member_status(
    store: ConversationStore,
    member: Owner,
    fetch: Fetch,
    *,
    base_url: str = "",
    limit: Limit | None = None,
    always: bool = False,
    cache: FigureCache = FIGURES,
) -> BudgetStatus:
    """The member's budget status now (their limit from `BudgetBook` unless
    `limit` is given). Without a limit the usage is not counted (0) unless
    `always`. `fetch` reads the API's totals (see `count.Fetch`); `base_url`
    keys the kept figures. Raises the store's database errors; an unreadable
    API falls back to the month's local count."""
    limit = limit or BudgetBook(store.engine).limit_for(member.username)
    now = store.now()
    if limit.amount is None and not always:
        return BudgetStatus(limit, 0, next_month_start(now))
    used = month_usage(
        store, member.username, member.user_id, fetch, base_url=base_url, cache=cache, now=now
    )
    return status_of(limit, used, now)


def record_refusal(
    store: ConversationStore,
    member: Owner,
    status: BudgetStatus,
    admins: list[str],
    *,
    kept: str = KEPT_IN_BOX,
) -> str:
    """The refusal's sentence for a used-up `status`, written to the audit log
    first (a log that cannot be written is logged; the refusal stands)."""
    try:
        AuditLog(store.engine).record_refusal(
            member,
            f"{status.used:,} of {status.limit.amount or 0:,} {status.limit.unit} used this "
            f"month{in_flight_note(status)}",
        )
    except Exception:
        log.warning("Could not write a budget refusal to the audit log", exc_info=True)
    return refusal_message(status, admins, kept=kept)


class BudgetGate:
    """The month's budget as an admission rule: `gate(request)` is None when
    the member may start an answer, else the refusal's sentence (recorded in
    the audit log), naming the team's admins and where the prompt is kept
    (`request.queued`: it stays queued; else it is kept in the message box).

    The count (answers in flight at their estimate) and, when it admits, the
    hold for `request.ticket` are one transaction, serialised per member
    across threads and processes (see the module). A request without a
    ticket is only checked. As `Reserving` (`webapp.answers.admission`) it
    binds, releases and drops holds as the answer service reports.

    For `AnswerService(rules=[...])`. `client`: a synchronous client on the
    app's API (its usage statistics are the budget's figure); `base_url` keys
    the kept figures as the page does (`webapp.bots.catalogue.client_base_url`).
    Raises the store's database errors (nothing is started then either).
    """

    # Its refusals' label in /metrics (ablt_chat_answers_refused_total{rule="budget"}).
    metric_name: Final = "budget"

    def __init__(
        self,
        store: ConversationStore,
        client: AbltClient,
        *,
        base_url: str = "",
        cache: FigureCache = FIGURES,
    ) -> None:
        self.store = store
        self.client = client
        self.base_url = base_url
        self.cache = cache
        # What this gate reserved in this process (a ticket is claimed, and its
        # answer ends, in the process that admitted it): a member without a
        # limit holds nothing, so starting and ending their answers writes
        # nothing here (5 statements fewer before a first piece).
        self._reserved = _Reserved()

    def _fetch(self, user_id: int, start: date, end: date) -> UsageTotals:
        return self.client.get_usage_statistics(start, end, user_id).total

    def status(self, member: Owner) -> BudgetStatus:
        """The member's status now (see `member_status`)."""
        return member_status(
            self.store, member, self._fetch, base_url=self.base_url, cache=self.cache
        )

    def __call__(self, request: AdmissionRequest, /) -> str | None:
        member = request.owner
        status = self._check_and_hold(request)
        if status is None or status.may_send:
            return None
        admins = admin_names(MemberStore(self.store.engine).members())
        kept = KEPT_QUEUED if request.queued else KEPT_IN_BOX
        return record_refusal(self.store, member, status, admins, kept=kept)

    def _estimate(self, owner: Owner, conversation_id: str | None) -> int:
        """The answer's estimate in words: its conversation's `max_words`, else
        the bot default (also when the conversation is not known yet)."""
        if conversation_id is None:
            return holds.estimate_words(None)
        try:
            options = self.store.get_conversation(owner, conversation_id).options
        except ConversationNotFound:
            return holds.estimate_words(None)
        return holds.estimate_words(options.max_words)

    def _check_and_hold(self, request: AdmissionRequest) -> BudgetStatus | None:
        """The member's status, counted in the serialised transaction that also
        writes the ticket's hold when the answer may start; None without a
        limit (nothing to count or hold)."""
        member = request.owner
        limit = BudgetBook(self.store.engine).limit_for(member.username)
        if limit.amount is None:
            return None
        words = self._estimate(member, request.conversation_id)
        now = self.store.now()
        # The API is read (at most once a minute) before the lock is taken.
        figure = month_figure(
            self.store,
            member.user_id,
            self._fetch,
            base_url=self.base_url,
            cache=self.cache,
            now=now,
        )
        with serialised_write(self.store.engine, holds.member_lock(member.username)) as conn:
            now = self.store.now()  # the lock may have been waited for
            held = holds.counting(conn, member.username, now)
            status = status_of(limit, usage_on(conn, member.username, figure, now, held), now)
            holds.sweep(conn, member.username, {h.id for h in held}, now)
            if status.may_send and request.ticket:
                holds.reserve(conn, request.ticket, member.username, words, now)
                self._reserved.ticket(request.ticket)
        return status

    # -- Reserving: what became of a ticket --------------------------------------

    def claimed(self, ticket: str, owner: Owner, answer_id: str, conversation_id: str) -> None:
        """The ticket's hold becomes the started answer's, at its conversation's
        estimate (nothing to do when this gate reserved nothing for it)."""
        if not self._reserved.has_ticket(ticket):
            return
        words = self._estimate(owner, conversation_id)
        with self.store.transaction(write=True) as conn:
            bound = holds.bind(conn, ticket, answer_id, words, self.store.now())
        if bound:
            self._reserved.answer(answer_id)

    def unused(self, ticket: str) -> None:
        """No answer was started with the ticket: its hold lapses now."""
        if not self._reserved.has_ticket(ticket):
            return
        with self.store.transaction(write=True) as conn:
            holds.release_ticket(conn, ticket, self.store.now())
        self._reserved.forget_ticket(ticket)

    def ended(self, answer_id: str) -> None:
        """The answer ended: its own words count now; its hold goes."""
        if not self._reserved.has_answer(answer_id):
            return
        with self.store.transaction(write=True) as conn:
            holds.release_answer(conn, answer_id)
        self._reserved.forget_answer(answer_id)


class _Reserved:
    """The tickets and answers a `BudgetGate` holds words for, in this process
    (thread-safe: pages and the answers' worker both ask). A ticket stays
    known until `TICKET_LIFE` s after it was reserved (a Compare ticket starts
    several answers); an answer until it ends. What a crash leaves behind in
    the database lapses there by itself (`holds`)."""

    TICKET_LIFE: Final = 2 * TICKET_TTL

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tickets: dict[str, float] = {}
        self._answers: set[str] = set()

    def ticket(self, ticket: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._tickets[ticket] = now
            if len(self._tickets) > 1000:
                old = now - self.TICKET_LIFE
                for known, at in list(self._tickets.items()):
                    if at < old:
                        del self._tickets[known]

    def has_ticket(self, ticket: str) -> bool:
        with self._lock:
            return ticket in self._tickets

    def forget_ticket(self, ticket: str) -> None:
        with self._lock:
            self._tickets.pop(ticket, None)

    def answer(self, answer_id: str) -> None:
        with self._lock:
            self._answers.add(answer_id)

    def has_answer(self, answer_id: str) -> bool:
        with self._lock:
            return answer_id in self._answers

    def forget_answer(self, answer_id: str) -> None:
        with self._lock:
            self._answers.discard(answer_id)
