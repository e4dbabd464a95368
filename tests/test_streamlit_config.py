"""The project's Streamlit options exist in the installed Streamlit and say what we mean.

An option Streamlit no longer knows is ignored without a word, so a renamed
option would silently bring back the cost it was set to avoid.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit import config

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def _known() -> set[str]:
    return set(config.get_config_options())


def _options() -> dict[str, object]:
    known = _known()
    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    flat: dict[str, object] = {}

    def walk(prefix: str, table: dict[str, object]) -> None:
        for key, value in table.items():
            name = f"{prefix}.{key}" if prefix else key
            # [theme.light], [theme.dark]... are sections of options, not options.
            if isinstance(value, dict) and name not in known:
                walk(name, value)
            else:
                flat[name] = value

    walk("", data)
    return flat


def test_every_option_in_config_toml_is_one_streamlit_knows() -> None:
    known = _known()
    assert [name for name in _options() if name not in known] == []


def test_no_forced_full_collection_after_every_script_run() -> None:
    # Issue 8: gc.collect(2) after each run blocked every session for 40-80 ms.
    assert _options()["runner.postScriptGC"] is False


def test_the_websocket_is_compressed() -> None:
    # Issue 24: the bytes on the wire per answer (bench/stream_wire.py).
    assert _options()["server.enableWebsocketCompression"] is True
