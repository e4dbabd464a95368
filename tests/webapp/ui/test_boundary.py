"""Streamlit's internals, injected JavaScript and CSS stay in the adapter (webapp/ui).

Outside it (views/, the rest of webapp/, app.py, serve.py) a page or feature
calls a typed function of webapp.ui; it holds no script, stylesheet, DOM
selector or Streamlit-internal import of its own, which a Streamlit upgrade
could break without an error. (ruff's banned-api rule, pyproject.toml, says
the same for imports as one edits; this test holds without ruff.)
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
UI = REPO_ROOT / "webapp" / "ui"

# What only the adapter may write: scripts, stylesheets, Streamlit's DOM names
# and class names, raw component HTML, and imports of Streamlit's internals.
FORBIDDEN = {
    "a script": re.compile(r"<script\b|unsafe_allow_javascript", re.IGNORECASE),
    "a stylesheet": re.compile(r"<style\b|<link\b[^>]*stylesheet", re.IGNORECASE),
    "a Streamlit DOM selector": re.compile(r"data-testid|st-key-|data-stale|data-test-"),
    "a component's HTML": re.compile(r"components\.(?:v1\.)?html|streamlit\.components"),
    "a Streamlit internal": re.compile(
        r"^\s*(?:from|import)\s+streamlit\.(?:runtime|delta_generator|elements|cursor|proto|web)\b",
        re.MULTILINE,
    ),
}


def _checked_files() -> list[Path]:
    files = [REPO_ROOT / "app.py", REPO_ROOT / "serve.py"]
    files += sorted((REPO_ROOT / "views").rglob("*.py"))
    files += sorted(p for p in (REPO_ROOT / "webapp").rglob("*.py") if UI not in p.parents)
    return files


def test_no_page_or_feature_holds_javascript_css_selectors_or_streamlit_internals() -> None:
    found = [
        f"{path.relative_to(REPO_ROOT)}:{text[: m.start()].count(chr(10)) + 1}: {what}"
        for path in _checked_files()
        for text in [path.read_text("utf-8")]
        for what, pattern in FORBIDDEN.items()
        for m in pattern.finditer(text)
    ]
    assert not found, "move these into webapp/ui:\n" + "\n".join(found)


def test_no_script_or_stylesheet_file_outside_the_adapter() -> None:
    stray = [
        str(path.relative_to(REPO_ROOT))
        for folder in ("views", "webapp")
        for path in (REPO_ROOT / folder).rglob("*")
        if path.suffix in (".js", ".css") and UI not in path.parents
    ]
    assert not stray


def test_the_check_sees_the_files_it_means_to() -> None:
    checked = {str(p.relative_to(REPO_ROOT)) for p in _checked_files()}
    assert {"app.py", "views/chat.py", "webapp/chat/message_tools.py"} <= checked
    assert not any(name.startswith("webapp/ui/") for name in checked)
