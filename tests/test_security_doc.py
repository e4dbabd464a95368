"""docs/security.md names a test for each promise: every one it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_REFERENCE = re.compile(r"`([\w/]+\.py)::(\w+)`")


def test_every_test_the_security_doc_names_exists() -> None:
    text = (REPO_ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    references = TEST_REFERENCE.findall(text)
    assert len(references) >= 20
    missing = [
        f"{path}::{name}"
        for path, name in references
        if not (REPO_ROOT / "tests" / path).is_file()
        or not re.search(rf"^(async )?def {name}\(", (REPO_ROOT / "tests" / path).read_text(), re.M)
    ]
    assert missing == []
