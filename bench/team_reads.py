"""What reading the team costs a script run, now that it lives in the database (issue 9).

Every script run of every session reads the team: where it came from, the
credentials handed to streamlit-authenticator, the demo-password check (token
mode), and the logged-in member. This times that sequence on a SQLite file
with N members, beside the reference it replaced in the same run: the YAML
team file, parsed once per file version and deep-copied per run
(`webapp.team.yaml_file.load_team`).

Run:  python -m bench.team_reads [--members 20] [--runs 300]
Prints the median milliseconds per run of each, and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from webapp.auth import passwords
from webapp.conversations.store import ConversationStore
from webapp.settings import load_settings
from webapp.team import open_team, yaml_file


def median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    passwords.BCRYPT_ROUNDS = 4  # the hashes' cost does not enter the reads timed here
    from webapp.auth import gate as auth

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "auth.yaml"
        team_file = yaml_file.Team(path, {"credentials": {"usernames": {}}})
        for n in range(args.members):
            team_file.add(f"m{n}", name=f"Member {n}", email="", password=f"password-{n}")
        team_file.save()
        url = f"sqlite:///{Path(folder) / 'app.db'}"
        settings = load_settings(
            {"ABLT_AUTH_FILE": str(path), "ABLT_DB_URL": url, "ABLT_BEARER_TOKEN": "t"}
        )
        with ConversationStore(url) as store:

            def database_run() -> object:
                team = open_team(store.engine, path, False)
                team.credentials(exclude=auth.refused_usernames(settings, team))
                return team.get("m3")

            def file_run() -> object:
                team = yaml_file.load_team(path)
                team.credentials()
                return team.get("m3")

            database_run()  # the import, and the demo-password check's cache
            file_run()
            db_ms = median_ms(database_run, args.runs)
            file_ms = median_ms(file_run, args.runs)
    print(f"team reads per script run, {args.members} members, median of {args.runs}:")
    print(f"  database (SQLite file): {db_ms:.2f} ms")
    print(f"  YAML file (reference):  {file_ms:.2f} ms")
    print(f"  ratio database/file:    {db_ms / file_ms:.2f}x")


if __name__ == "__main__":
    main()
