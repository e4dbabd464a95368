"""Where the chat's view goes (`assets/scroll.js`).

- It follows the newest message while the reader is at the bottom (scrolling up
  lets go, scrolling back down holds again; sending holds again), as Streamlit
  does for a chat whose message box it pins itself (ours is drawn by the
  conversation's fragment, which turns that off).
- Another `conversation` (any string naming the one shown), or the same page
  opened again, starts at its newest message.
- `anchor`: a message (by the id its tools line carries in `data-ablt-msg`)
  kept in view until the run settles or the reader scrolls; outlined as the
  current match when `mark`.
- `focus_input`: the cursor goes into the message box.
"""

from __future__ import annotations

from typing import Final, TypedDict

SCRIPT: Final = "scroll.js"
MESSAGE_ATTRIBUTE: Final = "data-ablt-msg"  # on a message's tools line: its id


class Anchor(TypedDict):
    """A message to keep in view: its `id`, outlined when `mark`."""

    id: str
    mark: bool


class ScrollParams(TypedDict):
    """`SCRIPT`'s parameters for one run."""

    focus_input: bool
    anchor: Anchor | None
    conversation: str


def params(
    *, focus_input: bool, anchor: str | None, mark: bool = False, conversation: str = ""
) -> ScrollParams:
    """This run's requests to `SCRIPT` (see the module docstring)."""
    return {
        "focus_input": focus_input,
        "anchor": {"id": anchor, "mark": mark} if anchor else None,
        "conversation": conversation,
    }
