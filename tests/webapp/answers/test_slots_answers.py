"""The team's limit on simultaneous answers, with answers generated for real.

Answer services against the emulator over loopback (slowed down, and
counting the chats in flight itself: `emulator.inflight`) and a real
database (a SQLite file; PostgreSQL when ABLT_TEST_PG_URL is set). A second
service on its own connection pool stands for a second app process; the
tests that need a real second process are in `test_slots_processes.py`.
Bounded waits for a state, never a timed assertion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle, Fault
from tests.pg import BACKENDS, db_url_on
from tests.reliability import row
from tests.webapp import answer_helpers
from tests.webapp.answer_helpers import Member
from webapp.answers import AnswerService, describe_wait
from webapp.answers.slots import holder_id
from webapp.answers.slots_store import RATE_LIMITED, SlotBook
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore

NO_CAP = ContextLimits(max_messages=None, max_words=None)
SETTLE = 30.0


MEMBERS = [Member(name, n + 1) for n, name in enumerate(["ann", "bob", "cy", "dee", "eve"])]


# The shared bounded wait, with this module's longer bound.
until = partial(answer_helpers.until, timeout=SETTLE)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with db_url_on(request.param, tmp_path, "slots") as url:
        yield url


@pytest.fixture
def make_service(
    db_url: str, emulator: EmulatorHandle, test_token: str
) -> Iterator[Callable[..., AnswerService]]:
    """Answer services ("app processes") on one database, each with its own pool,
    and the team limit `limit` (the ABLT_MAX_CONCURRENT_ANSWERS setting)."""
    made: list[tuple[AnswerService, ConversationStore]] = []

    def make(limit: int | None = 2, stale: float = 30.0) -> AnswerService:
        store = ConversationStore(db_url)
        book = SlotBook(
            store.engine, holder_id(), configured=limit, stale_after=timedelta(seconds=stale)
        )
        service = AnswerService(
            store,
            lambda: AsyncAbltClient(test_token, emulator.base_url, max_retry_after=60),
            limits=NO_CAP,
            save_every=0.1,
            slots=book,
            slot_poll=0.2,
        )
        made.append((service, store))
        return service

    yield make
    for service, store in made:
        service.close()
        store.close()


def script(n: int) -> str:
    """The n-th request's answer: longer each time, so answers end one by one."""
    return " ".join(f"answer{n}-word{w}" for w in range(20 + 30 * n))


@row(
    "More members send at once than the team's limit (ABLT_MAX_CONCURRENT_ANSWERS)",
    happens="The extra answers wait in one line for the whole team, in the order sent.",
    sees="'Waiting for a free slot (number 2 in line)…'; the answer starts by itself.",
    kept="Every prompt; every answer, complete; never more in flight at the API than the limit.",
)
def test_with_the_limit_at_2_five_members_sending_at_once_never_have_more_than_2_in_flight(
    make_service: Callable[..., AnswerService], emulator: EmulatorHandle
) -> None:
    process_a, process_b = make_service(limit=2), make_service(limit=2)
    emulator.set_delay(0.03)
    for n in range(5):
        emulator.inject(Fault(kind="scripted_answer", text=script(n)))
    # Members on both processes, sending one after another within a moment.
    services = [process_a, process_b, process_a, process_b, process_a]
    pairs = list(zip(services, MEMBERS, strict=True))
    chats = [s.store.create_conversation(m, "omni", "Omni").id for s, m in pairs]
    sent = [
        s.submit(m, cid, f"Question of {m.username}")
        for s, m, cid in zip(services, MEMBERS, chats, strict=True)
    ]
    assert all(s.answer_id for s in sent)

    def notes() -> list[str | None]:
        waits = []
        for service, s in zip(services, sent, strict=True):
            live = service.live(s.answer_id)  # type: ignore[arg-type]
            wait = live.wait if live is not None else None
            waits.append(describe_wait(wait, "Omni") if wait and wait.kind == "line" else None)
        return waits

    until(lambda: notes()[2:] == [describe_wait_line(n) for n in (1, 2, 3)])
    assert notes()[:2] == [None, None]
    for service, s in zip(services, sent, strict=True):
        live = service.live(s.answer_id)  # type: ignore[arg-type]
        if live is not None:
            assert live.wait_done(SETTLE)
    answered = []
    for service, member, cid in zip(services, MEMBERS, chats, strict=True):
        prompt, answer = service.store.all_messages(member, cid)
        assert prompt.text == f"Question of {member.username}" and answer.status == "complete"
        answered.append(answer.text)
    # The first two started at once (their requests may arrive in either order);
    # the n-th prompt after them made the n-th request: answered in the order sent.
    assert set(answered[:2]) == {script(0), script(1)}
    assert answered[2:] == [script(n) for n in (2, 3, 4)]
    now, most = emulator.inflight
    assert most == 2 and now == 0  # counted at the API: the limit held, and was used
    assert process_a.team.book.status().rows == []  # every slot and place given back


def describe_wait_line(place: int) -> str:
    from webapp.answers import Wait

    return describe_wait(Wait("line", 0.0, ahead=place - 1, limit=2), "Omni")


def test_the_waiting_note_names_the_place_in_line_in_plain_words() -> None:
    assert describe_wait_line(2).startswith("Waiting for a free slot (number 2 in line)")
    assert "2 answers at once" in describe_wait_line(1)
    assert "API" not in describe_wait_line(3)  # our own line, not the API's fault


@row(
    "Stop pressed on an answer waiting for a team slot",
    happens="The wait ends at once; its place in line is freed for the next.",
    sees="The answer settles as stopped; no request was sent.",
    kept="The prompt.",
)
def test_stop_cancels_the_wait_and_frees_the_place_in_line(
    make_service: Callable[..., AnswerService], emulator: EmulatorHandle
) -> None:
    service = make_service(limit=1)
    emulator.inject(Fault(kind="slow_first_byte", seconds=60))
    ann, bob, cy = MEMBERS[:3]
    first = service.submit(ann, service.store.create_conversation(ann, "omni", "Omni").id, "One")
    waiting = service.submit(bob, service.store.create_conversation(bob, "omni", "Omni").id, "Two")
    cy_chat = service.store.create_conversation(cy, "omni", "Omni").id
    third = service.submit(cy, cy_chat, "Three")
    until(lambda: emulator.inflight[0] == 1)
    live = service.live(third.answer_id)  # type: ignore[arg-type]
    until(lambda: live is not None and live.wait is not None and live.wait.ahead == 1)
    assert service.stop(bob, waiting.answer_id, keep_chars=0)  # type: ignore[arg-type]
    until(lambda: live.wait is not None and live.wait.ahead == 0)  # type: ignore[union-attr]
    assert service.stop(ann, first.answer_id, keep_chars=0)  # type: ignore[arg-type]
    assert live is not None and live.wait_done(SETTLE)
    assert service.store.all_messages(cy, cy_chat)[-1].status == "complete"
    prompts = [r.json["messages"][-1]["content"] for r in emulator.requests if r.path == "/v1/chat"]
    assert prompts == ["One", "Three"]  # the stopped wait never reached the API


@row(
    "An answer ends in error, by Stop, or complete while holding a team slot",
    happens="Its slot is given back however it ended.",
    sees="The next answer in line starts.",
    kept="Every answer with its status; no slot left taken.",
)
def test_a_slot_is_given_back_however_the_answer_ends(
    make_service: Callable[..., AnswerService], emulator: EmulatorHandle
) -> None:
    service = make_service(limit=1)
    emulator.inject(Fault(kind="server_error", status=500, times=10))  # retries too: an error
    ann = MEMBERS[0]
    cid = service.store.create_conversation(ann, "omni", "Omni").id
    failed = service.submit(ann, cid, "Fails")
    live = service.live(failed.answer_id)  # type: ignore[arg-type]
    assert live is not None and live.wait_done(SETTLE) and live.status == "error"
    emulator.clear_faults()
    ok = service.submit(ann, cid, "Works")
    live = service.live(ok.answer_id)  # type: ignore[arg-type]
    assert live is not None and live.wait_done(SETTLE) and live.status == "complete"
    assert service.team.book.status().rows == []


@row(
    "The aBLT API answers 429 (rate limited) while answers stream",
    happens="The team's limit is lowered to half of what streams for a minute (or the "
    "Retry-After, at most 5 minutes; none when no limit is set), then recovers one slot at a "
    "time; an admin can lift it at once; the answer retries after Retry-After.",
    sees="'Rate limited by the aBLT API, retrying in N s'; the admin sees when it happened.",
    kept="The answer, complete after the retry.",
)
def test_a_429_lowers_the_team_limit_for_a_while_and_the_admin_sees_when(
    make_service: Callable[..., AnswerService], emulator: EmulatorHandle
) -> None:
    service = make_service(limit=4)
    emulator.inject(Fault(kind="rate_limit", retry_after=1))
    ann = MEMBERS[0]
    cid = service.store.create_conversation(ann, "omni", "Omni").id
    sent = service.submit(ann, cid, "Busy?")
    live = service.live(sent.answer_id)  # type: ignore[arg-type]
    assert live is not None and live.wait_done(SETTLE) and live.status == "complete"
    book = service.team.book
    until(lambda: any(e.kind == RATE_LIMITED for e in book.events()))
    (event,) = [e for e in book.events() if e.kind == RATE_LIMITED]
    assert (event.limit_before, event.limit_after) == (4, 1)
    status = book.status()
    assert status.effective == 1 and status.backoff is not None


def test_a_429_asking_for_an_hour_lowers_the_team_limit_only_up_to_the_cap_and_an_admin_lifts_it(
    make_service: Callable[..., AnswerService], emulator: EmulatorHandle
) -> None:
    """Issue 28 item 6: `Retry-After: 3600` held the team's limit at 1 for an
    hour. The hold is capped (`BACKOFF_MAX`), and an admin ends it at once."""
    service = make_service(limit=4)
    emulator.inject(Fault(kind="rate_limit", retry_after=3600))
    ann, bob = MEMBERS[0], MEMBERS[1]
    cid = service.store.create_conversation(ann, "omni", "Omni").id
    sent = service.submit(ann, cid, "Busy?")
    live = service.live(sent.answer_id)  # type: ignore[arg-type]
    assert live is not None and live.wait_done(SETTLE)  # an hour is not waited for
    book = service.team.book
    until(lambda: any(e.kind == RATE_LIMITED for e in book.events()))
    status = book.status()
    assert status.effective == 1 and status.backoff is not None
    assert status.backoff.until <= book.now() + timedelta(minutes=5)  # the README's cap
    from webapp.answers.slots_store import BACKOFF_MAX

    (event,) = [e for e in book.events() if e.kind == RATE_LIMITED]
    assert f"for {int(BACKOFF_MAX.total_seconds())} s" in event.detail

    assert book.lift_backoff(actor="admin")
    assert book.status().effective == 4
    emulator.clear_faults()  # two members' answers may stream at once again
    assert book.claim("elsewhere-1", "cy").granted and book.claim("elsewhere-2", "dee").granted
    for answer_id in ("elsewhere-1", "elsewhere-2"):
        book.release(answer_id)
    bob_cid = service.store.create_conversation(bob, "omni", "Omni").id
    again = service.submit(bob, bob_cid, "Now?")
    done = service.live(again.answer_id)  # type: ignore[arg-type]
    assert done is not None and done.wait_done(SETTLE) and done.status == "complete"


def test_a_429_with_no_limit_set_throttles_nobody(
    make_service: Callable[..., AnswerService], emulator: EmulatorHandle
) -> None:
    """Issue 28 item 6: with no limit configured one 429 imposed a limit of 1."""
    service = make_service(limit=None)
    emulator.inject(Fault(kind="rate_limit", retry_after=3600))
    ann = MEMBERS[0]
    cid = service.store.create_conversation(ann, "omni", "Omni").id
    sent = service.submit(ann, cid, "Busy?")
    live = service.live(sent.answer_id)  # type: ignore[arg-type]
    assert live is not None and live.wait_done(SETTLE)
    book = service.team.book
    until(lambda: any(e.kind == RATE_LIMITED for e in book.events()))
    status = book.status()
    assert status.effective is None and status.backoff is None
