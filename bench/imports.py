"""How fast an import reads and writes a ChatGPT export, same run.

Generates a `conversations.json` of N conversations (each 20 messages, one
regenerated answer: a fork), then times `webapp.imports.reader.read_upload`
(parsing, recognising, shaping trees) and `webapp.imports.writer.run_import`
(each conversation its own transaction) on a real SQLite file, and prints
conversations and messages per second for each. No timed assertion: figures.

Run:  python -m bench.imports [--conversations 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webapp.conversations.store import ConversationStore
from webapp.imports.reader import read_upload
from webapp.imports.writer import ImportStore, run_import


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


def conversation(index: int, turns: int = 10) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "root": {"id": "root", "message": None, "parent": None, "children": ["m0"]}
    }
    start = 1714557600.0 + index * 3600
    for i in range(turns * 2):
        role = "user" if i % 2 == 0 else "assistant"
        children = [f"m{i + 1}"] if i + 1 < turns * 2 else []
        mapping[f"m{i}"] = {
            "id": f"m{i}",
            "parent": "root" if i == 0 else f"m{i - 1}",
            "children": children + (["alt"] if i == 0 else []),
            "message": {
                "author": {"role": role},
                "create_time": start + i,
                "content": {"content_type": "text", "parts": [f"Message {i} " + "word " * 60]},
                "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            },
        }
    mapping["alt"] = {
        "id": "alt",
        "parent": "m0",
        "children": [],
        "message": {
            "author": {"role": "assistant"},
            "create_time": start + 0.5,
            "content": {"content_type": "text", "parts": ["An earlier answer"]},
            "metadata": {},
        },
    }
    return {
        "title": f"Conversation {index}",
        "create_time": start,
        "update_time": start + 60,
        "mapping": mapping,
        "current_node": f"m{turns * 2 - 1}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=1000)
    args = parser.parse_args()
    data = json.dumps([conversation(i) for i in range(args.conversations)]).encode()
    started = time.perf_counter()
    plan = read_upload("conversations.json", data)
    read_s = time.perf_counter() - started
    messages = plan.message_count
    print(f"file: {len(data) / 1e6:.1f} MB, {plan.summary()}")
    print(
        f"read:  {read_s:.2f} s  ({len(plan.conversations) / read_s:,.0f} conversations/s, "
        f"{messages / read_s:,.0f} messages/s)"
    )
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "data").mkdir()
        with ConversationStore(f"sqlite:///{folder}/data/bench.db") as store:
            imports = ImportStore(store)
            member = Member("bench", 1)
            record = imports.begin(member, "conversations.json", plan, "omni")
            started = time.perf_counter()
            done = run_import(imports, member, record, plan, bot_slug="omni", bot_name="Omni")
            write_s = time.perf_counter() - started
    print(
        f"write: {write_s:.2f} s  ({done.written / write_s:,.0f} conversations/s, "
        f"{done.messages / write_s:,.0f} messages/s), status {done.status}"
    )


if __name__ == "__main__":
    main()
