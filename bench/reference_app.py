"""The bench's reference: a minimal chat app written like Streamlit's chat tutorial.

`st.chat_input` + `st.write_stream` over the raw `ablt_core` stream, the
conversation in `st.session_state`, nothing else (no login, no history, no
saving). `bench/stream_render.py` runs it beside the real app against the same
aBLT server, so the product's figures have a yardstick measured in the same run.

Run:  ABLT_BEARER_TOKEN=... ABLT_BASE_URL=http://127.0.0.1:8765 \\
      streamlit run bench/reference_app.py

Two knobs, off by default, for `bench/first_word_floor.py` (what Streamlit
itself costs a chat page's first word): `ABLT_REFERENCE_HISTORY_ROWS=N` adds a
sidebar like the product's (New chat, a search box, N conversation rows, each a
button with a tooltip and a closed ⋮ menu), and `ABLT_REFERENCE_FRAGMENT=1` runs the chat in an
`st.fragment` with its message box pinned by `st.bottom`, as the product does.
"""

from __future__ import annotations

import os

import streamlit as st

from ablt_core import AbltClient

BOT_SLUG = os.environ.get("ABLT_REFERENCE_BOT", "omni")
HISTORY_ROWS = int(os.environ.get("ABLT_REFERENCE_HISTORY_ROWS", "0"))
IN_FRAGMENT = os.environ.get("ABLT_REFERENCE_FRAGMENT") == "1"


@st.cache_resource
def get_client() -> AbltClient:
    return AbltClient(
        bearer_token=os.environ["ABLT_BEARER_TOKEN"], base_url=os.environ["ABLT_BASE_URL"]
    )


def history_sidebar(rows: int) -> None:
    """A sidebar the size of the product's: New chat, search, `rows` conversations."""
    with st.sidebar:
        st.button("New chat", key="new_chat")
        st.text_input("Search conversations", key="search")
        for row in range(rows):
            with st.container(horizontal=True, gap="small"):
                st.button(
                    f"Saved conversation {row}",
                    key=f"open_{row}",
                    type="tertiary",
                    width="stretch",
                    help="Omni · last active today",
                )
                st.popover(
                    "",
                    icon=":material/more_vert:",
                    type="tertiary",
                    help="Manage",
                    key=f"menu_{row}",
                    on_change="rerun",
                )


def chat() -> None:
    """The tutorial's chat: the messages so far, the box, the answer streamed."""
    st.title("Reference chat")
    for message in st.session_state.messages:
        with st.chat_message(message["role"]):
            st.markdown(message["content"])
    if IN_FRAGMENT:
        with st.bottom:
            prompt = st.chat_input("What is up?")
    else:
        prompt = st.chat_input("What is up?")
    if prompt:
        st.session_state.messages.append({"role": "user", "content": prompt})
        with st.chat_message("user"):
            st.markdown(prompt)
        with (
            st.chat_message("assistant"),
            get_client().chat(bot_slug=BOT_SLUG, messages=st.session_state.messages) as stream,
        ):
            response = st.write_stream(stream)
        st.session_state.messages.append({"role": "assistant", "content": response})


if "messages" not in st.session_state:
    st.session_state.messages = []
if HISTORY_ROWS:
    history_sidebar(HISTORY_ROWS)
if IN_FRAGMENT:
    st.fragment(chat)()
else:
    chat()
