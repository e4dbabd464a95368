"""A whole team at once in one process: no cap the plan does not impose (issue 24).

Against the emulator over loopback and a real database (SQLite, and PostgreSQL
when ABLT_TEST_PG_URL is set). The emulator streams slowly, so every answer is
still streaming when the last one starts; overlap is proven by the emulator's
count of chat requests in flight at once, never by timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ablt_core import AsyncAbltClient
from ablt_core.emulator import EmulatorHandle
from tests.pg import BACKENDS, store_on
from webapp.answers import AnswerService
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore
from webapp.settings import DEFAULT_MAX_WORKERS

MEMBERS = 40
SETTLE = 60.0  # seconds a bounded wait for the answers to end may take


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "capacity") as opened:
        yield opened


def test_forty_members_answers_all_stream_at_once_with_the_default_settings(
    store: ConversationStore, emulator: EmulatorHandle, test_token: str
) -> None:
    # As the app builds it: the default worker count, the pool sized from it,
    # no team limit (a SlotBook on the database with none stored).
    service = AnswerService(
        store,
        lambda: AsyncAbltClient(
            test_token,
            emulator.base_url,
            max_connections=DEFAULT_MAX_WORKERS,
            max_retry_after=60,
        ),
        limits=ContextLimits(max_messages=None, max_words=None),
    )
    try:
        # 50 words at 0.2 s each: every answer lasts about 10 s, far longer than
        # starting forty of them takes (3 s and more on PostgreSQL on a busy
        # 2-core machine), so they can only all complete by overlapping.
        emulator.set_answer_words(50)
        emulator.set_delay(0.2)
        emulator.reset_inflight()
        members = [Member(f"member{n:02d}", 1000 + n) for n in range(MEMBERS)]
        chats = [store.create_conversation(m, "omni", "Omni").id for m in members]
        sent = [
            service.submit(m, cid, f"Question from {m.username}")
            for m, cid in zip(members, chats, strict=True)
        ]
        lives = [service.live(s.answer_id) for s in sent if s.answer_id]
        assert len(lives) == MEMBERS and not any(s.queued for s in sent)
        waits_seen: set[str] = set()
        for live in lives:
            assert live is not None
            while not live.wait_done(0.05):
                waits_seen.update(w.kind for w in (x.wait for x in lives if x) if w)
        # None waited for a free slot (another member's answer to end) or in the team's line.
        assert not waits_seen & {"slot", "line"}
        _, most_at_once = emulator.inflight
        assert most_at_once == MEMBERS  # all forty were streaming at the same moment
        for member, cid in zip(members, chats, strict=True):
            last = store.all_messages(member, cid)[-1]
            assert last.role == "assistant" and last.status == "complete"
            assert len(last.text.split()) >= 30
    finally:
        service.close()
