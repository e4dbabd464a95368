"""What Streamlit's script runner has pending for this run (its private request state).

Streamlit lets a fragment's widget preempt nothing: a click's rerun waits until
the run in progress ends (`script_requests`: a fragment rerun that is not
fragment-scoped does not preempt). A run that streams for a long time asks
`rerun_requested()` itself and reruns (`st.rerun`) so the click's callback runs
first. tests/webapp/ui/test_runtime.py fails if the pinned Streamlit changes
what this reads.
"""

from __future__ import annotations

from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


def rerun_requested() -> bool:
    """Whether a rerun (a click, a widget change) waits for the run in progress;
    False outside a script run."""
    ctx = get_script_run_ctx()
    requests = ctx.script_requests if ctx is not None else None
    # Private: ScriptRequests keeps its pending request type in `_state`.
    return requests is not None and getattr(requests, "_state", None) is ScriptRequestType.RERUN


def in_fragment_run() -> bool:
    """Whether this run is a fragment's own rerun (not the whole app's)."""
    ctx = get_script_run_ctx()
    return ctx is not None and bool(ctx.fragment_ids_this_run)


def active_sessions() -> int | None:
    """Browser sessions connected to this app process now, as Streamlit counts
    them for its own `/_stcore/metrics` (the stats family "active_sessions");
    None when no Streamlit runtime runs in this process (tests, tools)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.stats import ACTIVE_SESSIONS_FAMILY

    if not Runtime.exists():
        return None
    stats = Runtime.instance().stats_mgr.get_stats(family_names=[ACTIVE_SESSIONS_FAMILY])
    return int(sum(getattr(stat, "value", 0) for stat in stats.get(ACTIVE_SESSIONS_FAMILY, [])))
