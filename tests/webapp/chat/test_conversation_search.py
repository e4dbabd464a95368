"""Find in a conversation: case- and accent-insensitive, on whole characters."""

from __future__ import annotations

from webapp.chat.find import Match, find_in_text, find_matches, position_label, snippet_html


def found(text: str, query: str) -> list[str]:
    return [text[start:end] for start, end in find_in_text(text, query)]


def test_case_is_ignored_both_ways() -> None:
    assert found("Rome, ROME and rome", "rome") == ["Rome", "ROME", "rome"]
    assert found("a note on rome", "ROME") == ["rome"]


def test_accents_are_ignored_and_the_original_characters_are_returned() -> None:
    assert found("Un café, deux CAFÉS", "cafe") == ["café", "CAFÉ"]
    assert found("a cafe", "café") == ["cafe"]
    # A decomposed é (e + combining acute) is one character as a person sees it.
    assert found("cafe\u0301 crème", "cafe") == ["cafe\u0301"]
    assert found("Straße", "strasse") == ["Straße"]


def test_a_match_never_cuts_a_character_apart() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, several code points
    text = f"team {family} photo"
    assert found(text, "\U0001f468") == []  # a part of the family emoji is not a match
    assert found(text, family) == [family]
    thumbs = "\U0001f44d\U0001f3fd"  # thumbs up, medium skin tone
    assert found(f"ok {thumbs}", "\U0001f44d") == []
    flag = "\U0001f1eb\U0001f1f7"  # France
    assert found(f"{flag}{flag}", flag) == [flag, flag]


def test_matches_do_not_overlap_and_blank_queries_find_nothing() -> None:
    assert find_in_text("aaaa", "aa") == [(0, 2), (2, 4)]
    assert find_in_text("anything", "   ") == []
    assert find_in_text("", "a") == []


def test_matches_across_messages_come_in_reading_order() -> None:
    texts = ["Pasta in Rome", "No match here", "rome again, ROME twice"]
    assert find_matches(texts, "rome") == [Match(0, 9, 13), Match(2, 0, 4), Match(2, 12, 16)]
    assert position_label(2, 3) == "3 of 3"
    assert position_label(0, 0) == "No matches"


def test_the_snippet_marks_the_match_escaped_with_its_context() -> None:
    text = "x" * 100 + " <b>Rome</b> & more " + "y" * 100
    start = text.index("Rome")
    shown = snippet_html(text, start, start + 4, radius=10)
    assert shown.startswith("…") and shown.endswith("…")
    assert shown == "…&lt;b&gt;<mark>Rome</mark>&lt;/b&gt; &amp;…"
    assert "<b>" not in shown
    assert snippet_html("a\n\nRome", 3, 7) == "a <mark>Rome</mark>"


def test_the_snippet_cuts_its_context_between_words() -> None:
    text = "alpha beta gamma delta Rome epsilon zeta eta theta"
    start = text.index("Rome")
    assert snippet_html(text, start, start + 4, radius=12) == (
        "…gamma delta <mark>Rome</mark> epsilon…"
    )
