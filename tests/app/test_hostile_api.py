"""The real app against a hostile aBLT-compatible API (issue 12: content from the
API is data, never markup): 2,000 bots whose every field is an attack.

What the app draws from bot fields is checked as Markdown: rendered by
markdown-it-py (CommonMark), no image, link or raw HTML may come out, and no
Streamlit directive (`:red[...]`, `:material/...:`) may be left unescaped. The
bubbles' own rendering (the welcome message is the bot's text like an answer)
belongs to the message renderer and is not judged here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from tests.hostile_api import TOKEN, HostileSetup, hostile_servers
from webapp import limits
from webapp.bots import avatars
from webapp.team import load_team
from webapp.ui.state import Keys

from .conftest import COOKIE_KEY, log_in

BOT_COUNT = 2_000
PASSWORD = "a long test passphrase"
_RENDER = MarkdownIt("commonmark")
# A directive of ours is fine (":material/pending:"); the attacker's are these.
_DIRECTIVES = re.compile(r"(?<!\\):(red\[|material/home)")


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileSetup]:
    with hostile_servers(BOT_COUNT) as setup:
        yield setup


@pytest.fixture
def app(
    hostile: HostileSetup,
    monkeypatch: pytest.MonkeyPatch,
    auth_file: Path,
    new_app: Callable[[], AppTest],
) -> AppTest:
    monkeypatch.setenv("ABLT_BEARER_TOKEN", TOKEN)
    monkeypatch.setenv("ABLT_BASE_URL", hostile.api_url)
    monkeypatch.setenv("ABLT_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("ABLT_AUTH_FILE", str(auth_file))
    monkeypatch.delenv("ABLT_EMULATOR_DELAY", raising=False)
    st.cache_data.clear()
    avatars.forget_avatars()
    team = load_team(auth_file, create=True)
    team.add("alice", name="Alice", email="alice@example.com", password=PASSWORD)
    team.save()
    at = new_app().run()
    log_in(at, "alice", PASSWORD)
    assert not at.exception, at.exception
    return at


def markdown_outside_bubbles(at: AppTest) -> list[str]:
    """Every Markdown text the page draws (markdown, captions, headers, alerts),
    except inside chat bubbles."""
    inside = {id(e) for m in at.chat_message for e in (*m.markdown, *m.caption)}
    elements = [
        *at.markdown,
        *at.caption,
        *at.subheader,
        *at.header,
        *at.title,
        *at.info,
        *at.warning,
    ]
    return [e.value for e in elements if id(e) not in inside and isinstance(e.value, str)]


def assert_literal(markdown: str) -> None:
    html = _RENDER.render(markdown)
    assert "<img" not in html and "<a " not in html and "<script" not in html, markdown
    assert not _DIRECTIVES.search(markdown), markdown


def test_the_chat_page_shows_every_bot_field_as_text(app: AppTest, hostile: HostileSetup) -> None:
    texts = markdown_outside_bubbles(app)
    # The name starts with "<script>": shown, escaped, as text.
    assert any("\\<script\\>alert" in t for t in texts), texts
    for text in texts:
        assert_literal(text)
    header = app.main.subheader[0].value
    # Cut for display: the name is shown, escaped, within the display limit.
    assert "\\<script\\>" in header and len(header) < 3 * limits.BOT_NAME_MAX_CHARS
    # The thinking line and the placeholder name the bot as text too.
    placeholder = app.chat_input[0].placeholder
    assert placeholder.startswith("Message ") and len(placeholder) < 200
    # Avatars: nothing reached the attacker; the bot shows its initials.
    assert next(image.value for image in app.main.image)[0].startswith("data:image/svg+xml")
    assert hostile.attacker.seen() == []


def test_the_chat_picker_searches_2000_bots_instead_of_listing_them(app: AppTest) -> None:
    picker = app.selectbox(key=Keys.CHAT_BOT_SELECT)
    assert len(picker.options) <= limits.BOT_PICKER_MAX_CHOICES + 1
    assert any(f"of {BOT_COUNT:,} matching bots" in c.value for c in app.main.caption), (
        "the picker should say it shows only some"
    )
    app.text_input(key=Keys.CHAT_BOT_QUERY).input("#1998").run()
    picker = app.selectbox(key=Keys.CHAT_BOT_SELECT)
    assert any(option.endswith("(hostile-01998)") for option in picker.options)
    picker.set_value("hostile-01998").run()
    assert not app.exception, app.exception
    assert app.session_state[Keys.CHAT_BOT_SLUG] == "hostile-01998"
    assert all(len(option) <= 2 * limits.BOT_NAME_MAX_CHARS + 4 for option in picker.options)


def test_the_bots_page_pages_2000_hostile_bots_with_initials_avatars(
    app: AppTest, hostile: HostileSetup
) -> None:
    app.switch_page("views/bots.py").run()
    assert not app.exception, app.exception
    cards = [b for b in app.button if b.label == "Chat with this bot"]
    assert len(cards) == limits.BOT_CARDS_PER_PAGE
    # Counts in the session's locale (English: "2,000"), `webapp.ui.i18n.format_number`.
    assert f"{BOT_COUNT:,} of {BOT_COUNT:,} bots" in [c.value for c in app.caption]
    for text in markdown_outside_bubbles(app):
        assert_literal(text)
    # The huge description (bot 1) is cut on its card.
    assert max(len(m.value) for m in app.markdown) < 4 * limits.BOT_DESCRIPTION_MAX_CHARS
    # Every avatar was refused (attacker's host, redirect inside, 300 MB, drip,
    # javascript:) or absent: each card shows its initials.
    for image in app.image:
        assert image.value[0].startswith("data:image/svg+xml")
    assert hostile.attacker.seen() == []

    app.button(key="bots_page_next").click().run()
    keys = [b.key for b in app.button if b.label == "Chat with this bot"]
    assert keys[0] == f"bots_chat_HOSTILE-{limits.BOT_CARDS_PER_PAGE:05d}"
    app.text_input(key=Keys.BOTS_QUERY).input("#1998").run()
    keys = [b.key for b in app.button if b.label == "Chat with this bot"]
    assert keys == ["bots_chat_HOSTILE-01998"]  # a narrowed search starts at its first page
