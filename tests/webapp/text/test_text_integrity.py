"""Wherever text is cut or shortened, the result is valid Unicode cut only
between whole user-perceived characters (grapheme clusters).

The places: conversation titles from a prompt (`make_title`) and renames
(`clean_title`), export file names, error details shown to a member
(`webapp.errors`), and the client's messages and log lines (`ablt_core`'s
`truncate`). Inputs: flags (two code points), ZWJ family emoji, combining
accents, skin tones, Hangul jamo, and an emoji split into surrogate halves.
"""

from __future__ import annotations

import httpx
import pytest
import regex

from ablt_core import BadRequestError
from ablt_core._exceptions import truncate
from webapp import errors
from webapp.conversations import context as history
from webapp.text.graphemes import cut_graphemes, fix_surrogates, truncate_text

CLUSTERS = {
    "flags": "🇫🇷",
    "family": "👨‍👩‍👧‍👦",
    "accent": "e\u0301",
    "skin tone": "👍🏽",
    "hangul jamo": "\u1100\u1161\u11a8",
    "keycap": "1\ufe0f\u20e3",
}


def whole_prefix(cut: str, original: str) -> bool:
    """`cut` is a run of `original`'s first grapheme clusters, none broken."""
    ours = regex.findall(r"\X", cut)
    theirs = regex.findall(r"\X", original)
    return ours == theirs[: len(ours)]


@pytest.mark.parametrize("kind", CLUSTERS)
@pytest.mark.parametrize("limit", range(1, 12))
def test_cut_never_splits_a_cluster(kind: str, limit: int) -> None:
    text = "ab " + CLUSTERS[kind] * 10
    cut = cut_graphemes(text, limit)
    assert len(cut) <= limit and whole_prefix(cut, text)
    shortened = truncate_text(text, limit)
    assert len(shortened) <= limit
    if shortened != text:
        assert shortened.endswith("…") and whole_prefix(shortened[:-1], text)


@pytest.mark.parametrize("kind", CLUSTERS)
def test_titles_from_prompts_keep_whole_characters(kind: str) -> None:
    for pad in range(4):
        prompt = "x" * pad + CLUSTERS[kind] * 60
        title = history.make_title(prompt)
        assert title.endswith("…") and len(title) <= history.TITLE_MAX_CHARS
        assert whole_prefix(title[:-1], prompt)
        title.encode("utf-8")


@pytest.mark.parametrize("kind", CLUSTERS)
def test_renamed_titles_are_cut_at_whole_characters(kind: str) -> None:
    for pad in range(4):
        typed = "y" * pad + CLUSTERS[kind] * 150
        title = history.clean_title(typed)
        assert len(title) <= history.TITLE_HARD_LIMIT and whole_prefix(title, typed)


def test_export_file_names_keep_whole_characters() -> None:
    conv = history.Conversation(
        id="abcdef123456",
        owner="ann",
        owner_user_id=1,
        bot_slug="omni",
        bot_name="Omni",
        title="e\u0301" * 40,
        options=history.ConversationOptions(),
        created_at=history.datetime(2025, 1, 1, tzinfo=history.UTC),
        updated_at=history.datetime(2025, 1, 1, tzinfo=history.UTC),
    )
    name = history.export_filename(conv, "md")
    slug = name.removeprefix("ablt-chat-").removesuffix(".md")
    assert slug and whole_prefix(slug, "e\u0301" * 40)


def test_error_details_shown_to_a_member_keep_whole_characters() -> None:
    detail = "Bad " + "🇫🇷" * 150
    response = httpx.Response(418, request=httpx.Request("POST", "http://ablt.test/v1/chat"))
    err = BadRequestError("bad", response=response, detail=detail, request_id=None)
    message = errors.describe(err)
    quoted = message.split(": ", 1)[1]
    assert quoted.endswith("…") and whole_prefix(quoted[:-1], detail)


@pytest.mark.parametrize("kind", CLUSTERS)
def test_the_clients_messages_and_log_lines_keep_whole_characters(kind: str) -> None:
    for pad in range(4):
        text = "z" * pad + CLUSTERS[kind] * 300
        cut = truncate(text, 200)
        assert len(cut) <= 200 and cut.endswith("…") and whole_prefix(cut[:-1], text)


def test_lone_surrogates_become_the_replacement_character() -> None:
    assert fix_surrogates("a\ud83d\ude00b") == "a😀b"
    assert fix_surrogates("a\ud83db\ude00") == "a\ufffdb\ufffd"
    fix_surrogates("\udfff\ud800").encode("utf-8")


@pytest.mark.parametrize("kind", CLUSTERS)
def test_library_entry_names_are_cut_at_whole_characters(kind: str) -> None:
    from webapp.library import prompts

    for pad in range(4):
        typed = "n" * pad + CLUSTERS[kind] * 150
        name = prompts._clean_name(typed)
        assert len(name) <= prompts.NAME_MAX_CHARS and whole_prefix(name, typed)
