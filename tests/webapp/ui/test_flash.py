"""webapp.ui.flash: a notice said in a callback is shown once, by its own area."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest


def _one_area_page() -> None:
    import streamlit as st

    from webapp.ui import flash

    # "quiet": a run that draws another page, so the team's notice waits unshown.
    if not st.checkbox("Quiet", key="quiet"):
        flash.show("team")
    st.button("Old", key="old", on_click=flash.flash, args=("team", "Old news.", "success"))
    st.button("New", key="new", on_click=flash.flash, args=("team", "New news.", "success"))
    st.button("Nothing", key="nothing")


def _two_area_page() -> None:
    import streamlit as st

    from webapp.ui import flash

    area = st.radio("Page", ["team", "library"], key="area")
    flash.show(area)
    st.button("Team", key="team", on_click=flash.flash, args=("team", "For the team.", "error"))


def _kinds_page() -> None:
    import streamlit as st

    from webapp.ui import flash

    flash.show("kinds")
    kind = st.radio("Kind", ["success", "info", "warning", "error"], key="kind")
    st.button("Say", key="say", on_click=flash.flash, args=("kinds", f"A {kind}.", kind))


def _run(page: Callable[[], None]) -> AppTest:
    at = AppTest.from_function(page, default_timeout=30)
    return at.run()


def _shown(at: AppTest) -> list[str]:
    return [e.value for kind in (at.success, at.info, at.warning, at.error) for e in kind]


def test_a_notice_flashed_in_a_callback_shows_on_the_next_run_only() -> None:
    at = _run(_one_area_page)
    assert _shown(at) == []
    at.button(key="new").click().run()
    assert [s.value for s in at.success] == ["New news."]
    at.button(key="nothing").click().run()
    assert _shown(at) == [], "a notice is shown once, not on every run after"


def test_a_newer_notice_replaces_one_not_shown_yet() -> None:
    at = _run(_one_area_page)
    at.checkbox(key="quiet").check().run()
    at.button(key="old").click().run()
    at.button(key="new").click().run()
    assert _shown(at) == []
    at.checkbox(key="quiet").uncheck().run()
    assert [s.value for s in at.success] == ["New news."]
    at.button(key="nothing").click().run()
    assert _shown(at) == []


def test_an_area_never_shows_another_areas_notice() -> None:
    at = _run(_two_area_page)
    at.radio(key="area").set_value("library").run()
    at.button(key="team").click().run()
    assert _shown(at) == [], "the library showed the team's notice"
    at.radio(key="area").set_value("team").run()
    assert [e.value for e in at.error] == ["For the team."]
    at.radio(key="area").set_value("library").run()
    at.radio(key="area").set_value("team").run()
    assert _shown(at) == []


@pytest.mark.parametrize("kind", ["success", "info", "warning", "error"])
def test_a_notice_is_drawn_as_its_kind(kind: str) -> None:
    at = _run(_kinds_page)
    at.radio(key="kind").set_value(kind).run()
    at.button(key="say").click().run()
    assert [e.value for e in getattr(at, kind)] == [f"A {kind}."]
    assert len(_shown(at)) == 1
