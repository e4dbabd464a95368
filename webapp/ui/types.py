"""Streamlit's types the features name in annotations, from one place.

Streamlit exports neither under a public name (`streamlit.typing` has neither),
so the features import them from here, never from Streamlit's internal modules.
"""

from __future__ import annotations

from typing import TypeAlias

from streamlit.delta_generator import DeltaGenerator
from streamlit.elements.lib.column_types import ColumnConfig as _ColumnConfig

Container: TypeAlias = DeltaGenerator  # what `st.container()`, `st.sidebar`, `st.empty()` are
ColumnConfig: TypeAlias = _ColumnConfig  # an entry of `st.column_config` (e.g. NumberColumn)
