"""Every message shown exactly as it was written: one renderer for the saved
view, the stream and the exports.

How to use (the chat page does exactly this):

    from webapp import render

    # a saved answer (or the welcome): one element per top-level block
    for block in render.answer_blocks(message.text):
        st.markdown(block, unsafe_allow_html=True)

    # a prompt: exactly as typed, no Markdown, line breaks kept
    st.markdown(render.prompt_html(message.text), unsafe_allow_html=True)

    # a streaming answer: raw pieces in, block writes out
    with st.chat_message("assistant"):
        st.write_stream(render.stream_blocks(pieces))

    # an export: each message's Markdown stands alone
    render.standalone_markdown(message.text)

What it promises:

- The streamed view ends as the saved one: `stream_blocks(pieces)` draws, once
  `pieces` ends, exactly `answer_blocks("".join(pieces))`, block for block.
- Parsing is markdown-it-py's (CommonMark + GitHub tables/strikethrough), with
  CR and CRLF normalised first and single newlines kept as line breaks.
- `$` is never maths (prices stay prices); `\\( \\)` and `\\[ \\]` are, outside
  code (MathML, drawn by the browser).
- Each block takes its direction from its own text (`dir="auto"`); code blocks
  stay left to right.
- The output is HTML sanitised by nh3, wrapped so Streamlit's Markdown does not
  touch it (no `:material/...:` icons, `:red[...]` directives or KaTeX `$`).
  HTML a bot sends stays inert: no script, no event handler; `<br>` in a table
  cell is a line break. Images are never loaded: each becomes a link that says
  where it goes. Only http(s) and mailto URLs are links (`data:`/`javascript:`
  stay text).
- Nothing here changes what is saved: stored text is what the bot sent.

Cost: `stream_blocks` keeps and re-parses only the open block; a finished block
is sent to the browser once; redraws are coalesced to `MIN_UPDATE_INTERVAL`
(~7 a second) within a redraw budget (`_stream.REDRAW_BUDGET`), the first
piece drawn at once. An empty piece is a tick that lets held-back text out
(for a source that can pause, e.g. a worker's queue).
"""

from webapp.render._markdown import (
    LINK_SCHEMES,
    answer_blocks,
    answer_html,
    normalise_newlines,
    prompt_html,
    standalone_markdown,
)
from webapp.render._stream import MIN_UPDATE_INTERVAL, BlockSplitter, BlockWrite, stream_blocks

__all__ = [
    "LINK_SCHEMES",
    "MIN_UPDATE_INTERVAL",
    "BlockSplitter",
    "BlockWrite",
    "answer_blocks",
    "answer_html",
    "normalise_newlines",
    "prompt_html",
    "standalone_markdown",
    "stream_blocks",
]
