"""A list typed into one text field (`webapp.text.lists.split_items`)."""

from __future__ import annotations

from webapp.text.lists import split_items


def test_items_split_on_the_separators_people_type() -> None:
    assert split_items("urgent, demo") == ["urgent", "demo"]
    assert split_items("a;b،c؛d、e，f；g\nh\r\ni") == list("abcdefghi")
    assert split_items("  big idea ,, ; ") == ["big idea"]  # spaces inside an item stay
    assert split_items("") == [] and split_items(" ,;، ") == []
    assert split_items("x, x") == ["x", "x"]  # repeats are the caller's to drop


def test_with_spaces_any_white_space_separates_too() -> None:
    assert split_items("a.com b.org\tc.net, d.io", spaces=True) == [
        "a.com",
        "b.org",
        "c.net",
        "d.io",
    ]
