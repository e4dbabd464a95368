"""The prompt library and read-only share links through app.py, as members use them.

Demo mode against the embedded emulator; both demo accounts log in through the
real login form, in separate sessions (two browsers).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from webapp.conversations.options import ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.library import PromptLibrary
from webapp.sharing import NOT_AVAILABLE, SHARE_PARAM, ShareLinks
from webapp.ui.state import Keys

from .test_chat_controls import copied_texts
from .test_chat_page import bubbles, chat_requests, conversation, send

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


def open_page(at: AppTest, script: str) -> AppTest:
    at.switch_page(script).run()
    assert not at.exception, at.exception
    return at


def new_entry(
    at: AppTest, name: str, *, system: str = "", starter: str = "", shared: bool = False
) -> None:
    """Fill in and submit the Prompts page's "New library entry" form."""
    at.text_input(key="library_new_name").input(name)
    at.text_area(key="library_new_system").input(system)
    at.text_area(key="library_new_starter").input(starter)
    at.checkbox(key="library_new_shared").check() if shared else None
    next(b for b in at.button if b.label == "Save").click().run()
    assert not at.exception, at.exception


def entry_names(at: AppTest) -> list[str]:
    """The library entries listed on the Prompts page (card headings)."""
    return [m.value.strip("*") for m in at.markdown if m.value.startswith("**")]


def test_a_member_creates_shares_and_starts_a_chat_filling_its_variable(
    logged_in: Login, app_store: ConversationStore
) -> None:
    admin = open_page(logged_in("demo-admin"), "views/library.py")
    new_entry(admin, "Admin notes", system="Internal: be terse.")  # private
    new_entry(
        admin,
        "Refund reply",
        system="You write for the support team.",
        starter="Write a kind refund reply to {{customer}}.",
        shared=True,
    )
    member = open_page(logged_in("demo-member"), "views/library.py")
    names = entry_names(member)
    assert any("Refund reply" in n for n in names)
    assert not any("Admin notes" in n for n in names), "another member's private entry"

    entry = next(e for e in PromptLibrary(app_store).visible(member.session_state[Keys.MEMBER]))
    # Starting without the variable says what is missing and goes nowhere.
    member.button(key=f"library_start_page_{entry.id}").click().run()
    assert "customer" in member.error[0].value
    member.run()  # another field's rerun: the note stays where it is, under the button
    assert "customer" in member.error[0].value
    member.text_input(key=f"library_var_page_{entry.id}_customer").input("Ada **Lovelace**")
    member.button(key=f"library_start_page_{entry.id}").click().run()
    assert not member.exception, member.exception

    opened = conversation(member)  # the chat page, a fresh conversation from the entry
    assert opened.is_draft
    assert opened.conversation.options.system_instruction == "You write for the support team."
    assert opened.conversation.options.library_prompt_id == entry.id
    assert member.chat_input[0].value == "Write a kind refund reply to Ada **Lovelace**."
    assert not chat_requests(), "nothing is sent by itself"

    # AppTest stays on the page it was told to open (a browser follows
    # st.switch_page), and a chat input's text lives in the browser: send it anew.
    open_page(member, "views/chat.py")
    send(member, "Write a kind refund reply to Ada **Lovelace**.")
    sent = chat_requests()[-1]
    assert sent["messages"][0] == {"role": "system", "content": "You write for the support team."}
    stored = app_store.get_conversation(member.session_state[Keys.MEMBER], conversation(member).id)
    assert stored.options.library_prompt_id == entry.id, "the conversation remembers its entry"


def test_the_chats_options_are_saved_as_a_library_entry_from_the_chat(logged_in: Login) -> None:
    at = logged_in("demo-member")
    at.text_input(key="library_save_name").input("My pirate voice")
    at.text_area(key="library_save_starter").input("Tell me about {{topic}}")
    at.checkbox(key="library_save_shared").check()
    next(b for b in at.button if b.label == "Save to library").click().run()
    assert not at.exception, at.exception
    assert "Saved" in at.success[0].value

    other = open_page(logged_in("demo-admin"), "views/library.py")
    assert any("My pirate voice" in n for n in entry_names(other)), "shared with the team"


def test_a_share_link_shows_the_snapshot_read_only_and_copies_into_my_chats(
    logged_in: Login, app_store: ConversationStore, new_app: Callable[[], AppTest]
) -> None:
    owner = logged_in("demo-admin")
    send(owner, "Plan a budget for a trip to Rome")
    conv_id = conversation(owner).id
    owner.button(key="share_create").click().run()
    assert not owner.exception, owner.exception
    link = ShareLinks(app_store).owned(owner.session_state[Keys.MEMBER])[0]
    shown_links = [c.value for c in owner.code if "/shared?share=" in c.value]
    assert len(shown_links) == 1 and shown_links[0].endswith(f"/shared?share={link.token}")
    shared_bubbles = bubbles(owner)
    send(owner, "My salary is 4,000 a month; is that enough?")  # after sharing: not shown

    reader = logged_in("demo-member")
    reader.query_params[SHARE_PARAM] = link.token
    open_page(reader, "views/shared.py")
    assert bubbles(reader) == shared_bubbles
    assert "salary" not in str([m.value for m in reader.markdown])
    # One-click Copy works on a shared conversation too (its script is on this page).
    assert "Plan a budget for a trip to Rome" in copied_texts(reader)
    assert any("__abltChatTools" in h.body for h in reader.get("html"))
    assert not reader.chat_input, "read-only: no message box"

    reader.button(key="share_copy").click().run()
    assert not reader.exception, reader.exception
    copy = conversation(reader)
    assert copy.id != conv_id and copy.conversation.owner == "demo-member"
    assert bubbles(reader)[: len(shared_bubbles)] == shared_bubbles


def test_revoked_and_unknown_links_get_the_same_plain_not_available(
    logged_in: Login, app_store: ConversationStore
) -> None:
    owner = logged_in("demo-admin")
    send(owner, "Shared for a moment")
    owner.button(key="share_create").click().run()
    token = ShareLinks(app_store).owned(owner.session_state[Keys.MEMBER])[0].token

    open_page(owner, "views/shared.py")
    owner.button(key=f"share_revoke_{token}").click().run()
    assert "Stopped sharing" in owner.success[0].value

    for shown_token in (token, "made-up-token"):
        reader = logged_in("demo-member")
        reader.query_params[SHARE_PARAM] = shown_token
        open_page(reader, "views/shared.py")
        assert [w.value for w in reader.warning] == [NOT_AVAILABLE]
        assert not reader.chat_message


def test_a_logged_out_visitor_gets_the_login_page_and_no_conversation(
    new_app: Callable[[], AppTest], logged_in: Login, app_store: ConversationStore
) -> None:
    owner = logged_in("demo-admin")
    send(owner, "Only for the team")
    owner.button(key="share_create").click().run()
    token = ShareLinks(app_store).owned(owner.session_state[Keys.MEMBER])[0].token

    visitor = new_app()
    visitor.query_params[SHARE_PARAM] = token
    visitor.run()
    assert not visitor.exception
    assert "not available" in " ".join(i.value for i in visitor.info)
    assert not visitor.chat_message
    assert "Only for the team" not in str([m.value for m in visitor.markdown])


# -- placeholders and many variables (issue 28, items 12 and 8) -----------------------------


def test_a_starter_with_punctuated_placeholders_asks_for_each_and_saving_names_the_rest(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = open_page(logged_in("demo-member"), "views/library.py")
    new_entry(at, "Reminder", starter="Write to {{first name}} about {{topic?}} by {{due.date}}")
    assert at.success[0].value == "Saved “Reminder”."  # every placeholder is asked for
    new_entry(at, "Odd one", starter="Dear {{name}}, see {{}} and {{ }}.")
    saved = at.success[0].value
    assert "These will stay as typed" in saved and "\\{\\{\\}\\}" in saved

    member = at.session_state[Keys.MEMBER]
    entry = next(e for e in PromptLibrary(app_store).visible(member) if e.name == "Reminder")
    at.button(key=f"library_start_page_{entry.id}").click().run()
    values = {"first name": "Ann", "topic?": "the fees", "due.date": "Friday"}
    for name, value in values.items():
        at.text_input(key=f"library_var_page_{entry.id}_{name}").input(value)
    at.button(key=f"library_start_page_{entry.id}").click().run()
    assert not at.exception, at.exception
    assert at.chat_input[0].value == "Write to Ann about the fees by Friday"


def store_shared_entry(store: ConversationStore, owner: str, name: str, starter: str) -> str:
    """An entry as an older version stored it (no cap at creation): its id."""
    import datetime as dt
    import uuid

    import sqlalchemy as sa

    from webapp.conversations.context import ConversationOptions
    from webapp.db.schema import prompts as P

    entry_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC)
    with store.transaction(write=True) as conn:
        conn.execute(
            sa.insert(P).values(
                id=entry_id,
                owner=owner,
                name=name,
                system_instruction="",
                starter_prompt=starter,
                options=ConversationOptions().model_dump_json(),
                bot_slug=None,
                shared=True,
                pinned=False,
                created_at=now,
                updated_at=now,
            )
        )
    return entry_id


def test_many_variables_are_refused_and_a_stored_entry_draws_only_its_capped_fields_when_started(
    logged_in: Login, app_store: ConversationStore
) -> None:
    many = "".join(f"{{{{v{n}}}}}" for n in range(2_200))  # within the form's 20,000 characters
    admin = open_page(logged_in("demo-admin"), "views/library.py")
    new_entry(admin, "Too many", starter=many, shared=True)
    assert "at most 20 values" in admin.error[0].value and "2,200" in admin.error[0].value

    old = store_shared_entry(app_store, "demo-admin", "Old entry", many)
    other = store_shared_entry(app_store, "demo-admin", "Other entry", "Hi {{a}} {{b}} {{c}}")
    member = open_page(logged_in("demo-member"), "views/library.py")
    names = entry_names(member)
    assert any("Old entry" in n for n in names) and not any("Too many" in n for n in names)
    base = len(member.text_input)
    assert base < 10, "no entry's fields are drawn before it is started"

    member.button(key=f"library_start_page_{old}").click().run()
    assert not member.exception, member.exception
    assert len(member.text_input) == base + 20  # the entry being started, up to the cap
    assert not [t for t in member.text_input if t.key and other in t.key]
    assert any("stay as typed" in c.value and "2,170 more" in c.value for c in member.caption)
    for n in range(20):
        member.text_input(key=f"library_var_page_{old}_v{n}").input(f"x{n}")
    member.button(key=f"library_start_page_{old}").click().run()
    assert not member.exception, member.exception
    typed = member.chat_input[0].value
    assert typed.startswith("x0x1x2") and typed.endswith("{{v2198}}{{v2199}}")


def test_copy_into_my_chats_hands_over_no_hidden_system_instruction(
    logged_in: Login, app_store: ConversationStore
) -> None:
    """Issue 28 item 9: the owner's instruction is not on the share page, so
    the reader's copy neither keeps it nor sends it with the reader's prompts."""
    owner = logged_in("demo-admin")
    send(owner, "Draft a reply to a refund request")
    member = owner.session_state[Keys.MEMBER]
    conv_id = conversation(owner).id
    app_store.update_options(
        member,
        conv_id,
        ConversationOptions(system_instruction="Internal: never refund anyone."),
    )
    link = ShareLinks(app_store).share(member, conv_id)

    reader = logged_in("demo-member")
    reader.query_params[SHARE_PARAM] = link.token
    open_page(reader, "views/shared.py")
    assert "never refund" not in str([m.value for m in reader.markdown])
    reader.button(key="share_copy").click().run()
    assert not reader.exception, reader.exception
    copy = conversation(reader)
    assert copy.conversation.options.system_instruction is None
    assert copy.conversation.options.library_prompt_id is None
    before = len(chat_requests())
    send(reader, "Can you refund me?")
    # The answer is asked for by the background worker: on a busy machine the
    # request may land just after the run that sent the prompt.
    deadline = time.monotonic() + 20
    while len(chat_requests()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    (request,) = chat_requests()[before:]
    assert request["user_id"] != owner.session_state[Keys.MEMBER].user_id
    assert [m for m in request["messages"] if m["role"] == "system"] == []
    assert "never refund" not in str(request)


# ------------------------------------------- long lists drawn a window at a time (item 7)


def long_conversation(store: ConversationStore, owner: object, count: int) -> str:
    """An imported conversation of `count` short messages (20,000 is a 1.7 MB
    import, within the import limits); the id."""
    import json

    created = "2026-11-30T09:00:00+00:00"
    data = {
        "format": "ablt-chat-conversation",
        "version": 1,
        "conversation": {"title": "Long", "bot_slug": "omni", "created_at": created},
        "messages": [
            {
                "role": "user" if n % 2 == 0 else "assistant",
                "text": f"message number {n}",
                "created_at": created,
            }
            for n in range(count)
        ],
    }
    return store.import_conversation(owner, json.dumps(data)).id  # type: ignore[arg-type]


def test_a_share_of_20000_messages_draws_its_latest_window_and_show_earlier_adds_more(
    logged_in: Login, app_store: ConversationStore
) -> None:
    """Issue 28 item 7: the reader's page drew 8,162 bubbles and never settled."""
    from webapp.chat.open_chat import PAGE_SIZE

    owner = logged_in("demo-admin")
    member = owner.session_state[Keys.MEMBER]
    link = ShareLinks(app_store).share(member, long_conversation(app_store, member, 20_000))

    reader = logged_in("demo-member")
    reader.query_params[SHARE_PARAM] = link.token
    open_page(reader, "views/shared.py")
    drawn = bubbles(reader)
    assert len(drawn) == PAGE_SIZE
    assert drawn[-1][1] == "message number 19999"  # the latest, as the chat opens
    assert drawn[0][1] == f"message number {20_000 - PAGE_SIZE}"
    (earlier,) = [b for b in reader.button if b.label.startswith("Show earlier")]
    assert earlier.label == f"Show earlier ({20_000 - PAGE_SIZE:,} more)"
    earlier.click().run()
    assert not reader.exception, reader.exception
    drawn = bubbles(reader)
    assert len(drawn) == 2 * PAGE_SIZE and drawn[-1][1] == "message number 19999"
    assert drawn[0][1] == f"message number {20_000 - 2 * PAGE_SIZE}"
    reader.run()  # another rerun keeps the window the reader asked for
    assert len(bubbles(reader)) == 2 * PAGE_SIZE
    # "Copy into my chats" still copies every message.
    reader.button(key="share_copy").click().run()
    assert not reader.exception, reader.exception
    assert conversation(reader).total == 20_000


def test_a_short_share_draws_every_message_and_no_show_earlier(
    logged_in: Login, app_store: ConversationStore
) -> None:
    owner = logged_in("demo-admin")
    member = owner.session_state[Keys.MEMBER]
    link = ShareLinks(app_store).share(member, long_conversation(app_store, member, 7))
    reader = logged_in("demo-member")
    reader.query_params[SHARE_PARAM] = link.token
    open_page(reader, "views/shared.py")
    assert [text for _, text in bubbles(reader)] == [f"message number {n}" for n in range(7)]
    assert not [b for b in reader.button if b.label.startswith("Show earlier")]


def test_the_shared_page_lists_a_window_of_own_links_and_show_more_adds_more(
    logged_in: Login, app_store: ConversationStore
) -> None:
    from webapp.sharing.view import LINKS_SHOWN

    owner = logged_in("demo-admin")
    member = owner.session_state[Keys.MEMBER]
    links = ShareLinks(app_store)
    count = LINKS_SHOWN + 5
    for n in range(count):
        links.share(member, long_conversation(app_store, member, n + 1))
    open_page(owner, "views/shared.py")
    revoke_buttons = [b for b in owner.button if b.label == "Revoke"]
    assert len(revoke_buttons) == LINKS_SHOWN
    (more,) = [b for b in owner.button if b.label.startswith("Show more")]
    assert more.label == "Show more (5 more)"
    more.click().run()
    assert len([b for b in owner.button if b.label == "Revoke"]) == count
    assert not [b for b in owner.button if b.label.startswith("Show more")]


def test_the_prompts_page_draws_a_window_of_entries_and_a_new_search_starts_again(
    logged_in: Login, app_store: ConversationStore
) -> None:
    from webapp.library.view import ENTRIES_SHOWN

    admin = logged_in("demo-admin")
    library = PromptLibrary(app_store)
    count = 2 * ENTRIES_SHOWN + 3
    for n in range(count):
        library.create(
            admin.session_state[Keys.MEMBER],
            f"Entry {n:03}",
            starter_prompt="Hello",
            shared=True,
        )
    member = open_page(logged_in("demo-member"), "views/library.py")
    assert len(entry_names(member)) == ENTRIES_SHOWN
    more = next(b for b in member.button if b.label.startswith("Show more"))
    assert more.label == f"Show more ({count - ENTRIES_SHOWN} more)"
    more.click().run()
    assert len(entry_names(member)) == 2 * ENTRIES_SHOWN
    next(b for b in member.button if b.label.startswith("Show more")).click().run()
    assert len(entry_names(member)) == count
    assert not [b for b in member.button if b.label.startswith("Show more")]
    member.text_input(key=Keys.LIBRARY_QUERY).input("Entry 0").run()  # 43 match: one window
    assert len(entry_names(member)) == ENTRIES_SHOWN
