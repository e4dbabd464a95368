"""Streamlit's private place counter, as `webapp.ui.cursor` (and so `leftovers`) reads it.

A Streamlit upgrade that drops `context_dg_stack` or a container's `_cursor`,
or stops counting places as elements are drawn, fails here, not as an old
conversation's bubbles left under an answer being written.
"""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def test_streamlit_still_has_the_container_stack_and_its_cursor() -> None:
    from streamlit.delta_generator import DeltaGenerator
    from streamlit.delta_generator_singletons import context_dg_stack

    assert isinstance(context_dg_stack.get(), tuple)
    assert isinstance(DeltaGenerator.__dict__.get("_cursor"), property)


def _places() -> None:
    import streamlit as st

    from webapp.ui import cursor, styles

    seen = st.session_state.setdefault("places", {})
    seen["main_start"] = cursor.next_place()
    st.markdown("one")
    styles.chat_header()  # style-only HTML: Streamlit's event container, no place
    seen["main_after_style"] = cursor.next_place()
    st.markdown("two")
    with st.container():
        seen["box_start"] = cursor.next_place()
        st.markdown("three")
        st.empty()
        seen["box_after_two"] = cursor.next_place()

    @st.fragment
    def part() -> None:
        seen["fragment_start"] = cursor.next_place()
        st.markdown("four")
        seen["fragment_after_one"] = cursor.next_place()

    part()
    seen["main_end"] = cursor.next_place()


def test_the_place_counter_advances_by_one_per_element_in_each_container() -> None:
    at = AppTest.from_function(_places).run()
    assert not at.exception, at.exception
    assert at.session_state["places"] == {
        "main_start": 0,
        "main_after_style": 1,  # the stylesheet took no place
        "box_start": 0,  # a container counts its own places
        "box_after_two": 2,
        "fragment_start": 0,  # so does a fragment
        "fragment_after_one": 1,
        "main_end": 4,  # one, two, the container, the fragment
    }


def test_outside_a_run_there_is_no_place() -> None:
    from webapp.ui import cursor

    # Bare Python (no script run): the main container has no root, so no cursor.
    assert cursor.next_place() in (None, 0)
