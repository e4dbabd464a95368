"""An answer that is one long block, through the chat page (issue 24).

The redraw budget (`webapp.render._stream`) redraws a long open block less
often as it grows; what the page shows when the answer completes must still
be exactly the saved answer's rendering. The streaming run's draws are
recorded where the page streams (`show_stream`'s `render.stream_blocks`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.shown import shown
from webapp import backend, render
from webapp.conversations.store import ConversationStore
from webapp.ui.state import Keys

pytestmark = pytest.mark.usefixtures("demo_env")

WORDS = 3_000


@pytest.fixture
def one_paragraph() -> Iterator[None]:
    """The demo emulator answers in one 3,000-word paragraph."""
    handle = backend.demo_emulator() or backend.ensure_demo_emulator(0)
    handle.set_answer_words(WORDS)
    handle.set_answer_shape("paragraph")
    try:
        yield
    finally:
        handle.set_answer_shape("paragraphs")
        handle.set_answer_words(None)


def test_a_long_single_block_answer_ends_on_screen_as_its_saved_rendering(
    logged_in: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    app_store: ConversationStore,
    one_paragraph: None,
) -> None:
    at = logged_in()
    real = render.stream_blocks
    drawn: dict[int, str] = {}
    writes = [0]

    def recorded(pieces: Any, **kw: Any) -> Iterator[render.BlockWrite]:
        for write in real(pieces, **kw):
            drawn[write.index] = write.html  # what this block's slot shows now
            writes[0] += 1
            yield write

    monkeypatch.setattr(render, "stream_blocks", recorded)
    at.chat_input[0].set_value("One long paragraph, please").run(timeout=60)
    assert not at.exception
    member = at.session_state[Keys.MEMBER]
    conversation = at.session_state[Keys.CHAT_OPEN]
    saved = app_store.all_messages(member, conversation.id)[-1]
    assert saved.status == "complete" and len(saved.text.split()) == WORDS
    assert "\n\n" not in saved.text  # one block
    # The streamed slots, at the end of the stream: the saved answer's rendering.
    assert writes[0] >= 2
    assert [drawn[i] for i in sorted(drawn)] == render.answer_blocks(saved.text)
    # And the settled page shows it too.
    bubble = shown(m.value for m in at.chat_message[-1].markdown if "<" in m.value)
    assert bubble == shown(render.answer_blocks(saved.text))
