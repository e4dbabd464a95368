"""An app process's answer side, alone: for the tests that need a real second process.

    python -m tests.webapp.answers.slot_process DB_URL BASE_URL TOKEN TAG MEMBER [MEMBER ...]

Reads the team's limit and the slot heartbeat's staleness from the
environment (`ABLT_MAX_CONCURRENT_ANSWERS`, `ABLT_SLOT_STALE_SECONDS`,
through `webapp.settings`, as the app does), builds the answer service the
way `webapp.backend` does, and prints one JSON line per step (flushed):

    {"ready": true}                    then waits for the file named by $SLOT_GO
    {"sent": {member: answer_id}}      one prompt per member, sent at once
    {"done": {member: status}, "notes": {member: [waiting notes seen]}}

and exits 0. A test may kill it (-9) at any point.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from ablt_core import AsyncAbltClient
from webapp.answers import AnswerService, describe_wait
from webapp.answers.slots import holder_id
from webapp.answers.slots_store import SlotBook
from webapp.conversations.context import ContextLimits
from webapp.conversations.store import ConversationStore
from webapp.settings import load_settings


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


def say(**line: object) -> None:
    print(json.dumps(line), flush=True)


def main(db_url: str, base_url: str, token: str, tag: str, names: list[str]) -> None:
    settings = load_settings(os.environ, {})
    store = ConversationStore(db_url)
    book = SlotBook(
        store.engine,
        holder_id(),
        configured=settings.max_concurrent_answers,
        stale_after=timedelta(seconds=settings.slot_stale_seconds),
    )
    service = AnswerService(
        store,
        lambda: AsyncAbltClient(token, base_url, max_retry_after=60),
        limits=ContextLimits(max_messages=None, max_words=None),
        save_every=0.2,
        slots=book,
        slot_poll=0.2,
    )
    members = [Member(name, 100 + n) for n, name in enumerate(names)]
    chats = {m.username: store.create_conversation(m, "omni", "Omni").id for m in members}
    say(ready=True)
    go = os.environ.get("SLOT_GO")
    while go and not Path(go).exists():
        time.sleep(0.02)
    sent = {
        m.username: service.submit(m, chats[m.username], f"Question of {m.username} on {tag}")
        for m in members
    }
    say(sent={name: s.answer_id for name, s in sent.items()})
    notes: dict[str, list[str]] = {name: [] for name in sent}
    lives = {name: service.live(s.answer_id) for name, s in sent.items() if s.answer_id}
    while any(live is not None and not live.done for live in lives.values()):
        for name, live in lives.items():
            wait = live.wait if live is not None else None
            if wait is not None and wait.kind == "line":
                note = describe_wait(wait, "Omni")
                if note not in notes[name]:
                    notes[name].append(note)
        time.sleep(0.02)
    say(
        done={name: live.status if live else "none" for name, live in lives.items()},
        notes=notes,
    )
    service.close()
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
