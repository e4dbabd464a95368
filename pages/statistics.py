"""Usage statistics page."""

import streamlit as st

st.title("Usage statistics")
