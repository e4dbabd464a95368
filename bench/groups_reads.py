"""What groups cost: the bot rule's read at every admission, and placing a
member by an identity provider's groups claim (issue 22).

On a SQLite file with `--groups` groups (each limited to a few bots, each
with a monthly limit) and the member in `--member-of` of them, this times:

- `access_for` (the read `BotAccessRule` makes before every answer) beside
  `BudgetBook.limit_for` (the budget's own read at the same point, now with
  the groups' limits), in the same run;
- `place_by_claim` with a claim of 10 names and one of 10,000 (capped at
  1,000 names read), each a no-op after the first (the member already placed).

Run:  python -m bench.groups_reads [--groups 50] [--member-of 5] [--runs 300]
Prints the median milliseconds of each, and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from webapp.auth import passwords
from webapp.budgets import BudgetBook
from webapp.conversations.store import ConversationStore
from webapp.groups import store as groups
from webapp.team.members import MemberStore


def median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--member-of", type=int, default=5)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    passwords.BCRYPT_ROUNDS = 4  # not timed
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'app.db'}"
        with ConversationStore(url) as store:
            engine = store.engine
            MemberStore(engine).add("ann", name="Ann", email="", password="password-ann-1")
            for n in range(args.groups):
                g = groups.create_group(engine, f"g-{n}", actor="bench", managed_by_idp=True)
                groups.set_group_bots(engine, g.id, False, [f"bot-{n}", "omni"], actor="bench")
                groups.set_group_budget(engine, g.id, 10_000 + n, "words", actor="bench")
                if n < args.member_of:
                    groups.add_member(engine, g.id, "ann", actor="bench")
            book = BudgetBook(engine)
            short = [f"g-{n}" for n in range(10)]
            long = [f"g-{n}" for n in range(10_000)]
            groups.place_by_claim(engine, "ann", short)
            access_ms = median_ms(lambda: groups.access_for(engine, "ann"), args.runs)
            budget_ms = median_ms(lambda: book.limit_for("ann"), args.runs)
            short_ms = median_ms(lambda: groups.place_by_claim(engine, "ann", short), args.runs)
            groups.place_by_claim(engine, "ann", long)
            long_ms = median_ms(lambda: groups.place_by_claim(engine, "ann", long), args.runs)
    print(f"{args.groups} groups, the member in {args.member_of}, median of {args.runs}:")
    print(f"  access_for (the bot rule's read):        {access_ms:.2f} ms")
    print(f"  BudgetBook.limit_for (the budget's read): {budget_ms:.2f} ms")
    print(f"  ratio access/budget:                     {access_ms / budget_ms:.2f}x")
    print(f"  place_by_claim, 10 names:                {short_ms:.2f} ms")
    print(f"  place_by_claim, 10,000 names:            {long_ms:.2f} ms")
    print(f"  ratio 10,000/10 names:                   {long_ms / short_ms:.2f}x")


if __name__ == "__main__":
    main()
