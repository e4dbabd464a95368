"""Where a py-spy sample file's time went: `python -m bench.profile_summary FILE...`.

Reads py-spy's raw (collapsed) stacks, one "frame;frame;... count" per line,
e.g. those `bench.load --profile DIR` writes, and prints:

- each package's share of the samples by the innermost frame (self time):
  webapp, ablt_core, streamlit, sqlalchemy, psycopg, tornado, other;
- the functions of `webapp` with the largest inclusive share (a function's
  samples counted once per stack however often it recurs), top 40.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")
PACKAGES = ("webapp", "ablt_core", "streamlit", "sqlalchemy", "psycopg", "tornado", "markdown_it")


def package(file: str) -> str:
    """The package a frame's file belongs to (by its path), or "other"."""
    for name in PACKAGES:
        if f"/{name}/" in file or file.startswith(f"{name}/"):
            return name
    return "other"


def read(paths: list[Path]) -> list[tuple[list[tuple[str, str]], int]]:
    """Each stack as [(function, file)] outermost first, with its sample count."""
    stacks = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            body, _, count = line.rpartition(" ")
            if not body or not count.isdigit():
                continue
            frames = []
            for frame in body.split(";"):
                match = FRAME.match(frame.strip())
                frames.append((match["name"], match["file"]) if match else (frame, "?"))
            stacks.append((frames, int(count)))
    return stacks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    stacks = read(args.files)
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        own[package(frames[-1][1])] += count
        seen = set()
        for name, file in frames:
            if package(file) == "webapp":
                key = f"{file.split('webapp/', 1)[-1]}:{name}"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += count
    print(f"{total} samples")
    print("self time by package:")
    for name, count in own.most_common():
        print(f"  {100 * count / total:5.1f}%  {name}")
    print(f"webapp functions, inclusive (top {args.top}):")
    for key, count in inclusive.most_common(args.top):
        print(f"  {100 * count / total:5.1f}%  {key}")


if __name__ == "__main__":
    main()
