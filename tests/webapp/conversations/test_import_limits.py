"""Import and options against hostile files: one set of limits, plain refusals,
no side effects (issue 12 "Exports and bad input", issue 13 items 8-10)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from webapp import limits
from webapp.chat import changes
from webapp.chat import open_chat as chat
from webapp.conversations import context as history
from webapp.conversations.context import ConversationImportError, ConversationOptions, parse_import
from webapp.conversations.store import ConversationStore
from webapp.db.schema import conversations

from .store_helpers import Member


def export(messages: list[dict[str, Any]] | None = None, **options: Any) -> dict[str, Any]:
    """A valid version-1 export, with the given messages and options."""
    return {
        "format": history.EXPORT_FORMAT,
        "version": history.EXPORT_VERSION,
        "conversation": {
            "title": "Imported",
            "bot_slug": "omni",
            "bot_name": "Omni",
            "options": options,
            "created_at": "2026-11-01T10:00:00+00:00",
        },
        "messages": messages
        if messages is not None
        else [
            {"role": "user", "text": "Hi", "created_at": "2026-11-01T10:00:00Z"},
            {"role": "assistant", "text": "Hello!", "created_at": "2026-11-01T10:00:01Z"},
        ],
    }


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()


def with_option(name: str, value: str) -> bytes:
    """An export whose options carry `value` as raw JSON text (NaN, huge numbers...)."""
    text = json.dumps(export())
    marker = '"options": {}'
    assert marker in text
    return text.replace(marker, f'"options": {{"{name}": {value}}}').encode()


def replace_field(path: str, raw: str) -> bytes:
    """An export whose `created_at` of the conversation is replaced by raw JSON text."""
    text = json.dumps(export())
    old = '"created_at": "2026-11-01T10:00:00+00:00"'
    assert old in text
    return text.replace(old, f'"{path}": {raw}').encode()


DEEP = 100_000
HOSTILE_IMPORTS: list[tuple[str, bytes]] = [
    ("100,000 nested arrays", b"[" * DEEP + b"]" * DEEP),
    ("100,000 nested objects", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
    (
        "deep nesting inside a message",
        dumps(export())[:-1] + b', "x": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    ),
    ("max_words 50000", dumps(export(max_words=50_000))),
    ("max_words 0", dumps(export(max_words=0))),
    ("max_words a string", dumps(export(max_words="300"))),
    ("max_words true", dumps(export(max_words=True))),
    ("max_words 300.5", dumps(export(max_words=300.5))),
    ("max_words NaN", with_option("max_words", "NaN")),
    ("max_words Infinity", with_option("max_words", "Infinity")),
    ("max_words -Infinity", with_option("max_words", "-Infinity")),
    ("max_words with 5,000 digits", with_option("max_words", "9" * 5000)),
    ("max_words 1e400", with_option("max_words", "1e400")),
    ("use_search a string", dumps(export(use_search="yes"))),
    ("system instruction over the limit", dumps(export(system_instruction="x" * 50_001))),
    ("language over the limit", dumps(export(language="L" * 101))),
    ("version true", dumps({**export(), "version": True})),
    ("version 1.0", dumps({**export(), "version": 1.0})),
    ("version a huge number", dumps(export())[:-1] + b', "version": ' + b"1" * 5000 + b"}"),
    ("created_at a number", replace_field("created_at", "1e308")),
    (
        "created_at year 9999 west of UTC",
        replace_field("created_at", '"9999-12-31T23:59:59-05:00"'),
    ),
    ("created_at year 1 east of UTC", replace_field("created_at", '"0001-01-01T00:00:00+05:00"')),
    ("created_at a list", replace_field("created_at", "[]")),
    ("messages an object", dumps({**export(), "messages": {"0": "x"}})),
    ("a message null", dumps(export([None]))),  # type: ignore[list-item]
    (
        "a message text a number",
        dumps(export([{"role": "user", "text": 5, "created_at": "2026-11-01T10:00:00Z"}])),
    ),
    (
        "a lone surrogate",
        b'{"format": "ablt-chat-conversation", "version": 1, "conversation": '
        b'{"title": "\\ud800", "bot_slug": "omni", "created_at": "2026-11-01T10:00:00Z"}, '
        b'"messages": []}',
    ),
    (
        "a NUL character",
        dumps(export([{"role": "user", "text": "a\x00b", "created_at": "2026-11-01T10:00:00Z"}])),
    ),
    ("UTF-16 bytes", json.dumps(export()).encode("utf-16")),
    ("latin-1 bytes", '{"title": "caf\xe9"}'.encode("latin-1")),
    ("invalid JSON", b'{"format": '),
    ("a bare string", b'"ablt-chat-conversation"'),
    ("a bare NaN", b"NaN"),
    ("only whitespace", b" \n\t "),
    (
        "title a dict",
        dumps({**export(), "conversation": {**export()["conversation"], "title": {}}}),
    ),
    (
        "options a list",
        dumps({**export(), "conversation": {**export()["conversation"], "options": []}}),
    ),
    ("conversation a string", dumps({**export(), "conversation": "x"})),
]


@pytest.mark.parametrize(("name", "raw"), HOSTILE_IMPORTS, ids=[n for n, _ in HOSTILE_IMPORTS])
def test_every_malformed_import_is_a_plain_import_error(name: str, raw: bytes) -> None:
    with pytest.raises(ConversationImportError) as caught:
        parse_import(raw)
    message = str(caught.value)
    assert message and "Traceback" not in message and len(message) < 400


def test_hostile_imports_write_nothing(store: ConversationStore, ann: Member) -> None:
    before = store.create_conversation(ann, "omni", "Omni")
    for name, raw in HOSTILE_IMPORTS:
        with pytest.raises(ConversationImportError):
            store.import_conversation(ann, raw)
        assert [c.id for c in store.list_conversations(ann)] == [before.id], name


def test_an_import_asking_for_50000_words_is_refused_with_the_apps_own_limit() -> None:
    with pytest.raises(ConversationImportError) as caught:
        parse_import(dumps(export(max_words=50_000)))
    assert str(caught.value) == (
        "The file's answer length limit (50000) is outside what this app accepts: "
        f"a whole number of words from 1 to {limits.MAX_WORDS_MAX:,}."
    )


def test_the_deep_json_of_the_report_gets_a_plain_reason() -> None:
    with pytest.raises(ConversationImportError, match="nested too deeply"):
        parse_import(b"[" * DEEP + b"]" * DEEP)


def test_an_import_within_the_limits_at_their_edges_is_accepted() -> None:
    parsed = parse_import(
        dumps(
            export(
                max_words=limits.MAX_WORDS_MAX,
                language="L" * limits.LANGUAGE_MAX_CHARS,
                system_instruction="s" * limits.SYSTEM_INSTRUCTION_MAX_CHARS,
                use_search=True,
            )
        )
    )
    assert parsed.conversation.options.max_words == limits.MAX_WORDS_MAX


def test_the_model_the_widgets_and_the_api_call_share_the_limits() -> None:
    with pytest.raises(ValueError):
        ConversationOptions(max_words=limits.MAX_WORDS_MAX + 1)
    with pytest.raises(ValueError):
        ConversationOptions(system_instruction="x" * (limits.SYSTEM_INSTRUCTION_MAX_CHARS + 1))
    # The API call stays inside them even for options built without validation.
    loose = ConversationOptions.model_construct(max_words=50_000, use_search=False, language=None)
    assert chat.api_options(loose)["max_words"] == limits.MAX_WORDS_MAX


# -------------------------------------------------------- stored out-of-range options


def store_raw_options(target: ConversationStore, conversation_id: str, raw: str) -> None:
    """Put options in the database as an older version (or a hand edit) left them."""
    engine = sa.create_engine(target.url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(options=raw)
        )
    engine.dispose()


@pytest.mark.parametrize(
    ("raw", "expected", "note"),
    [
        ('{"max_words": 50000}', ConversationOptions(max_words=20_000), "50,000 words"),
        (
            '{"max_words": 50000, "language": "French"}',
            ConversationOptions(max_words=20_000, language="French"),
            "limit of 20,000",
        ),
        (
            json.dumps({"system_instruction": "x" * 60_000, "use_search": True}),
            ConversationOptions(use_search=True),
            "system instruction",
        ),
        ('{"max_words": -3}', ConversationOptions(), "answer length limit"),
        ('{"use_search": "maybe"}', ConversationOptions(), "web search"),
        ("not json", ConversationOptions(), "could not be read"),
        ("[1, 2]", ConversationOptions(), "could not be read"),
    ],
)
def test_a_stored_option_outside_the_limits_opens_with_a_note(
    store: ConversationStore,
    ann: Member,
    raw: str,
    expected: ConversationOptions,
    note: str,
) -> None:
    conv = store.create_conversation(ann, "omni", "Omni")
    store.append_message(ann, conv.id, "user", "Hi")
    store_raw_options(store, conv.id, raw)
    opened = chat.open_conversation(store, ann, conv.id)  # no crash
    assert opened.conversation.options == expected
    assert any(note in text for text in opened.conversation.option_notes)
    assert [m.text for m in opened.messages] == ["Hi"]


def test_options_within_the_limits_open_without_a_note(
    store: ConversationStore,
    ann: Member,
) -> None:
    conv = store.create_conversation(ann, "omni", "Omni", ConversationOptions(max_words=300))
    assert store.get_conversation(ann, conv.id).option_notes == ()


# ------------------------------------------------------------- no side effects


def test_an_imported_last_prompt_is_not_awaiting_an_answer_until_sent(
    store: ConversationStore,
    ann: Member,
) -> None:
    messages = [
        {"role": "system", "text": "Talk like a pirate.", "created_at": "2026-11-01T10:00:00Z"},
        {"role": "user", "text": "First?", "created_at": "2026-11-01T10:00:01Z"},
        {"role": "assistant", "text": "Arr.", "created_at": "2026-11-01T10:00:02Z"},
        {"role": "user", "text": "Bill me?", "created_at": "2026-11-01T10:00:03Z"},
    ]
    conv = store.import_conversation(ann, dumps(export(messages)))
    opened = chat.open_conversation(store, ann, conv.id)
    assert [m.role for m in opened.messages] == ["system", "user", "assistant", "user"]
    assert not chat.awaiting_answer(opened)  # opening it sends nothing
    assert chat.unsent_prompt(opened) is not None
    assert history.is_unsent_prompt(opened.messages[-1])
    assert not history.is_unsent_prompt(opened.messages[1])  # an answered prompt was sent

    changes.send_unsent(store, ann, opened)  # the member's explicit Send
    assert chat.awaiting_answer(opened)
    assert chat.unsent_prompt(opened) is None
    window = chat.context_before(store, ann, opened.conversation, history.ContextLimits())
    assert window.messages[0] == {"role": "system", "content": "Talk like a pirate."}
    assert window.messages[-1] == {"role": "user", "content": "Bill me?"}


@pytest.mark.parametrize(
    ("roles", "unsent"),
    [
        (["user"], [True]),
        (["user", "system"], [True, False]),
        (["user", "assistant"], [False, False]),
        (["assistant", "user", "user"], [False, False, True]),
        (["system"], [False]),
    ],
)
def test_only_a_last_unanswered_prompt_is_marked_unsent(
    roles: list[str], unsent: list[bool]
) -> None:
    messages = [
        {
            "role": r,
            "text": f"m{i}",
            "status": "error" if r == "user" else "complete",
            "created_at": "2026-11-01T10:00:00Z",
        }
        for i, r in enumerate(roles)
    ]
    settled = history.settle_imported(parse_import(dumps(export(messages))).messages)
    marked = [m.role == "user" and m.status != "complete" for m in settled]
    assert marked == unsent
    assert all(m.role == r for m, r in zip(settled, roles, strict=True))
