"""Team page (admins only): the members, add, role, reset password, disable, remove."""

from __future__ import annotations

from webapp.auth import require_member
from webapp.team import actions
from webapp.team.view import render_team_page


def render() -> None:
    # The words-used column: the budgets feature passes its own WordsThisMonth here.
    render_team_page(require_member(), actions.no_words)


render()
