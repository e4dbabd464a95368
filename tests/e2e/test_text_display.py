"""Every message shown exactly as it was written, read from the page in Chromium.

Issue 7's items 1 (a prompt shows as typed), 3 (the streamed view is the saved
view, line for line) and 7 (right-to-left blocks), plus maths/currency and
issue 12's remote images (never fetched by the browser). The emulator's
`scripted_answer` fault makes the bot send a given text, word by word.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Request, expect

from tests.e2e.appserver import (
    ASSISTANT_MESSAGE,
    USER_MESSAGE,
    AppServer,
    chat,
    inject_fault,
    log_in_as_member,
    wait_until_idle,
)

pytestmark = pytest.mark.e2e

# The blocks of the last assistant message, sampled every 10 ms in the page.
START_SAMPLING = """() => {
    window.__samples = [];
    window.__sampler = setInterval(() => {
        const messages = document.querySelectorAll(SELECTOR);
        const last = messages[messages.length - 1];
        if (!last) return;
        const blocks = [...last.querySelectorAll('.ablt-block')].map(b => b.innerText.trim());
        window.__samples.push([messages.length, blocks.join('\\n\\n')]);
    }, 10);
}""".replace("SELECTOR", json.dumps(ASSISTANT_MESSAGE))
STOP_SAMPLING = "() => { clearInterval(window.__sampler); return window.__samples; }"

POEM = (
    "Roses are red,\nViolets are blue,\nSugar is sweet,\nAnd so are you.\r\n\r\n"
    "Line one\r\nLine two\r\nLine three\n\nPrices went from $5 to 6$ overnight, and the "
    # A long last line: it spans several redraws (at most about 7 a second), so
    # the samples see it being written, not only the final drawing.
    "stall sold out of roses, violets and sugar before noon while the whole street "
    "talked about the weather, the prices and the poem on the door."
)


def blocks_text(page: Page) -> str:
    last = page.locator(ASSISTANT_MESSAGE).last
    return "\n\n".join(t.strip() for t in last.locator(".ablt-block").all_inner_texts())


def test_a_prompt_shows_exactly_as_typed_line_breaks_included(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    typed = "Run cp $SRC/$NAME /tmp to copy it\n'^[0-9]{8}_[A-Z]+[0-9]+_[0-9]+_[A-Z0-9]+$' **x**"
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(typed)  # the newline is part of the text, as Shift+Enter would make it
    page.keyboard.press("Enter")
    prompt = page.locator(USER_MESSAGE).last.locator(".ablt-prompt")
    expect(prompt).to_have_count(1)
    wait_until_idle(page)
    assert prompt.evaluate("e => e.textContent") == typed
    assert prompt.inner_text() == typed  # laid out with its line break, nothing hidden
    user = page.locator(USER_MESSAGE).last
    expect(user.locator("math, .katex, em, strong")).to_have_count(0)


def test_the_streamed_answer_has_the_lines_of_the_saved_one(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    inject_fault(app_server, kind="scripted_answer", text=POEM)
    answers_before = page.locator(ASSISTANT_MESSAGE).count()
    page.evaluate(START_SAMPLING)
    chat(page, "A poem, please")
    samples = page.evaluate(STOP_SAMPLING)
    saved = blocks_text(page)
    saved_lines = saved.split("\n")
    assert saved_lines[:4] == ["Roses are red,", "Violets are blue,", "Sugar is sweet,",
                               "And so are you."]  # fmt: skip
    assert "Line one\nLine two\nLine three" in saved  # CRLF: one break, not a paragraph each
    # While streaming, every sample was the saved view's beginning, line for line.
    streamed = [
        text for count, text in samples if count == answers_before + 1 and text and text != saved
    ]
    assert streamed, "no sample caught the answer while it streamed"
    for text in streamed:
        lines = text.split("\n")
        assert lines[:-1] == saved_lines[: len(lines) - 1], text
        assert saved_lines[len(lines) - 1].startswith(lines[-1]), text
    longest = max(streamed, key=len)
    assert len(longest.split("\n")) >= len(saved_lines) - 1
    # Currency stays text.
    assert "from $5 to 6$ overnight" in saved
    expect(page.locator(ASSISTANT_MESSAGE).last.locator("math, .katex")).to_have_count(0)


def test_each_block_takes_its_direction_from_its_text_and_code_stays_ltr(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    arabic = "مرحبا بك. هذا نص عربي."
    inject_fault(
        app_server,
        kind="scripted_answer",
        text=f"{arabic}\n\n```python\nprint('hi')\n```\n\nAn English paragraph.\n\n- عنصر\n- item",
    )
    chat(page, "كيف حالك؟")  # returns once the answer is saved and drawn
    answer = page.locator(ASSISTANT_MESSAGE).last
    expect(answer.locator("pre")).to_have_count(1)

    def direction(selector: str) -> str:
        return str(answer.locator(selector).first.evaluate("e => getComputedStyle(e).direction"))

    assert direction(f"p:has-text('{arabic}')") == "rtl"
    # ... and is laid out from the right: its text ends at the paragraph's right edge.
    text_box, block_box = answer.locator(f"p:has-text('{arabic}')").evaluate(
        """e => { const r = document.createRange(); r.selectNodeContents(e);
                  const t = r.getBoundingClientRect(), b = e.getBoundingClientRect();
                  return [[t.left, t.right], [b.left, b.right]]; }"""
    )
    assert abs(text_box[1] - block_box[1]) < 2 and text_box[0] > block_box[0] + 50
    assert direction("p:has-text('An English paragraph.')") == "ltr"
    assert direction("pre") == "ltr"
    assert direction("li:has-text('عنصر')") == "rtl"
    prompt = page.locator(USER_MESSAGE).last.locator(".ablt-prompt")
    assert prompt.evaluate("e => getComputedStyle(e).direction") == "rtl"


def test_remote_images_are_never_fetched_and_html_stays_inert(
    page: Page, app_server: AppServer
) -> None:
    log_in_as_member(page, app_server)
    requested: list[str] = []
    dialogs: list[str] = []

    def record(request: Request) -> None:
        requested.append(request.url)

    page.on("request", record)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tracker = "http://tracker.invalid/track?secret=my-salary"
    inject_fault(
        app_server,
        kind="scripted_answer",
        text=f"Look ![]({tracker}) <img src=x onerror=alert(1)>\n\n"
        "| a | b |\n|---|---|\n| one<br>two | <script>alert(2)</script> |\n\n"
        "[data](data:text/html,hi) [js](javascript:alert(3))\n\n"
        "Prices: $5 to 6$; area \\( x^2 \\).",
    )
    chat(page, f"Show me ![]({tracker}&from=prompt)")
    answer = page.locator(ASSISTANT_MESSAGE).last
    link = answer.locator("a.ablt-image-link")
    expect(link).to_have_count(1)
    assert link.get_attribute("href") == tracker and "tracker.invalid" in link.inner_text()
    expect(answer.locator("img")).to_have_count(0)
    cell = answer.locator("td").first
    assert cell.inner_text() == "one\ntwo"  # <br> is a line break, not a tag
    expect(answer.locator("a[href^='data:'], a[href^='javascript:']")).to_have_count(0)
    expect(answer.locator("math")).to_have_count(1)  # \( \) is maths, $...$ is not
    assert "$5 to 6$" in answer.inner_text()
    assert not [url for url in requested if "tracker.invalid" in url or url.endswith("/x")]
    assert dialogs == []
