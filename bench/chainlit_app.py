"""The bench's peer: a minimal Chainlit chat app written as Chainlit's documentation shows.

`@cl.on_message`, an empty `cl.Message`, `await msg.stream_token(token)` for
every piece of `ablt_core`'s `AsyncAbltClient` stream, then `await msg.send()`;
the conversation in `cl.user_session`, nothing else (no login, no history, no
data layer). `bench/peers.py` runs it in its own virtualenv (Chainlit pinned in
`bench/requirements-chainlit.txt`, never in the app's or the tests'
environment), `ablt_core` on PYTHONPATH, beside the product and the tutorial
reference app, against the same emulator.

Run:  ABLT_BEARER_TOKEN=... ABLT_BASE_URL=http://127.0.0.1:8765 PYTHONPATH=. \\
      /tmp/ablt-bench-chainlit/.venv/bin/chainlit run bench/chainlit_app.py --headless
"""

from __future__ import annotations

import os

import chainlit as cl

from ablt_core import AsyncAbltClient

BOT_SLUG = os.environ.get("ABLT_REFERENCE_BOT", "omni")
_client: AsyncAbltClient | None = None


def get_client() -> AsyncAbltClient:
    """One client for the process, as an app would keep one HTTP pool."""
    global _client
    if _client is None:
        _client = AsyncAbltClient(
            bearer_token=os.environ["ABLT_BEARER_TOKEN"], base_url=os.environ["ABLT_BASE_URL"]
        )
    return _client


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("messages", [])


@cl.on_message
async def on_message(message: cl.Message) -> None:
    messages = cl.user_session.get("messages") or []
    messages.append({"role": "user", "content": message.content})
    msg = cl.Message(content="")
    stream = await get_client().chat(bot_slug=BOT_SLUG, messages=messages)
    async with stream:
        async for token in stream:
            await msg.stream_token(token)
    await msg.send()
    messages.append({"role": "assistant", "content": msg.content})
    cl.user_session.set("messages", messages)
