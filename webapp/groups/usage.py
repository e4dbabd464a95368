"""Usage per group for the Statistics page: the sum of its members' usage.

No Streamlit here (`webapp.groups.usage_view` draws it). A member in two
groups counts in both; a group without members shows zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ablt_core import UsageTotals

COUNTERS = tuple(UsageTotals.model_fields)


def summed(totals: Sequence[UsageTotals]) -> UsageTotals:
    """The eight counters of `totals` added up."""
    return UsageTotals(**{name: sum(getattr(t, name) for t in totals) for name in COUNTERS})


def group_totals(
    members_by_group: Mapping[str, Sequence[tuple[str, int]]],
    totals_of: Callable[[int], UsageTotals],
) -> list[tuple[str, UsageTotals]]:
    """(group name, the sum of its members' totals) for each group, in the
    mapping's order. `members_by_group`: name -> (username, user_id) as
    `webapp.groups.store.members_by_group` gives it; `totals_of(user_id)`:
    one member's totals for the range (read once per member, even when the
    member is in several groups). Raises what `totals_of` raises."""
    read: dict[int, UsageTotals] = {}

    def once(user_id: int) -> UsageTotals:
        if user_id not in read:
            read[user_id] = totals_of(user_id)
        return read[user_id]

    return [
        (name, summed([once(user_id) for _, user_id in members]))
        for name, members in members_by_group.items()
    ]
