"""bench.peers' browser side for the Chainlit app: the same counters as
`bench.stream_page` (its INIT_SCRIPT, WATCH_SCRIPT and READ_SCRIPT), pointed at
Chainlit's message box and answer bubbles, and "idle" as Chainlit shows it."""

from __future__ import annotations

import contextlib
import time

from bench.stream_page import WATCH_SCRIPT, Session, normalise, settle

# Chainlit 2.x's page: the message box, and the assistant's messages.
CHAINLIT_INPUT = "#chat-input"
CHAINLIT_ANSWER = '[data-step-type="assistant_message"]'
STREAMLIT_ANSWER = '[data-testid="stChatMessageContent"][aria-label="Chat message from assistant"]'
STREAMLIT_INPUT = '[data-testid="stChatInputTextArea"]'
CHAINLIT_WATCH_SCRIPT = WATCH_SCRIPT.replace(STREAMLIT_ANSWER, CHAINLIT_ANSWER).replace(
    STREAMLIT_INPUT, CHAINLIT_INPUT
)
assert CHAINLIT_WATCH_SCRIPT.count(CHAINLIT_ANSWER) == 1, "stream_page's watch changed"
assert CHAINLIT_WATCH_SCRIPT.count(CHAINLIT_INPUT) == 1, "stream_page's watch changed"
QUIET_S = 0.6  # no byte on the page's WebSocket this long after the answer: idle
UI_TIMEOUT_MS = 60_000


class ChainlitSession(Session):
    """One page of the Chainlit app (no login: Chainlit's default has none)."""

    def open(self) -> None:
        """Open the app; wait for the message box."""
        self.page.goto(self.server.url, wait_until="domcontentloaded")
        self.page.locator(CHAINLIT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)
        time.sleep(QUIET_S)

    def fresh_chat(self) -> None:
        """A new session, as the reference app gets one: the page loaded anew."""
        self.open()

    def arm(self, prompt: str, ends: tuple[str, str, str]) -> None:
        """Start watching for the next answer and type `prompt` (not sent yet)."""
        self.page.evaluate(CHAINLIT_WATCH_SCRIPT, list(ends))
        box = self.page.locator(CHAINLIT_INPUT)
        box.click()
        box.fill(prompt)
        box.focus()

    def last_answer(self) -> str:
        """The newest assistant message's text, whitespace normalised ('' if none)."""
        answers = self.page.locator(CHAINLIT_ANSWER)
        if answers.count() == 0:
            return ""
        return normalise(answers.last.inner_text())

    def errors_shown(self) -> int:
        """Chainlit shows a failed step as an error message; the bench counts none."""
        return 0


def settle_any(session: Session, timeout_s: float = 60.0) -> None:
    """Wait until the app is idle again: Streamlit's own sign for its apps; for
    Chainlit, no byte on the page's WebSocket for `QUIET_S` (at most `timeout_s`)."""
    if not isinstance(session, ChainlitSession):
        settle(session)
        return
    deadline = time.monotonic() + timeout_s
    last, quiet_since = session.watch()["bytes"], time.monotonic()
    with contextlib.suppress(Exception):
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = session.watch()["bytes"]
            if now != last:
                last, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET_S:
                return
