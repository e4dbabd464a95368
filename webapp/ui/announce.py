"""What a screen reader hears of an answer (`assets/announce.js`).

Streamlit redraws an answer as it streams; a live region over it would read it
word by word. Instead the chat page's script keeps one polite live region
(`role="status"`) of its own and says three things in it: that an answer has
started (its Stop button, keyed `STOP_KEY`, appeared), a status line beside
Stop (waiting for a slot, rate limited) when its words change (a countdown's
numbers aside), and the whole answer, once, when its Stop has gone (a stopped
answer's note included). The words sit in the region's closed shadow root:
read by screen readers, but not found a second time by a search of the page's
text. The labels come from the server, so they follow the page's wording.
"""

from __future__ import annotations

from typing import Final

from webapp.ui.i18n import N_, _

SCRIPT: Final = "announce.js"
STOP_KEY: Final = "chat_stop"  # the live answer's Stop button
STARTED_LABEL: Final = N_("Answer started.")
DONE_LABEL: Final = N_("Answer complete:")


def params() -> dict[str, str]:
    """`SCRIPT`'s parameters: the words said at an answer's start and end, and
    the key of the Stop button whose presence means an answer is arriving
    (the words in the session's language)."""
    return {"started_label": _(STARTED_LABEL), "done_label": _(DONE_LABEL), "stop_key": STOP_KEY}
