"""Evaluations page: a set of prompts answered by several bots in the
background, rated blind by the team, and its report (`?run=<id>` opens a run,
`?report=<token>` a shared report)."""

from __future__ import annotations

import streamlit as st

from ablt_core import AbltError
from webapp.backend import get_client
from webapp.bots import catalogue
from webapp.errors import describe
from webapp.evaluations import EvaluationNotFound, rating_view, setup_view, view
from webapp.evaluations.shares import REPORT_PARAM
from webapp.text import literal as md
from webapp.ui import page as ui
from webapp.ui.i18n import _
from webapp.ui.member import require_member


def render() -> None:
    member = require_member()
    st.title(_("Evaluations"))
    view.show_notice()
    token = st.query_params.get(REPORT_PARAM)
    if token:
        rating_view.render_shared(token)
        return
    runner = view.get_runner()  # runs go on in the background, whoever looks
    runner.wake()
    page = view.session()
    requested = st.query_params.get(view.RUN_PARAM)
    if requested and page.open_run is None:
        page.open_run = requested
    evaluations = view.get_evaluations()
    view.render_run_picker(evaluations.runs())
    run = None
    if page.open_run:
        try:
            run = evaluations.run(page.open_run)
        except EvaluationNotFound:
            page.open_run = None
            st.warning(_("That run does not exist."))
    if run is None:
        st.query_params.pop(view.RUN_PARAM, None)
        try:
            bots = catalogue.load_bots(get_client())
        except AbltError as err:
            bots = []
            ui.error_box(describe(err), retry_key="evals_bots_retry")
        setup_view.render_setup(bots)
        return
    st.query_params[view.RUN_PARAM] = run.id
    title, again = st.columns([4, 1], vertical_alignment="center")
    title.header(md.escape(run.name))
    again.button(_("Run again"), icon=":material/replay:", on_click=view.run_again, args=(run.id,))
    st.caption(
        _("Started {created_at:%Y-%m-%d %H:%M} UTC by {owner}").format(
            created_at=run.created_at, owner=md.escape(run.owner)
        )
        + " · "
        + ", ".join(md.escape(b.label) for b in run.bots)
    )
    progress, rate, report = st.tabs([_("Progress"), _("Rate"), _("Report")])
    with progress:
        view.render_live_progress(run)
    with rate:
        rating_view.render_rating(run, member)
    with report:
        rating_view.render_report(run, member)


render()
