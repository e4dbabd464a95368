"""A saved answer is parsed once per text, and drawn exactly as `render` draws it."""

from __future__ import annotations

import pytest

from webapp import render
from webapp.chat import view


def test_kept_blocks_are_the_renderers_and_each_text_is_parsed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view.answer_blocks.cache_clear()
    calls: list[str] = []
    real = render.answer_blocks

    def counting(text: str) -> list[str]:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(render, "answer_blocks", counting)
    text = "# Invoices\n\nPay **before** the 5th.\n\n- one\n- two"
    assert list(view.answer_blocks(text)) == real(text)
    assert list(view.answer_blocks(text)) == real(text)
    assert calls == [text]
    # An edited (or regenerated) answer is another text: drawn from its own blocks.
    edited = text.replace("5th", "10th")
    assert list(view.answer_blocks(edited)) == real(edited)
    assert calls == [text, edited]
    view.answer_blocks.cache_clear()
