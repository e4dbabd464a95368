"""The chat header's chips: the active options, short, in the options panel's order."""

from __future__ import annotations

from webapp.chat.header import CHIP_LANGUAGE_MAX_CHARS, OPTIONS_LABEL, option_chips, options_label
from webapp.conversations.context import ConversationOptions


def test_no_option_set_gives_no_chip_and_the_plain_label() -> None:
    options = ConversationOptions()
    assert option_chips(options) == []
    assert options_label(options) == OPTIONS_LABEL


def test_every_active_option_gets_a_chip_in_order() -> None:
    options = ConversationOptions(
        language="German", max_words=1500, use_search=True, system_instruction="Be brief."
    )
    chips = option_chips(options)
    assert [chip.split(": ", 1)[1] for chip in chips] == [
        "German",
        "≤1,500 words",
        "Web search",
        "Instruction",
    ]
    assert options_label(options) == "  ·  ".join(chips)


def test_a_blank_instruction_is_no_chip_and_a_long_language_is_cut() -> None:
    language = "Scottish Gaelic as spoken on the Isle of Lewis"
    chips = option_chips(ConversationOptions(language=language, system_instruction="   "))
    (chip,) = chips
    shown = chip.split(": ", 1)[1]
    assert len(shown) == CHIP_LANGUAGE_MAX_CHARS and shown.endswith("…")
    assert language.startswith(shown[:-1])


def test_a_language_is_shown_as_text_not_markdown() -> None:
    (chip,) = option_chips(ConversationOptions(language="**Klingon**"))
    assert "**" not in chip.replace("\\*", "")
