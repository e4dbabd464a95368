"""Pure conversation logic: titles, sidebar groups, export/import, the context window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from webapp.conversations import context as history
from webapp.conversations.context import (
    ContextLimits,
    Conversation,
    ConversationImportError,
    ConversationOptions,
    Message,
    build_context,
    export_filename,
    export_json,
    export_markdown,
    group_conversations,
    make_title,
    parse_import,
)

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def conv(
    title: str = "Trip", updated: datetime = NOW, pinned: bool = False, cid: str = "c1"
) -> Conversation:
    return Conversation(
        id=cid,
        owner="ann",
        owner_user_id=1,
        bot_slug="travel-guide",
        bot_name="Travel Guide",
        title=title,
        options=ConversationOptions(language="English", max_words=300, system_instruction="Brief"),
        created_at=updated - timedelta(hours=1),
        updated_at=updated,
        pinned=pinned,
    )


def msg(seq: int, role: str, text: str, status: str = "complete", error: str | None = None):
    return Message(
        id=f"m{seq}",
        conversation_id="c1",
        seq=seq,
        role=role,  # type: ignore[arg-type]
        text=text,
        status=status,  # type: ignore[arg-type]
        created_at=NOW + timedelta(seconds=seq),
        error=error,
    )


def turns(*texts: str) -> list[Message]:
    """Alternating user/assistant messages, starting with the user."""
    return [msg(i, "user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)]


# ------------------------------------------------------------------ titles


@pytest.mark.parametrize(
    ("prompt", "title"),
    [
        ("Hello", "Hello"),
        ("  What\n is   the\tweather? ", "What is the weather?"),
        ("", "New conversation"),
        ("   \n ", "New conversation"),
    ],
)
def test_title_is_one_trimmed_line(prompt: str, title: str) -> None:
    assert make_title(prompt) == title


def test_a_long_prompt_is_cut_at_a_word_boundary() -> None:
    prompt = "Please write a detailed itinerary for three days in Rome including food and museums"
    title = make_title(prompt)
    assert len(title) <= 60 and title.endswith("…")
    assert prompt.startswith(title[:-1]) and prompt[len(title) - 1] == " "


def test_a_single_huge_word_is_cut_rather_than_lost() -> None:
    title = make_title("x" * 500)
    assert title == "x" * 59 + "…"


# ---------------------------------------------------------------- grouping


def test_conversations_are_grouped_for_the_sidebar() -> None:
    items = [
        conv("old", NOW - timedelta(days=30), cid="old"),
        conv("week", NOW - timedelta(days=3), cid="week"),
        conv("yesterday", NOW - timedelta(days=1), cid="yday"),
        conv("today early", NOW - timedelta(hours=5), cid="t1"),
        conv("today late", NOW - timedelta(minutes=5), cid="t2"),
        conv("pinned old", NOW - timedelta(days=300), pinned=True, cid="pin"),
        conv("eight days", NOW - timedelta(days=8), cid="8d"),
    ]
    groups = group_conversations(items, now=NOW)
    assert [(name, [c.id for c in convs]) for name, convs in groups] == [
        ("Pinned", ["pin"]),
        ("Today", ["t2", "t1"]),
        ("Yesterday", ["yday"]),
        ("Previous 7 days", ["week"]),
        ("Older", ["8d", "old"]),
    ]


def test_days_are_the_members_local_days() -> None:
    """At 07:00 in UTC-5, a chat at 03:00 UTC was late yesterday evening."""
    new_york_winter = timezone(timedelta(hours=-5))
    late_evening = conv(updated=datetime(2025, 3, 10, 3, 0, tzinfo=UTC))
    assert group_conversations([late_evening], now=NOW)[0][0] == "Today"
    assert group_conversations([late_evening], now=NOW, tz=new_york_winter)[0][0] == "Yesterday"


def test_empty_groups_are_left_out() -> None:
    assert group_conversations([], now=NOW) == []
    assert [g for g, _ in group_conversations([conv()], now=NOW)] == ["Today"]


# ------------------------------------------------------------------ export


def test_markdown_export_has_title_bot_options_and_each_message() -> None:
    messages = [
        msg(0, "user", "Plan a trip"),
        msg(1, "assistant", "Day one…", "stopped"),
        msg(2, "user", "More?"),
        msg(3, "assistant", "", "error", error="The service is busy."),
    ]
    text = export_markdown(conv(), messages)
    assert text.startswith("# Trip\n")
    for line in (
        "- Bot: Travel Guide (`travel-guide`)",
        "- Language: English",
        "- Max words: 300",
        "- Web search: off",
        "  > Brief",
        "## You · 2025-03-10 12:00 UTC",
        "## Assistant · 2025-03-10 12:00 UTC (stopped by the user)",
        "> Error: The service is busy.",
    ):
        assert line in text


def _parsed(markdown: str) -> list[Token]:
    return MarkdownIt("commonmark").parse(markdown)


def _headings(markdown: str) -> list[str]:
    tokens = _parsed(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


@pytest.mark.parametrize(
    "stopped",
    [
        "Here you go:\n```python\nfor i in range(3):",  # issue 7, item 9
        "~~~~\nstill code\n~~~",  # ours: a shorter closing fence does not close
        "<!-- an HTML comment cut off",  # ours
    ],
)
def test_a_stopped_answer_inside_a_fence_keeps_later_messages_out_of_it(stopped: str) -> None:
    messages = [
        msg(0, "user", "Loop?"),
        msg(1, "assistant", stopped, "stopped"),
        msg(2, "user", "And then?"),
        msg(3, "assistant", "## Done\n\nAll good."),
    ]
    text = export_markdown(conv(), messages)
    titles = _headings(text)
    assert titles[0] == "Trip"
    roles = [t.split(" · ")[0] for t in titles[1:]]
    assert roles == ["You", "Assistant", "You", "Assistant", "Done"]
    assert stopped in text  # the text itself is kept as it was


def test_a_title_renamed_to_markdown_is_text_in_the_export() -> None:
    title = "![](http://host.example/t?secret=1) [click](javascript:alert(1)) **b** <img src=x>"
    text = export_markdown(conv(title=title), turns("Hi", "Hello!"))
    heading = _parsed(text.split("\n", 1)[0])[1]
    kinds = {child.type for child in heading.children or []}
    assert kinds <= {"text", "softbreak"}, kinds  # no image, link, emphasis or HTML
    assert "".join(child.content for child in heading.children or []) == title


def test_json_export_is_versioned_and_round_trips() -> None:
    messages = turns("Hi", "Hello!")
    raw = export_json(conv(), messages)
    data = json.loads(raw)
    assert (data["format"], data["version"]) == ("ablt-chat-conversation", 1)
    assert "owner" not in data["conversation"] and "id" not in data["conversation"]
    parsed = parse_import(raw)
    assert parsed.conversation.title == "Trip"
    assert parsed.conversation.options == conv().options
    assert [(m.role, m.text, m.created_at) for m in parsed.messages] == [
        (m.role, m.text, m.created_at) for m in messages
    ]


def test_export_filename_is_safe() -> None:
    assert export_filename(conv("Trip to Rome / May?"), "md") == "ablt-chat-trip-to-rome-may.md"
    assert export_filename(conv("???", cid="abcdef123"), ".json") == "ablt-chat-abcdef12.json"


# ------------------------------------------------------------------ import


def valid_export() -> dict:
    return json.loads(export_json(conv(), turns("Hi", "Hello!")))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("format"), "not an aBLT Chat conversation export"),
        (lambda d: d.update(version=2), "version 2 is not supported"),
        (lambda d: d.pop("messages"), "messages: Field required"),
        (lambda d: d["messages"][1].update(role="robot"), "messages[1].role"),
        (lambda d: d["messages"][0].update(created_at="yesterday"), "messages[0].created_at"),
        (lambda d: d["conversation"].update(title=""), "conversation.title"),
        (lambda d: d["conversation"].update(title=" \n "), "title cannot be empty"),
        (lambda d: d["conversation"]["options"].update(max_words=-5), "answer length limit (-5)"),
    ],
)
def test_a_bad_export_gets_a_plain_reason(mutate, expected: str) -> None:
    data = valid_export()
    mutate(data)
    with pytest.raises(ConversationImportError) as caught:
        parse_import(json.dumps(data))
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "empty"),
        ("not json at all", "not valid JSON (line 1"),
        ("[1, 2]", "not an aBLT Chat export"),
        (b"\x80\x81", "not UTF-8"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused(raw: str | bytes, expected: str) -> None:
    with pytest.raises(ConversationImportError, match=expected.replace("(", r"\(")):
        parse_import(raw)


def test_import_accepts_a_byte_order_mark_and_unknown_fields() -> None:
    data = valid_export()
    data["from_the_future"] = True
    data["messages"][0]["reactions"] = ["👍"]
    parsed = parse_import(("\ufeff" + json.dumps(data)).encode())
    assert len(parsed.messages) == 2


def test_an_oversized_file_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from webapp.conversations import transcripts  # where the import reads its size limit

    monkeypatch.setattr(transcripts, "MAX_IMPORT_BYTES", 100)
    with pytest.raises(ConversationImportError, match="too large"):
        parse_import(json.dumps(valid_export()))


def test_import_error_is_a_value_error() -> None:
    assert issubclass(ConversationImportError, ValueError)


# ----------------------------------------------------------------- context


def sent(window: history.ContextWindow) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in window.messages]


def test_context_starts_with_the_system_instruction_and_ends_with_the_prompt() -> None:
    window = build_context(turns("Q1", "A1", "Q2"), system_instruction="Be brief.")
    assert sent(window) == [
        ("system", "Be brief."),
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2"),
    ]
    assert (window.omitted, window.skipped) == (0, 0)


def test_context_keeps_the_newest_messages_that_fit_the_message_cap() -> None:
    history_ = turns("Q1", "A1", "Q2", "A2", "Q3", "A3", "Q4")
    window = build_context(history_, limits=ContextLimits(max_messages=4, max_words=None))
    # Three slots for history: Q3 A3 fit, A2 would start with an orphan answer.
    assert sent(window) == [("user", "Q3"), ("assistant", "A3"), ("user", "Q4")]
    assert window.omitted == 4


def test_context_respects_the_word_cap_but_always_sends_the_prompt() -> None:
    history_ = turns("one two three", "four five six", "seven eight", "nine ten", "the prompt")
    window = build_context(history_, limits=ContextLimits(max_messages=None, max_words=6))
    assert sent(window) == [
        ("user", "seven eight"),
        ("assistant", "nine ten"),
        ("user", "the prompt"),
    ]
    assert window.omitted == 2
    huge = build_context(turns("a", "b", "w " * 50), limits=ContextLimits(max_words=10))
    assert sent(huge) == [("user", "w " * 50)] and huge.omitted == 2


def test_context_never_starts_with_an_assistant_message() -> None:
    history_ = turns("Q1", "A1 is a long answer", "Q2")
    window = build_context(history_, limits=ContextLimits(max_messages=2, max_words=None))
    assert sent(window) == [("user", "Q2")]
    assert window.omitted == 2


def test_failed_and_cut_off_answers_stay_out_but_stopped_ones_go_in() -> None:
    messages = [
        msg(0, "user", "Q1"),
        msg(1, "assistant", "partial but kept", "stopped"),
        msg(2, "user", "Q2"),
        msg(3, "assistant", "", "error", error="boom"),
        msg(4, "user", "Q3"),
        msg(5, "assistant", "half an answ", "interrupted"),
        msg(6, "user", "Q3 again"),
    ]
    window = build_context(messages)
    assert sent(window) == [
        ("user", "Q1"),
        ("assistant", "partial but kept"),
        ("user", "Q3 again"),
    ]
    assert (window.omitted, window.skipped) == (0, 4)  # two failed answers, two orphan prompts


def test_the_bots_welcome_is_sent_as_the_opening_while_it_fits() -> None:
    messages = [
        msg(0, "assistant", "Welcome! Ask me about Rome."),
        msg(1, "user", "Q1"),
        msg(2, "assistant", "A1"),
        msg(3, "user", "Q2"),
    ]
    assert sent(build_context(messages)) == [
        ("assistant", "Welcome! Ask me about Rome."),
        ("user", "Q1"),
        ("assistant", "A1"),
        ("user", "Q2"),
    ]
    cut = build_context(messages, limits=ContextLimits(max_messages=3, max_words=None))
    assert sent(cut) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]
    assert cut.omitted == 1
    only_welcome = build_context([messages[0], msg(1, "user", "Hi")])
    assert sent(only_welcome) == [("assistant", "Welcome! Ask me about Rome."), ("user", "Hi")]


def test_stored_system_messages_go_first() -> None:
    messages = [
        msg(0, "system", "Answer in French."),
        msg(1, "user", "Q1"),
        msg(2, "assistant", "A1"),
        msg(3, "user", "Q2"),
    ]
    window = build_context(messages, system_instruction="Be brief.")
    assert sent(window)[:2] == [("system", "Be brief."), ("system", "Answer in French.")]
    assert sent(window)[-1] == ("user", "Q2")


def test_context_needs_the_new_prompt_last() -> None:
    with pytest.raises(ValueError, match="last message"):
        build_context(turns("Q1", "A1"))
    with pytest.raises(ValueError):
        build_context([])


def test_context_limits_come_from_the_environment() -> None:
    assert ContextLimits.from_env({}) == ContextLimits(
        history.DEFAULT_CONTEXT_MAX_MESSAGES, history.DEFAULT_CONTEXT_MAX_WORDS
    )
    limits = ContextLimits.from_env(
        {"ABLT_CONTEXT_MAX_MESSAGES": "10", "ABLT_CONTEXT_MAX_WORDS": "0"}
    )
    assert limits == ContextLimits(max_messages=10, max_words=None)
    with pytest.raises(ValueError, match="ABLT_CONTEXT_MAX_WORDS must be a whole number"):
        ContextLimits.from_env({"ABLT_CONTEXT_MAX_WORDS": "lots"})
    with pytest.raises(ValueError, match="ABLT_CONTEXT_MAX_MESSAGES must be 0"):
        ContextLimits.from_env({"ABLT_CONTEXT_MAX_MESSAGES": "-1"})


def test_times_show_in_the_members_own_zone_and_say_which() -> None:
    from zoneinfo import ZoneInfo

    from webapp.chat.view import local_time

    late_evening_utc = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert local_time(late_evening_utc, ZoneInfo("Asia/Tokyo")) == "2026-12-01 08:30 JST"
    assert local_time(late_evening_utc, ZoneInfo("America/New_York")) == "2026-11-30 18:30 EST"
    assert local_time(late_evening_utc, None) == "2026-11-30 23:30 UTC"
