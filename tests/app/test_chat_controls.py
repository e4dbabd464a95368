"""The chat's small controls through app.py: Copy, times, keyboard, the notice
that stays, imported conversations, find in a conversation (issue 11).

What only a browser shows (the clipboard, focus, Esc, scrolling) is in
tests/e2e/test_chat_controls_browser.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from webapp.chat import message_tools
from webapp.chat import open_chat as chat
from webapp.chat.find import FIND_MENU_KEY
from webapp.conversations import context as history
from webapp.conversations.store import ConversationStore
from webapp.ui.clipboard import decode_text
from webapp.ui.state import Keys

from .test_chat_page import conversation, send

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]
TOKYO = ZoneInfo("Asia/Tokyo")


def message_lines(at: AppTest) -> list[str]:
    """The line under each bubble (time, Copy), in order."""
    return [h.body for m in at.chat_message for h in m.get("html")]


def copied_texts(at: AppTest) -> list[str]:
    """What each bubble's Copy button would put on the clipboard (None: no button)."""
    texts = []
    for line in message_lines(at):
        found = re.search(r'data-ablt-copy="([^"]*)"', line)
        texts.append(decode_text(found.group(1)) if found else None)
    return texts


def notices(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# ------------------------------------------------------------ copy and times


def test_every_message_but_the_welcome_has_one_click_copy_of_its_raw_text(
    logged_in: Login,
) -> None:
    at = logged_in()
    prompt = "Explain **bold** and `code`\n\n- one\n- two"
    send(at, prompt)
    stored = conversation(at).messages
    assert [m.role for m in stored] == ["assistant", "user", "assistant"]
    # The welcome has nothing to copy; the prompt and answer copy as stored (Markdown source).
    assert copied_texts(at) == [None, prompt, stored[-1].text]
    assert all(not m.get("popover") for m in at.chat_message)  # no popover on the way


def test_each_message_shows_its_time_on_the_members_clock(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    at.context["timezone"] = "Asia/Tokyo"
    send(at, "What time is it?")
    times = [m.created_at for m in conversation(at).messages]
    lines = message_lines(at)
    assert len(lines) == len(times) == 3
    for line, when in zip(lines, times, strict=True):
        tokyo = when.astimezone(TOKYO)
        assert f">{message_tools.time_label(when, TOKYO)}</time>" in line
        assert f'title="{tokyo:%Y-%m-%d %H:%M} JST"' in line
        assert tokyo.hour != when.astimezone(UTC).hour  # not UTC's clock


# ------------------------------------------------------------------ keyboard


def test_new_chat_has_a_shortcut_in_its_help_and_puts_the_cursor_in_the_message_box(
    logged_in: Login,
) -> None:
    at = logged_in()
    send(at, "First chat")
    new = at.button(key="chat_new")
    assert new.proto.shortcut.lower() == "ctrl+shift+o"
    assert "Ctrl+Shift+O" in (new.help or "")
    new.click().run()
    assert conversation(at).is_draft
    scripts = [h.body for h in at.get("html") if "__abltChatTools" in h.body]
    assert len(scripts) == 1 and '"focus_input": true' in scripts[0]
    at.run()  # only the run right after New chat moves the cursor
    scripts = [h.body for h in at.get("html") if "__abltChatTools" in h.body]
    assert '"focus_input": false' in scripts[0]


# ------------------------------------------------------- the notice that stays


def test_an_unknown_or_foreign_conversation_notice_stays_until_the_member_acts(
    logged_in: Login,
) -> None:
    owner = logged_in("demo-member")
    send(owner, "My own plan")
    foreign = conversation(owner).id

    for wanted in (foreign, "no-such-conversation"):
        other = logged_in("demo-admin")
        other.query_params[chat.OPEN_PARAM] = wanted
        other.run()
        assert notices(other) == [chat.NOT_FOUND_MESSAGE]
        for _ in range(3):  # reruns (the login cookie's, a widget's) keep it
            other.run()
            assert notices(other) == [chat.NOT_FOUND_MESSAGE]
        assert chat.OPEN_PARAM not in other.query_params
        other.button(key="chat_notice_dismiss").click().run()
        assert notices(other) == []

    # Acting otherwise ends it too: New chat, or a first prompt.
    other = logged_in("demo-admin")
    other.query_params[chat.OPEN_PARAM] = foreign
    other.run()
    other.button(key="chat_new").click().run()
    assert notices(other) == []
    other.query_params[chat.OPEN_PARAM] = foreign
    other.run()
    assert notices(other) == [chat.NOT_FOUND_MESSAGE]
    send(other, "Something else")
    assert notices(other) == []


# -------------------------------------------------------------- imported marks


def export_file(created: str, messages: list[tuple[str, str, str]]) -> bytes:
    return json.dumps(
        {
            "format": history.EXPORT_FORMAT,
            "version": history.EXPORT_VERSION,
            "conversation": {
                "title": "Trip to Rome",
                "bot_slug": "omni",
                "bot_name": "Omni",
                "created_at": created,
            },
            "messages": [
                {"role": role, "text": text, "created_at": when} for role, text, when in messages
            ],
        }
    ).encode()


def test_an_imported_conversation_is_marked_and_keeps_the_files_dates(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "A chat made here")
    made_here = conversation(at).id
    data = export_file(
        "2025-05-01T09:00:00Z",
        [
            ("user", "Plan a trip to Rome", "2025-05-01T09:00:00Z"),
            ("assistant", "Day one: the Forum.", "2025-05-01T09:01:00Z"),
        ],
    )
    at.file_uploader[0].set_value(("rome.json", data, "application/json"))
    at.run()
    assert not at.exception, at.exception
    opened = conversation(at)
    assert opened.id != made_here
    conv = opened.conversation
    member = at.session_state[Keys.MEMBER]
    assert conv.created_at == datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    assert conv.updated_at == datetime(2025, 5, 1, 9, 1, tzinfo=UTC)  # not "now"
    assert conv.imported_at is not None and conv.imported_at.date() == datetime.now(UTC).date()
    stored = app_store.all_messages(member, conv.id)
    assert [m.created_at.minute for m in stored] == [0, 1]
    today = message_tools.imported_label(conv.imported_at, None)
    assert today and today.startswith("Imported ")
    # The header says so; the History row too (icon and tooltip); the one made here does not.
    assert any(today in md.value and "badge" in md.value for md in at.main.markdown)
    rows = {b.key: b for b in at.sidebar.button if b.key and b.key.startswith("chat_open_")}
    assert today in (rows[f"chat_open_{conv.id}"].help or "")
    assert "Imported" not in (rows[f"chat_open_{made_here}"].help or "")
    # Its messages show the file's times.
    lines = message_lines(at)
    assert "1 May 2025 09:00" in lines[0] and "1 May 2025 09:01" in lines[1]
    # The History dates it by the file: not under Today.
    sections = dict(chat.load_history(app_store, member).sections)
    assert all(c.id != conv.id for c in sections.get("Today", []))


# ------------------------------------------------------------------------ find


def test_find_counts_matches_in_the_whole_conversation_and_steps_through_them(
    logged_in: Login,
) -> None:
    at = logged_in()
    send(at, "Tell me about ROME")
    send(at, "Is the café in Rome good?")
    send(at, "Nothing to see")
    texts = [m.text for m in conversation(at).messages]
    expected = sum(len(re.findall("rome", t, flags=re.IGNORECASE)) for t in texts)
    assert expected >= 2

    at.session_state[FIND_MENU_KEY] = True  # Find opened
    box = at.run().text_input(key=Keys.CHAT_FIND_QUERY)
    box.set_value("rome").run()
    assert not at.exception, at.exception
    assert f"1 of {expected}" in [c.value for c in at.caption]
    at.button(key="chat_find_next").click().run()
    assert f"2 of {expected}" in [c.value for c in at.caption]
    at.button(key="chat_find_previous").click().run()
    at.button(key="chat_find_previous").click().run()
    assert f"{expected} of {expected}" in [c.value for c in at.caption]  # wraps around
    snippet = [h.body for h in at.get("html") if "ablt-find-snippet" in h.body]
    assert len(snippet) == 1 and re.search(r"<mark>rome</mark>", snippet[0], re.IGNORECASE)
    # The page is asked to bring the match's message into view, outlined.
    scripts = [h.body for h in at.get("html") if "__abltChatTools" in h.body]
    assert '"mark": true' in scripts[0]

    cafes = sum(t.lower().count("café") for t in texts)
    assert cafes >= 1
    box.set_value("cafe").run()  # accents ignored
    assert f"1 of {cafes}" in [c.value for c in at.caption]
    box.set_value("zanzibar").run()
    assert "No matches" in [c.value for c in at.caption]
    assert at.button(key="chat_find_next").disabled
    at.session_state[FIND_MENU_KEY] = False  # closed: nothing searched or drawn
    at.run()
    assert "No matches" not in [c.value for c in at.caption]


def test_a_match_in_an_earlier_unshown_message_is_loaded_and_brought_into_view(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    send(at, "The password is swordfish")
    member = at.session_state[Keys.MEMBER]
    conv_id = conversation(at).id
    for n in range(chat.PAGE_SIZE + 10):  # the first prompt falls out of the shown tail
        app_store.append_message(member, conv_id, "user" if n % 2 else "assistant", f"Line {n}")
    at.run()
    shown_first = conversation(at).messages[0].seq
    assert shown_first > 1

    at.session_state[FIND_MENU_KEY] = True
    at.run().text_input(key=Keys.CHAT_FIND_QUERY).set_value("SWORDFISH").run()
    assert not at.exception, at.exception
    target = next(m for m in conversation(at).messages if m.text == "The password is swordfish")
    assert conversation(at).messages[0].seq <= target.seq  # now loaded (and drawn)
    scripts = [h.body for h in at.get("html") if "__abltChatTools" in h.body]
    assert f'"id": "{target.id}", "mark": true' in scripts[0]
