"""The catalogue's search, model filter and count, on real `ablt_core.Bot` models."""

from __future__ import annotations

import pytest

from ablt_core import Bot
from webapp.bots import catalogue


def make_bot(slug: str, **fields: object) -> Bot:
    wire = {
        "uid": f"UID-{slug}",
        "slug": slug,
        "name": slug.title(),
        "description": "",
        "welcome_message": "",
        "model": "gpt-4",
        "avatar_url": None,
        **fields,
    }
    return Bot.model_validate(wire)


@pytest.fixture
def bots() -> list[Bot]:
    return [
        make_bot("omni", name="Omni", description="Answers anything", model="gpt-4"),
        make_bot(
            "chef",
            name="Chef Remy",
            description="Recipes and cooking",
            welcome_message="Bonjour!\r\nWhat shall we cook?",
            model="claude-3",
        ),
        make_bot("coder", name="Coder", description="Writes Python", model="gpt-4o"),
        make_bot(
            "poet",
            name="Poet",
            description="",
            welcome_message="Verses on demand",
            model="claude-3",
        ),
    ]


def slugs(bots: list[Bot]) -> list[str]:
    return [bot.slug for bot in bots]


def test_empty_query_and_no_models_keep_every_bot_in_order(bots: list[Bot]) -> None:
    assert slugs(catalogue.filter_bots(bots)) == ["omni", "chef", "coder", "poet"]
    assert slugs(catalogue.filter_bots(bots, "   ", [])) == ["omni", "chef", "coder", "poet"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("REMY", ["chef"]),  # name, any case
        ("coder", ["coder"]),  # slug
        ("python", ["coder"]),  # description
        ("what shall we", ["chef"]),  # welcome message, across its \r\n
        ("verses", ["poet"]),  # welcome message
        ("claude", ["chef", "poet"]),  # model
        ("gpt-4", ["omni", "coder"]),  # "gpt-4" is inside "gpt-4o" too
        ("claude cook", ["chef"]),  # every word must match somewhere
        ("nothing-like-this", []),
    ],
)
def test_search_looks_in_name_slug_description_welcome_and_model(
    bots: list[Bot], query: str, expected: list[str]
) -> None:
    assert slugs(catalogue.filter_bots(bots, query)) == expected


def test_model_filter_keeps_only_the_chosen_models(bots: list[Bot]) -> None:
    assert slugs(catalogue.filter_bots(bots, models=["claude-3"])) == ["chef", "poet"]
    assert slugs(catalogue.filter_bots(bots, models=["gpt-4", "gpt-4o"])) == ["omni", "coder"]
    # exact model match: choosing gpt-4 does not bring in gpt-4o
    assert slugs(catalogue.filter_bots(bots, models=["gpt-4"])) == ["omni"]


def test_search_and_model_filter_combine(bots: list[Bot]) -> None:
    assert slugs(catalogue.filter_bots(bots, "poet", ["claude-3"])) == ["poet"]
    assert slugs(catalogue.filter_bots(bots, "poet", ["gpt-4"])) == []


def test_available_models_are_distinct_and_sorted(bots: list[Bot]) -> None:
    extra = make_bot("x", model="Bard")
    assert catalogue.available_models([*bots, extra]) == ["Bard", "claude-3", "gpt-4", "gpt-4o"]


def test_count_label() -> None:
    assert catalogue.count_label(6, 6) == "6 of 6 bots"
    assert catalogue.count_label(2, 6) == "2 of 6 bots"
    assert catalogue.count_label(0, 1) == "0 of 1 bot"


def test_welcome_text_turns_crlf_into_plain_lines(bots: list[Bot]) -> None:
    assert catalogue.welcome_text(bots[1]) == "Bonjour!\nWhat shall we cook?"
    assert catalogue.welcome_text(bots[0]) == ""
