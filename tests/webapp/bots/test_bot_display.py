"""Bot fields are data: cut at whole characters and escaped wherever Markdown renders
(issue 12), and a catalogue of thousands is paged and searched, never listed whole."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from ablt_core import Bot
from webapp import limits
from webapp.bots import catalogue
from webapp.bots import display as bot_display
from webapp.chat import open_chat as chat
from webapp.text import literal as md
from webapp.text.graphemes import truncate_text

ATTACKER = "http://attacker.invalid"
ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    f"![]({ATTACKER}/x.png)",
    f"![alt]({ATTACKER}/x.png 'title')",
    "[x](javascript:alert(1))",
    f"<{ATTACKER}/autolink>",
    f"[ref]\n\n[ref]: {ATTACKER}/r.png",
    ":red[coloured]",
    ":material/home:",
    "$x^2$",
    "`code` **bold** _it_",
    "# heading\n- list\n> quote\n1. one\n| a | b |\n|---|---|",
    "    indented code",
    "&lt;img src=x onerror=alert(1)&gt;",
]
RENDER = MarkdownIt("commonmark").enable("table")
DIRECTIVE = re.compile(r"(?<!\\):(red\[|material/)")


def literal(markdown: str) -> bool:
    """True when `markdown` renders to text only: no image, link, HTML or directive."""
    html = RENDER.render(markdown)
    return (
        not any(tag in html for tag in ("<img", "<a ", "<script", "<h1", "<ul", "<ol", "<code"))
        and "<blockquote" not in html.replace("<blockquote>\n<p>", "", 1)
        and "<table" not in html
        and "<pre" not in html
        and not DIRECTIVE.search(markdown)
    )


@pytest.mark.parametrize("attack", ATTACKS)
def test_every_bot_field_renders_as_text(attack: str) -> None:
    assert literal(bot_display.name_md(attack))
    assert literal(bot_display.model_md(attack))
    assert literal(bot_display.description_md(attack))
    assert literal(bot_display.description_line_md(attack))
    assert literal(md.escape(chat.bot_labels([bot(attack)])["s"]))


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_welcome_quote_on_a_card_is_one_quote_of_text(attack: str) -> None:
    html = RENDER.render(bot_display.welcome_quote_md(attack))
    assert html.count("<blockquote>") == 1
    assert not any(tag in html for tag in ("<img", "<a ", "<script", "<h1", "<ul", "<code"))


@pytest.mark.parametrize("slug", ["omni", "a`b", "``x``", "`", "![](http://x/y.png)"])
def test_a_slug_is_a_code_span_whatever_it_holds(slug: str) -> None:
    html = RENDER.render(bot_display.slug_md(slug))
    assert html.count("<code>") == 1 and "<img" not in html and "<a " not in html


def test_the_text_reads_as_typed_once_unescaped() -> None:
    name = "Ada: the *Code* Mentor [beta]"
    assert re.sub(r"\\(.)", r"\1", bot_display.name_md(name)) == name


def test_lines_of_a_description_stay_lines() -> None:
    assert bot_display.description_md("One.\r\nTwo.\n\nThree.") == "One\\.  \nTwo\\.\n\nThree\\."
    assert bot_display.description_md("") == bot_display.NO_DESCRIPTION_MD


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abcdef", 4, "abc…"),
        ("abcd", 4, "abcd"),
        ("👨‍👩‍👧‍👦" * 3, 10, "👨‍👩‍👧‍👦…"),  # a family is 7 code points, never split
        ("🇫🇷🇩🇪", 3, "🇫🇷…"),  # a flag is 2: never half a flag
        ("e\u0301" * 5, 6, "e\u0301e\u0301…"),  # an accent stays on its letter
    ],
)
def test_over_long_text_is_cut_between_whole_characters(
    text: str, limit: int, expected: str
) -> None:
    assert truncate_text(text, limit) == expected
    assert len(truncate_text(text, limit)) <= limit


def test_a_description_of_hundreds_of_kilobytes_costs_one_cards_worth() -> None:
    huge = "lorem ipsum " * 40_000  # ~480 KB
    shown = bot_display.description_md(huge)
    assert len(shown) < 2 * limits.BOT_DESCRIPTION_MAX_CHARS
    kept = catalogue.trim_bot(bot("Big", description=huge, welcome=huge))
    assert len(kept.description) <= limits.BOT_FIELD_KEEP_CHARS
    assert len(kept.welcome_message) <= limits.BOT_FIELD_KEEP_CHARS
    assert kept.slug == "s"  # the id the API knows stays whole


def bot(
    name: str, *, slug: str = "s", description: str = "", welcome: str = "", model: str = "m"
) -> Bot:
    return Bot(
        uid=f"uid-{slug}",
        slug=slug,
        name=name,
        description=description,
        welcome_message=welcome,
        model=model,
    )


def test_a_new_conversation_keeps_the_name_within_its_column_and_the_welcome_cut() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    member = SimpleNamespace(username="ann", user_id=1)
    hostile = bot("👨‍👩‍👧‍👦" * 100, welcome="w" * 100_000)
    opened = chat.new_draft(member, hostile, now=datetime(2026, 11, 30, tzinfo=UTC))
    assert len(opened.conversation.bot_name) <= chat.BOT_NAME_STORED_MAX
    assert len(opened.messages[0].text) <= limits.BOT_WELCOME_MAX_CHARS


# ----------------------------------------------------------- paging and picking

BOTS = [bot(f"Bot {n}", slug=f"bot-{n:04d}", model=f"model-{n % 3}") for n in range(2000)]


def test_the_catalogue_shows_a_page_of_cards_at_a_time() -> None:
    first, page = catalogue.page_of(BOTS, 1)
    assert page == 1 and len(first) == limits.BOT_CARDS_PER_PAGE
    assert catalogue.page_count(len(BOTS)) == 84  # 2000 / 24, rounded up
    last, page = catalogue.page_of(BOTS, 84)
    assert page == 84 and [b.slug for b in last] == [f"bot-{n:04d}" for n in range(1992, 2000)]
    # A page number left over from a wider search is the last page, never empty.
    narrowed = catalogue.filter_bots(BOTS, "Bot 19")
    shown, page = catalogue.page_of(narrowed, 50)
    assert shown and page == catalogue.page_count(len(narrowed))
    assert catalogue.page_of([], 3) == ([], 1)


def test_the_picker_offers_the_first_matches_and_the_open_bot() -> None:
    slugs, matching = catalogue.picker_slugs(BOTS, "", "bot-1500")
    assert matching == 2000
    assert slugs[0] == "bot-1500" and len(slugs) == limits.BOT_PICKER_MAX_CHOICES + 1
    slugs, matching = catalogue.picker_slugs(BOTS, "bot 1234", "bot-0000")
    assert (slugs, matching) == (["bot-0000", "bot-1234"], 1)
    slugs, _ = catalogue.picker_slugs(BOTS, "bot-00", None)
    assert slugs == [f"bot-{n:04d}" for n in range(limits.BOT_PICKER_MAX_CHOICES)]
