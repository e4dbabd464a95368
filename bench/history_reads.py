"""What organising adds to the History's reads on every chat page run (issue 26).

The History sidebar is drawn on every run of the chat page. Before issue 26 it
read one keyset page of the member's conversations; now it also reads the
member's folders with their counts, their tags, the rows of each open folder
and the shown rows' tags (one query per kind, never one per row). This times
both sequences on a SQLite file holding `--conversations` conversations of one
member (a third filed in `--folders` folders, every one tagged twice), in
the same run, the old sequence being the reference.

Run:  python -m bench.history_reads [--conversations 2000] [--folders 10] [--runs 200]
Prints the median milliseconds per run of each, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from webapp.conversations.store import ANY_FOLDER, ConversationStore
from webapp.history.actions import HISTORY_PAGE, load_history


@dataclass(frozen=True)
class Member:
    username: str = "ann"
    user_id: int = 1


def median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--folders", type=int, default=10)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    ann = Member()
    with (
        tempfile.TemporaryDirectory() as folder,
        ConversationStore(f"sqlite:///{Path(folder) / 'app.db'}") as store,
    ):
        org = store.organise
        folders = [org.create_folder(ann, f"Folder {n}") for n in range(args.folders)]
        for n in range(args.conversations):
            conv = store.create_conversation(ann, "omni", "Omni", title=f"Chat {n}")
            org.set_tags(ann, conv.id, [f"t{n % 25}", "all"])
            if n % 3 == 0:
                org.move(ann, [conv.id], folders[n % len(folders)].id)
        opened = folders[:2]  # two folders open in the sidebar

        def before() -> object:
            return load_history(store, ann, rows=HISTORY_PAGE, folder=ANY_FOLDER)

        def now() -> object:
            listed = org.folders(ann)
            org.member_tags(ann)
            found = load_history(store, ann, rows=HISTORY_PAGE, folder=None)
            rows = [c.id for _, g in found.sections for c in g]
            for f in opened:
                inside = load_history(store, ann, rows=HISTORY_PAGE, folder=f.id)
                rows += [c.id for _, g in inside.sections for c in g]
            return listed, org.tags_for(ann, rows)

        reference = median_ms(before, args.runs)
        organised = median_ms(now, args.runs)
    print(
        f"History reads per run ({args.conversations} conversations, "
        f"{args.folders} folders, 2 open; median of {args.runs})"
    )
    print(f"  before issue 26 (one page):           {reference:.2f} ms")
    print(f"  with folders, tags (one per kind):    {organised:.2f} ms")
    print(f"  ratio:                                {organised / reference:.1f}x")


if __name__ == "__main__":
    main()
