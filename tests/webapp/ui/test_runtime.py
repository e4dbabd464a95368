"""Streamlit's private script-request state, as `webapp.ui.runtime` reads it.

`answer_view.yield_to_waiting_click` ends a streaming run when a click waits
(`rerun_requested`); a Streamlit upgrade that renames what it reads would
leave Stop waiting for the whole answer, so it fails here first.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from streamlit.runtime.scriptrunner_utils.script_requests import (
    RerunData,
    ScriptRequests,
    ScriptRequestType,
)
from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext
from streamlit.testing.v1 import AppTest

from webapp.ui import runtime


def test_the_request_state_is_where_runtime_reads_it() -> None:
    requests = ScriptRequests()
    assert requests._state is ScriptRequestType.CONTINUE
    requests.request_rerun(RerunData(fragment_id="conversation"))
    assert requests._state is ScriptRequestType.RERUN
    # A fragment's own rerun does not preempt the run in progress: why the check exists.
    assert requests.on_scriptrunner_yield() is None


def test_a_run_context_still_carries_its_requests_and_its_fragments() -> None:
    fields = {field.name for field in dataclasses.fields(ScriptRunContext)}
    assert {"script_requests", "fragment_ids_this_run"} <= fields


def test_rerun_requested_follows_the_requests_of_this_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    requests = ScriptRequests()
    ctx = SimpleNamespace(script_requests=requests, fragment_ids_this_run=["conversation"])
    monkeypatch.setattr(runtime, "get_script_run_ctx", lambda: ctx)
    assert not runtime.rerun_requested()
    requests.request_rerun(RerunData(fragment_id="conversation"))
    assert runtime.rerun_requested()
    assert runtime.in_fragment_run()
    ctx.fragment_ids_this_run = []
    assert not runtime.in_fragment_run()


def _asks() -> None:
    import streamlit as st

    from webapp.ui import runtime

    st.session_state["asked"] = (runtime.rerun_requested(), runtime.in_fragment_run())


def test_a_plain_run_has_no_rerun_waiting_and_is_no_fragment_run() -> None:
    at = AppTest.from_function(_asks).run()
    assert not at.exception, at.exception
    assert at.session_state["asked"] == (False, False)


def test_outside_a_run_nothing_waits() -> None:
    assert not runtime.rerun_requested()
    assert not runtime.in_fragment_run()


def test_active_sessions_reads_streamlits_own_session_count() -> None:
    """`/metrics`' ablt_chat_sessions_active reads the stats family Streamlit's
    own `/_stcore/metrics` serves; without a runtime (tests, tools) it is unknown."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.stats import ACTIVE_SESSIONS_FAMILY, GaugeStat
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    assert not Runtime.exists()
    assert runtime.active_sessions() is None
    assert ACTIVE_SESSIONS_FAMILY == "active_sessions"
    assert ACTIVE_SESSIONS_FAMILY in WebsocketSessionManager.stats_families.fget(None)  # type: ignore[attr-defined]
    assert "value" in GaugeStat._fields
