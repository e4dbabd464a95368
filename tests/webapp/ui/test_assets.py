"""The assets as the page receives them (`assets.sent`): the same code and
rules, without what is there only for the files' readers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webapp.ui import assets

ASSET_DIR = Path(assets.__file__).parent / assets.ASSETS_FOLDER
SCRIPTS = sorted(p.name for p in ASSET_DIR.glob("*.js"))
SHEETS = sorted(p.name for p in ASSET_DIR.glob("*.css"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_script_loses_only_its_comment_lines_and_indentation(name: str) -> None:
    source = assets.text(name)
    # What `sent` relies on: no string or comment spans lines.
    for line in source.splitlines():
        assert line.count("`") % 2 == 0, line
        assert not line.rstrip().endswith("\\"), line
    assert "/*" not in source
    code = [line.strip() for line in source.splitlines()]
    kept = [line for line in code if line and not line.startswith("//")]
    assert assets.sent(name).splitlines() == kept


@pytest.mark.parametrize("name", SHEETS)
def test_a_sheet_keeps_every_rule(name: str) -> None:
    sent = assets.sent(name)
    assert "/*" not in sent and "\n\n" not in sent
    squeeze = re.compile(r"/\*.*?\*/|\s+", re.DOTALL)
    assert squeeze.sub("", sent) == squeeze.sub("", assets.text(name))


def test_the_page_gets_the_sent_forms() -> None:
    html = assets.script_html(["clipboard.js", "scroll.js"], {})
    assert assets.sent("clipboard.js") + "\n" + assets.sent("scroll.js") in html
    assert assets.style_html("accessibility.css") == (
        "<style>" + assets.sent("accessibility.css") + "</style>"
    )
