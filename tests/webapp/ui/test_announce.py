"""The screen readers' announcer (`webapp.ui.announce`): its parameters reach
the chat page's script, and it watches the Stop button the answer draws."""

from __future__ import annotations

import json
import re
from pathlib import Path

from webapp.chat import answer_view
from webapp.ui import announce, assets, chat_scripts


def test_the_chat_pages_script_carries_the_announcers_code_and_words() -> None:
    html = chat_scripts.page_script(copied_label="Copied", focus_input=False, anchor=None)
    found = re.search(r'<script type="application/json">(.*?)</script>', html)
    assert found is not None
    params = json.loads(found.group(1))
    assert params["started_label"] == announce.STARTED_LABEL
    assert params["done_label"] == announce.DONE_LABEL
    assert params["stop_key"] == announce.STOP_KEY
    assert assets.sent(announce.SCRIPT) in html


def test_the_region_is_polite_and_a_status_and_said_only_at_start_and_end() -> None:
    code = assets.text(announce.SCRIPT)
    for attribute in ('"role", "status"', '"aria-live", "polite"', '"aria-atomic", "true"'):
        assert attribute in code
    # One region, made once per page whatever the runs: never a region per word.
    assert code.count("document.createElement") == 1


def test_the_stop_button_the_announcer_watches_is_the_answers() -> None:
    source = Path(answer_view.__file__).read_text("utf-8")
    assert "key=announce.STOP_KEY" in source
