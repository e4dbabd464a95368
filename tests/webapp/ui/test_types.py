"""The Streamlit types `webapp.ui.types` names are the ones Streamlit still returns."""

from __future__ import annotations

import typing

import streamlit as st

from webapp.ui.types import ColumnConfig, Container


def test_containers_are_what_container_names() -> None:
    assert isinstance(st.sidebar, Container)
    assert isinstance(st.container(), Container)


def test_a_column_config_entry_is_what_columnconfig_names() -> None:
    hints = typing.get_type_hints(st.column_config.NumberColumn)
    assert hints["return"] is ColumnConfig
