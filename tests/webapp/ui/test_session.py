"""webapp.ui.session (one typed object per page, kept across runs) and webapp.ui.member."""

from __future__ import annotations

from dataclasses import dataclass

from streamlit.testing.v1 import AppTest

from webapp.team import Member
from webapp.ui.member import AUTH_STATUS
from webapp.ui.state import Keys


@dataclass
class Counter:
    """A page's state: clicks so far."""

    clicks: int = 0


def _counter_page() -> None:
    import streamlit as st

    from tests.webapp.ui.test_session import Counter
    from webapp.ui.session import page_state

    def count() -> None:
        page_state("counter", Counter).clicks += 1

    st.button("Count", key="count", on_click=count)
    st.markdown(f"clicks: {page_state('counter', Counter).clicks}")


def _member_page() -> None:
    import streamlit as st

    from webapp.ui.member import NotLoggedIn, current_member, member_or_none

    st.markdown(f"or none: {member_or_none()}")
    try:
        st.markdown(f"current: {current_member().username}")
    except NotLoggedIn as err:
        st.error(str(err))


def test_a_page_state_object_is_made_once_and_kept_across_runs() -> None:
    at = AppTest.from_function(_counter_page, default_timeout=30).run()
    assert at.markdown[0].value == "clicks: 0"
    at.button(key="count").click().run()
    at.button(key="count").click().run()
    assert at.markdown[0].value == "clicks: 2"
    assert at.session_state["counter"] == Counter(clicks=2)


def test_anything_else_under_the_key_is_replaced_by_a_fresh_object() -> None:
    # e.g. an object of the class as it was before a code reload: never misread
    at = AppTest.from_function(_counter_page, default_timeout=30)
    at.session_state["counter"] = ("left", "over")
    at.run()
    assert at.markdown[0].value == "clicks: 0"


def test_without_a_member_current_member_says_so_and_member_or_none_is_none() -> None:
    at = AppTest.from_function(_member_page, default_timeout=30).run()
    assert at.markdown[0].value == "or none: None"
    assert [e.value for e in at.error] == ["No member is logged in to this session: log in first."]


def test_the_logged_in_member_is_read_from_the_session() -> None:
    at = AppTest.from_function(_member_page, default_timeout=30)
    at.session_state[Keys.MEMBER] = Member("ada", "Ada", "ada@example.com", "admin", 7)
    at.session_state[AUTH_STATUS] = True  # what streamlit-authenticator sets on a login
    at.run()
    assert not at.error
    assert at.markdown[1].value == "current: ada"
