"""Compare bots side by side (see `webapp.compare.store`)."""

from webapp.compare.store import (
    COMPARISON_FORMAT,
    MAX_BOTS,
    MIN_BOTS,
    Comparison,
    Comparisons,
    comparison_name,
)

__all__ = [
    "COMPARISON_FORMAT",
    "MAX_BOTS",
    "MIN_BOTS",
    "Comparison",
    "Comparisons",
    "comparison_name",
]
