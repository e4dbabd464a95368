"""An app process's send side, alone: several browsers of one member pressing
send at once, for the budget tests that need a real second process.

    python -m tests.webapp.budgets.budget_process DB_URL BASE_URL TOKEN USERNAME USER_ID BROWSERS

Builds the answer service with the month's budget as its rule, as
`webapp.backend` does, opens one conversation per browser (`max_words`
$BUDGET_MAX_WORDS), and prints one JSON line per step (flushed):

    {"ready": true}                         then waits for the file named by $BUDGET_GO
    {"done": {"sent": [answer ids], "refused": [reasons]}}

Each browser asks for its ticket and sends, as the chat page's send does
(`admit`, then `submit`), all at once (a barrier); "done" comes once every
answer sent has ended.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ablt_core import AbltClient, AsyncAbltClient
from webapp.answers import AnswerRefused, AnswerService
from webapp.budgets import FigureCache
from webapp.budgets.check import BudgetGate
from webapp.conversations.context import ContextLimits, ConversationOptions
from webapp.conversations.store import ConversationStore


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


def say(**line: object) -> None:
    print(json.dumps(line), flush=True)


def main(db_url: str, base_url: str, token: str, member: Member, browsers: int) -> None:
    store = ConversationStore(db_url)
    api = AbltClient(bearer_token=token, base_url=base_url)
    service = AnswerService(
        store,
        lambda: AsyncAbltClient(token, base_url, max_retry_after=60),
        limits=ContextLimits(max_messages=None, max_words=None),
        save_every=0.2,
        rules=[BudgetGate(store, api, base_url=base_url, cache=FigureCache())],
    )
    options = ConversationOptions(max_words=int(os.environ.get("BUDGET_MAX_WORDS", "120")))
    chats = [store.create_conversation(member, "omni", "Omni", options).id for _ in range(browsers)]
    say(ready=True)
    go = os.environ.get("BUDGET_GO")
    while go and not Path(go).exists():
        time.sleep(0.01)
    barrier = threading.Barrier(browsers)
    sent: list[str] = []
    refused: list[str] = []

    def press_send(cid: str) -> None:
        barrier.wait()
        try:
            admission = service.admit(member)
            answer_id = service.submit(member, cid, "Tell me about fjords", admission=admission)
        except AnswerRefused as err:
            refused.append(err.reason)
            return
        if answer_id.answer_id is not None:
            sent.append(answer_id.answer_id)

    threads = [threading.Thread(target=press_send, args=(cid,)) for cid in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for answer_id in sent:
        live = service.live(answer_id)
        if live is not None:
            live.wait_done(60)
    say(done={"sent": sent, "refused": refused})
    service.close()
    api.close()
    store.close()


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        Member(sys.argv[4], int(sys.argv[5])),
        int(sys.argv[6]),
    )
