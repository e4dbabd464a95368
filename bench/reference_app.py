"""The bench's reference: a minimal chat app written like Streamlit's chat tutorial.

`st.chat_input` + `st.write_stream` over the raw `ablt_core` stream, the
conversation in `st.session_state`, nothing else (no login, no history, no
saving). `bench/stream_render.py` runs it beside the real app against the same
aBLT server, so the product's figures have a yardstick measured in the same run.

Run:  ABLT_BEARER_TOKEN=... ABLT_BASE_URL=http://127.0.0.1:8765 \\
      streamlit run bench/reference_app.py
"""

from __future__ import annotations

import os

import streamlit as st

from ablt_core import AbltClient

BOT_SLUG = os.environ.get("ABLT_REFERENCE_BOT", "omni")


@st.cache_resource
def get_client() -> AbltClient:
    return AbltClient(
        bearer_token=os.environ["ABLT_BEARER_TOKEN"], base_url=os.environ["ABLT_BASE_URL"]
    )


st.title("Reference chat")

if "messages" not in st.session_state:
    st.session_state.messages = []

for message in st.session_state.messages:
    with st.chat_message(message["role"]):
        st.markdown(message["content"])

if prompt := st.chat_input("What is up?"):
    st.session_state.messages.append({"role": "user", "content": prompt})
    with st.chat_message("user"):
        st.markdown(prompt)
    with (
        st.chat_message("assistant"),
        get_client().chat(bot_slug=BOT_SLUG, messages=st.session_state.messages) as stream,
    ):
        response = st.write_stream(stream)
    st.session_state.messages.append({"role": "assistant", "content": response})
