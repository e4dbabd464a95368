"""Team evaluation runs: a set of prompts answered by 2-8 bots in the
background, rated blind by the team, reported per bot with the raters'
agreement (see `model`, `store`, `runner`, `report`, `agreement`, `shares`;
the page's widgets are in `view`, `setup_view` and `rating_view`)."""

from webapp.evaluations.model import (
    EvalSet,
    EvaluationError,
    EvaluationNotFound,
    Run,
    RunBot,
)
from webapp.evaluations.report import Report, build_report
from webapp.evaluations.runner import EvaluationRunner
from webapp.evaluations.store import AlreadyRated, Evaluations

__all__ = [
    "AlreadyRated",
    "EvalSet",
    "EvaluationError",
    "EvaluationNotFound",
    "EvaluationRunner",
    "Evaluations",
    "Report",
    "Run",
    "RunBot",
    "build_report",
]
