"""Does a login's time tell a member from a stranger? (issue 12, "Logins")

The same login check the form runs (`webapp.auth.throttle.authenticate`, with the
throttle's database reads and writes over a SQLite file, and bcrypt at the
app's cost of 12) for three inputs, interleaved so that machine load hits
all three alike (in a random order each round):

- a member with a wrong password
- an unknown username
- streamlit-authenticator 0.4.2's own check for that unknown username
  (`check_credentials`, which the app used before: no bcrypt at all)

Each attempt uses a fresh address and username suffix so that the throttle
never refuses one (a refusal is fast on purpose, whoever asks).

Run:  python -m bench.login_timing [--runs 30]
Prints the median of each, and the unknown/member ratio (1.00 = no tell).
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from webapp.auth import passwords
from webapp.auth.throttle import authenticate
from webapp.auth.throttle_store import LoginLog
from webapp.conversations.store import ConversationStore
from webapp.team import MemberStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    logging.disable(logging.WARNING)  # Streamlit's "missing ScriptRunContext" (bare mode)
    import streamlit_authenticator.models.authentication_model as model_module

    rng = random.Random(12)

    with tempfile.TemporaryDirectory() as tmp:
        store = ConversationStore(f"sqlite:///{Path(tmp) / 'bench.db'}")
        team = MemberStore(store.engine)  # the team in the database, as the app reads it
        team.add("bob", name="Bob", email="b@example.com", password="bob-right-password")
        log = LoginLog(store.engine)
        library = model_module.AuthenticationModel.__new__(model_module.AuthenticationModel)
        library.credentials = team.credentials()
        passwords.check_or_dummy("warm", None)  # the dummy hash is made once per process

        times: dict[str, list[float]] = {"member": [], "unknown": [], "library": []}
        for run in range(args.runs):
            address = f"198.51.100.{run % 250}"
            stranger = f"nobody{run}"
            calls = [
                ("member", partial(authenticate, team, "bob", f"wrong-{run}", address, log)),
                ("unknown", partial(authenticate, team, stranger, "wrong", address, log)),
                ("library", partial(library.check_credentials, stranger, "wrong")),
            ]
            rng.shuffle(calls)
            for name, call in calls:
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
            log.unlock(actor="bench", username="bob", address=address)
        store.close()

    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    quartiles = {
        name: [q * 1000 for q in statistics.quantiles(values, n=4)]
        for name, values in times.items()
    }
    print(f"bcrypt cost {passwords.BCRYPT_ROUNDS}, {args.runs} runs each, median:")
    for name, label in (("member", "member, wrong password"), ("unknown", "unknown username")):
        low, _, high = quartiles[name]
        print(f"  {label:<28}  {medians[name]:8.1f} ms  (quartiles {low:.0f}-{high:.0f} ms)")
    print(f"  unknown, library's own check  {medians['library']:8.3f} ms")
    print(f"  ratio unknown / member        {medians['unknown'] / medians['member']:8.2f}")


if __name__ == "__main__":
    main()
