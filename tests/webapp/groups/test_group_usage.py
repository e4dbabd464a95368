"""Usage per group (issue 22): the sum of its members' usage, each member read once."""

from __future__ import annotations

from ablt_core import UsageTotals
from webapp.groups.usage import group_totals, summed
from webapp.statistics.api import MemberUsage
from webapp.statistics.usage import breakdown_frame


def totals(words: int) -> UsageTotals:
    return UsageTotals(response_words=words, total_words=words, total_tokens=words * 2)


def test_a_group_is_the_sum_of_its_members_each_member_read_once() -> None:
    read: list[int] = []
    figures = {1: totals(100), 2: totals(30), 3: totals(7)}

    def totals_of(user_id: int) -> UsageTotals:
        read.append(user_id)
        return figures[user_id]

    by_group = {
        "Sales": [("ann", 1), ("bob", 2)],
        "Ops": [("bob", 2), ("cy", 3)],
        "Empty": [],
    }
    result = dict(group_totals(by_group, totals_of))
    assert result["Sales"].total_words == 130 and result["Sales"].total_tokens == 260
    assert result["Ops"].total_words == 37
    assert result["Empty"] == UsageTotals()
    assert sorted(read) == [1, 2, 3]  # bob is in two groups, read once

    frame = breakdown_frame([MemberUsage(n, t) for n, t in result.items()], "words")
    assert list(frame["member"]) == ["Sales", "Ops", "Empty"]  # most usage first
    assert list(frame["total"]) == [130, 37, 0]


def test_summed_adds_every_counter() -> None:
    both = summed([totals(1), UsageTotals(original_tokens=5, enchancement_words=2)])
    assert (both.total_words, both.original_tokens, both.enhancement_words) == (1, 5, 2)
