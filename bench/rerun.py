"""Chat page rerun time with 0-30 saved conversations, and with 10-5,000 stored messages.

The real app.py under Streamlit's AppTest, in demo mode (embedded emulator),
logged in through the real form, with a fresh SQLite store in a temporary
folder. First the member gets `--history` saved conversations (6 short
messages each, one import each) and a small one is open: the History sidebar
draws a row per conversation (issue 8: the send run draws them all before the
answer starts). Then, for each of `--sizes`, a conversation of that many
messages is written through the store, opened from the history, and plain
reruns are timed: the page loads only the tail it shows, so those figures
should stay flat.

Run:  python -m bench.rerun [--runs 7] [--history 0 10 30] [--sizes 10 1000 5000]
Prints the median and best rerun time per row, and the sidebar's element count.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _export(n: int) -> dict:
    """An export file with `n` alternating messages (the store imports it in one go)."""
    start = datetime.now(UTC) - timedelta(hours=1)
    return {
        "format": "ablt-chat-conversation",
        "version": 1,
        "conversation": {
            "title": f"{n} messages",
            "bot_slug": "omni",
            "bot_name": "Omni",
            "created_at": start.isoformat(),
        },
        "messages": [
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "text": f"Message {i}: " + "some words to render in a bubble " * 4,
                "created_at": (start + timedelta(milliseconds=i)).isoformat(),
            }
            for i in range(n)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 5000])
    parser.add_argument("--history", type=int, nargs="+", default=[0, 10, 30])
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    with tempfile.TemporaryDirectory() as tmp:
        for name in ("ABLT_BEARER_TOKEN", "ABLT_BASE_URL", "ABLT_COOKIE_KEY"):
            os.environ.pop(name, None)
        os.environ["ABLT_AUTH_FILE"] = str(Path(tmp) / "auth.yaml")
        os.environ["ABLT_DB_URL"] = f"sqlite:///{Path(tmp) / 'bench.db'}"
        os.environ["ABLT_EMULATOR_DELAY"] = "0"

        from streamlit.runtime.pages_manager import PagesManager
        from streamlit.testing.v1 import AppTest

        from webapp import team as team_module
        from webapp.auth import passwords
        from webapp.conversations import context as history
        from webapp.conversations.store import ConversationStore
        from webapp.ui.state import Keys

        passwords.BCRYPT_ROUNDS = 4
        # Run app.py on every rerun, as a server that has been up a while does
        # (see tests/app/conftest.py, steady_state_server).
        original = PagesManager.__init__

        def init(self: PagesManager, *a: object, **kw: object) -> None:
            original(self, *a, **kw)  # type: ignore[arg-type]
            PagesManager.uses_pages_directory = False

        PagesManager.__init__ = init  # type: ignore[method-assign]

        at = AppTest.from_file(APP, default_timeout=60).run()
        fields = {t.label: t for t in at.text_input}
        fields["Username"].input("demo-member")
        fields["Password"].input(team_module.DEMO_PASSWORD)
        next(b for b in at.button if b.label == "Log in").click()
        at.run()
        member = at.session_state[Keys.MEMBER]

        store = ConversationStore(os.environ["ABLT_DB_URL"])

        def timed() -> list[float]:
            at.run()  # warm
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - began) * 1000)
            return times

        print(f"Chat page rerun with N saved conversations in History, median of {args.runs}:")
        print(f"{'conversations':>16} {'median ms':>10} {'best ms':>8} {'sidebar elements':>17}")
        saved = 0
        for count in sorted(args.history):
            conv = None
            while saved < count:
                conv = store.import_conversation(member, history.parse_import(_export(6)))
                saved += 1
            if conv is not None:
                at.session_state[Keys.CHAT_OPEN_ID] = conv.id
            at.run()
            assert not at.exception, at.exception
            times = timed()
            elements = sum(1 for _ in at.sidebar)
            print(
                f"{count:>16,} {statistics.median(times):>10.1f} {min(times):>8.1f} {elements:>17}"
            )

        print(f"\nChat page rerun (AppTest, app.py, demo mode), median of {args.runs}:")
        print(f"{'stored messages':>16} {'median ms':>10} {'best ms':>8} {'bubbles':>8}")
        for size in args.sizes:
            conv = store.import_conversation(member, history.parse_import(_export(size)))
            at.session_state[Keys.CHAT_OPEN_ID] = conv.id
            at.run()
            assert not at.exception, at.exception
            times = timed()
            assert at.session_state[Keys.CHAT_OPEN].total == size
            print(
                f"{size:>16,} {statistics.median(times):>10.1f} {min(times):>8.1f} "
                f"{len(at.chat_message):>8}"
            )
        store.close()


if __name__ == "__main__":
    main()
