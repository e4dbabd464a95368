"""The README's client example runs as written, against the emulator."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_the_client_example_streams_an_answer_and_reads_statistics(
    emulator, test_token, monkeypatch, capsys
):
    (example,) = [block for block in python_blocks() if "AbltClient" in block]
    # The example reads its token and API address from the environment, as documented.
    monkeypatch.setenv("ABLT_BEARER_TOKEN", test_token)
    monkeypatch.setenv("ABLT_BASE_URL", emulator.base_url)

    exec(compile(example, str(README), "exec"), {})

    printed = capsys.readouterr().out
    assert "\u201cHow do I pay an invoice?\u201d" in printed  # the streamed answer quotes it
    chats = [r for r in emulator.requests if r.path == "/v1/chat"]
    assert chats[0].json["user_id"] == 42 and chats[0].json["language"] == "English"
    assert chats[0].json["messages"][0]["role"] == "system"
