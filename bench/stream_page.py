"""bench.stream_render's browser side: what the page counts, one member's page,
and how an answer on screen is judged against what the emulator sent."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.stream_setup import BOT_SLUG, PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from tests.e2e.appserver import AppServer

IDLE_QUIET_MS = 600  # the app's script not running this long: idle

# Counts every byte the page's WebSockets receive and every long task, from the
# first script on (Streamlit opens one WebSocket; it does not compress frames).
INIT_SCRIPT = """
(() => {
  const Native = window.WebSocket;
  window.__benchWsBytes = 0;
  window.__benchLongTasks = [];
  class CountingWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const d = event.data;
        window.__benchWsBytes += typeof d === 'string'
          ? new TextEncoder().encode(d).length : (d.byteLength ?? d.size ?? 0);
      });
    }
  }
  window.WebSocket = CountingWebSocket;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        window.__benchLongTasks.push([performance.timeOrigin + e.startTime, e.duration]);
    }).observe({type: 'longtask', buffered: true});
  } catch (e) {}
})();
"""

# Arms the watch for one answer: the time of Enter in the message box, then the
# first time a NEW assistant bubble shows the answer's first word (the first
# piece: the emulator streams a word per event), the first time one shows its
# first four words (the opener), and the first time one shows its last words
# (the closer).
WATCH_SCRIPT = """
([first, opener, closer]) => {
  const now = () => performance.timeOrigin + performance.now();
  const sel = '[data-testid="stChatMessageContent"][aria-label="Chat message from assistant"]';
  const count = (needle) => {
    let n = 0;
    for (const el of document.querySelectorAll(sel))
      if (el.textContent.replace(/\\s+/g, ' ').includes(needle)) n += 1;
    return n;
  };
  if (window.__benchObserver) window.__benchObserver.disconnect();
  const m = {enter: null, first: null, opener: null, done: null, bytesAtEnter: null,
             baseFirst: count(first), baseOpener: count(opener), baseDone: count(closer)};
  window.__benchWatch = m;
  const check = () => {
    if (m.enter === null) return;
    if (m.first === null && count(first) > m.baseFirst) m.first = now();
    if (m.opener === null && count(opener) > m.baseOpener) m.opener = now();
    if (m.first !== null && m.done === null && count(closer) > m.baseDone) {
      m.done = now();
      window.__benchObserver.disconnect();
    }
  };
  window.__benchObserver = new MutationObserver(check);
  window.__benchObserver.observe(document.body,
    {subtree: true, childList: true, characterData: true});
  if (!window.__benchKeyHooked) {
    window.__benchKeyHooked = true;
    document.addEventListener('keydown', (event) => {
      const w = window.__benchWatch;
      if (event.key === 'Enter' && !event.shiftKey && w && w.enter === null
          && event.target && event.target.matches('[data-testid="stChatInputTextArea"]')) {
        w.enter = now();
        w.bytesAtEnter = window.__benchWsBytes;
      }
    }, true);
  }
}
"""

READ_SCRIPT = """
() => ({...window.__benchWatch, bytes: window.__benchWsBytes, now: performance.timeOrigin
        + performance.now(), longTasks: window.__benchLongTasks})
"""


@dataclass
class Session:
    """One member's page on one app, ready to send."""

    kind: str
    page: Page
    server: AppServer
    member: str = ""

    def open(self) -> None:
        """Log in through the real form (product) or open the app (reference); wait idle."""
        from tests.e2e.appserver import CHAT_INPUT, UI_TIMEOUT_MS, log_in, wait_until_idle

        if self.kind == "product":
            log_in(self.page, self.server, self.member, PASSWORD)
        else:
            self.page.goto(self.server.url, wait_until="domcontentloaded")
            self.page.get_by_test_id(CHAT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)
        wait_until_idle(self.page, IDLE_QUIET_MS)

    def fresh_chat(self) -> None:
        """A new, empty conversation: the product's New chat; a new session for the reference."""
        from tests.e2e.appserver import CHAT_INPUT, UI_TIMEOUT_MS, wait_until_idle

        if self.kind == "product":
            self.page.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
        else:
            self.page.goto(self.server.url, wait_until="domcontentloaded")
            self.page.get_by_test_id(CHAT_INPUT).wait_for(timeout=UI_TIMEOUT_MS)
        wait_until_idle(self.page, IDLE_QUIET_MS)

    def arm(self, prompt: str, ends: tuple[str, str, str]) -> None:
        """Start watching for the next answer and type `prompt` (not sent yet)."""
        from tests.e2e.appserver import CHAT_INPUT

        self.page.evaluate(WATCH_SCRIPT, list(ends))
        box = self.page.get_by_test_id(CHAT_INPUT)
        box.fill(prompt)
        box.focus()

    def press_enter(self) -> None:
        """Send the typed prompt as a person does."""
        self.page.keyboard.press("Enter")

    def watch(self) -> dict[str, Any]:
        """The page's counters: enter/first/done (epoch ms), bytes, longTasks."""
        return dict(self.page.evaluate(READ_SCRIPT))

    def last_answer(self) -> str:
        """The newest assistant bubble's text, whitespace normalised ('' if none)."""
        from tests.e2e.appserver import ASSISTANT_MESSAGE

        answers = self.page.locator(ASSISTANT_MESSAGE)
        if answers.count() == 0:
            return ""
        return normalise(answers.last.inner_text())

    def errors_shown(self) -> int:
        """Exceptions and error boxes the app shows."""
        return int(
            self.page.locator(
                '[data-testid="stException"], [data-testid="stAlertContentError"]'
            ).count()
        )


def normalise(text: str) -> str:
    """`text` with every run of whitespace as one space (Markdown reflows lines)."""
    return " ".join(text.split())


@dataclass
class Answer:
    """One answer's figures (times in ms; None when it never happened)."""

    kind: str
    words: int
    first_ms: float | None = None  # the first word (the first piece)
    opener_ms: float | None = None  # the first four words (more pieces: coalesced at 20/s)
    whole_ms: float | None = None
    lag_ms: float | None = None
    bytes_ratio: float | None = None
    cpu_s: float | None = None
    long_tasks: list[float] = field(default_factory=list)
    verdict: str = "ok"  # ok, lost, cut, mixed, error


def judge(shown: str, record: dict[str, Any] | None, prompts: Sequence[str], mine: str) -> str:
    """ok / lost / cut / mixed: the text on screen against what the emulator sent."""
    if record is None or not shown:
        return "lost"
    if any(p != mine and p in shown for p in prompts):
        return "mixed"
    sent = normalise(record["text"])
    if not record["completed"] or sent not in shown:
        return "cut"
    return "ok"


def figures(
    session: Session, watch: dict[str, Any], record: dict[str, Any] | None, words: int
) -> Answer:
    """One answer's figures from the page's counters and the emulator's record of it."""
    answer = Answer(session.kind, words)
    enter = watch.get("enter")
    if enter is None:
        answer.verdict = "lost"
        return answer
    if watch.get("first") is not None:
        answer.first_ms = watch["first"] - enter
    if watch.get("opener") is not None:
        answer.opener_ms = watch["opener"] - enter
    if watch.get("done") is not None:
        answer.whole_ms = watch["done"] - enter
        if record and record.get("ended_at"):
            answer.lag_ms = watch["done"] - record["ended_at"] * 1000
    if record:
        size = len(record["text"].encode())
        answer.bytes_ratio = (watch["bytes"] - watch["bytesAtEnter"]) / size
    answer.long_tasks = [d for start, d in watch["longTasks"] if start >= enter]
    return answer


def expected_ends() -> tuple[str, str, str]:
    """(first word, first four words, last words) of every answer of the bench's bot."""
    from ablt_core.emulator import BOTS

    bot = next(b for b in BOTS if b.slug == BOT_SLUG)
    words = bot.opener.split()
    return words[0], " ".join(words[:4]), bot.closer


def wait_all(sessions: Sequence[Session], timeout: float) -> list[dict[str, Any]]:
    """Poll the pages until every answer is whole on screen (or `timeout` s)."""
    deadline = time.monotonic() + timeout
    watches = [s.watch() for s in sessions]
    while any(w["done"] is None for w in watches) and time.monotonic() < deadline:
        time.sleep(0.5)
        watches = [
            w if w["done"] is not None else s.watch()
            for s, w in zip(sessions, watches, strict=True)
        ]
    return watches


def settle(session: Session) -> None:
    """Wait until the app is idle again (at most a minute; a busy page is not an error)."""
    from tests.e2e.appserver import wait_until_idle

    with contextlib.suppress(Exception):
        wait_until_idle(session.page, IDLE_QUIET_MS, timeout_ms=60_000)
