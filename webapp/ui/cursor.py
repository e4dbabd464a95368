"""Where the next element goes: the running container's place counter.

Streamlit gives each element of a container an index, in drawing order (its
cursor, private: `DeltaGenerator._cursor`); the container being drawn is the
last of `delta_generator_singletons.context_dg_stack` (the main area, or the
`with` block or fragment the code runs in). `leftovers` counts places with it.
tests/webapp/ui/test_cursor.py fails if the pinned Streamlit changes either.
"""

from __future__ import annotations

from streamlit.delta_generator_singletons import context_dg_stack


def next_place() -> int | None:
    """The index the next element gets in the container being drawn, or None
    when Streamlit does not say (no script run, or a container without a cursor)."""
    stack = context_dg_stack.get()
    if not stack:
        return None
    cursor = stack[-1]._cursor  # private: the running container's cursor
    return cursor.index if cursor is not None else None
