"""Bot catalogue page."""

import streamlit as st

st.title("Bots")
