"""The house rules that tools can check: ruff clean and ruff-formatted everywhere,
mypy strict on the client and on webapp.answers.

They run with the tests so that the README's one test command (and CI) holds
every change to them; each prints the tool's own report when it fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing() -> None:
    result = _run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_client_type_checks_strictly() -> None:
    pytest.importorskip("mypy")
    result = _run("mypy", "--no-incremental")  # packages and strictness: pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_client_never_imports_streamlit() -> None:
    # ablt_core stands on its own (DESIGN.md); importing it must not drag Streamlit in.
    code = "import sys, ablt_core, ablt_core.emulator; print('streamlit' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
