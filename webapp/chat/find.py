"""Find text within the open conversation: matching, and its Find box.

Matching (`find_in_text`, `find_matches`) is pure and works on grapheme
clusters (`regex` `\\X`, Unicode UAX #29), each folded for comparison: NFKD
with its combining marks dropped, then case-folded (Unicode default caseless
matching). So "cafe" finds "Café" and "CAFÉ", "strasse" finds "Straße", and a
match always starts and ends on whole characters as a person sees them: "e"
finds the "é" of "café" (its accent is folded away), but a query never ends
inside a flag or an emoji with a skin tone.

The view (`render_find`) searches the whole conversation (not only the shown
tail), says "3 of 7", steps with Previous/Next, shows the current match in its
context, and has the page bring its message into view (loading earlier
messages when it is not shown yet) and outline it.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import regex
import streamlit as st

from webapp.auth.guard import view_action
from webapp.backend import get_store
from webapp.conversations.store import MAX_PAGE
from webapp.ui import styles
from webapp.ui.i18n import N_, _
from webapp.ui.state import Keys

SNIPPET_RADIUS: Final = 60  # characters of context each side of a match
FIND_PLACEHOLDER: Final = N_("Find in this conversation")
FIND_MENU_KEY: Final = "chat_find_menu"  # the Find popover (open or not)

_GRAPHEME: Final = regex.compile(r"\X")
_SPACES: Final = regex.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Match:
    """One occurrence: in the `message_index`-th text, characters `start`..`end`
    (Python string offsets, on grapheme-cluster boundaries)."""

    message_index: int
    start: int
    end: int


def fold(text: str) -> str:
    """`text` as compared: NFKD, combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def find_in_text(text: str, query: str) -> list[tuple[int, int]]:
    """Where `query` occurs in `text`, case- and accent-insensitively, as
    non-overlapping (start, end) offsets into `text` on grapheme boundaries,
    in order. A blank query finds nothing."""
    needle = fold(query.strip())
    if not needle or not text:
        return []
    folded: list[str] = []
    spans: list[tuple[int, int]] = []  # per folded character: its cluster's span
    cluster_start: list[bool] = []  # per folded character: first of its cluster's fold
    for found in _GRAPHEME.finditer(text):
        piece = fold(found.group())
        for i, char in enumerate(piece):
            folded.append(char)
            spans.append((found.start(), found.end()))
            cluster_start.append(i == 0)
    haystack = "".join(folded)
    hits: list[tuple[int, int]] = []
    at = haystack.find(needle)
    while at != -1:
        end = at + len(needle)
        if cluster_start[at] and (end == len(haystack) or cluster_start[end]):
            hits.append((spans[at][0], spans[end - 1][1]))
            at = haystack.find(needle, end)
        else:
            at = haystack.find(needle, at + 1)
    return hits


def find_matches(texts: Sequence[str], query: str) -> list[Match]:
    """Every occurrence of `query` in `texts` (a conversation's messages, oldest
    first), in reading order."""
    return [
        Match(index, start, end)
        for index, text in enumerate(texts)
        for start, end in find_in_text(text, query)
    ]


def snippet_html(text: str, start: int, end: int, radius: int = SNIPPET_RADIUS) -> str:
    """The match with up to `radius` characters each side (cut between words
    where it can be), escaped, the match in `<mark>`, "…" where the text goes
    on; lines joined by spaces."""
    left = max(start - radius, 0)
    right = min(end + radius, len(text))
    # Cut between words where the context has a space to cut at.
    if left > 0 and not text[left - 1].isspace():
        space = _SPACES.search(text, left, start)
        left = space.end() if space else left
    if right < len(text) and not text[right].isspace():
        spaces = list(_SPACES.finditer(text, end, right))
        right = spaces[-1].start() if spaces else right

    def plain(part: str) -> str:
        return html.escape(_SPACES.sub(" ", part))

    before = ("…" if left > 0 else "") + plain(text[left:start])
    after = plain(text[end:right]) + ("…" if right < len(text) else "")
    return f"{before}<mark>{html.escape(text[start:end])}</mark>{after}"


def position_label(index: int, count: int) -> str:
    """ "3 of 7" (`index` from 0), or "No matches"."""
    if not count:
        return _("No matches")
    return _("{position} of {count}").format(position=index + 1, count=count)


# ------------------------------------------------------------------- the view


def _state() -> tuple[Any, Any]:
    return st.session_state.get(Keys.CHAT_OPEN), st.session_state.get(Keys.MEMBER)


def _all_texts(opened: Any, member: Any) -> tuple[list[str], list[Any]]:
    messages = get_store().all_messages(member, opened.id)
    return [m.text for m in messages], messages


def _current(opened: Any, query: str, count: int) -> int:
    saved = st.session_state.get(Keys.CHAT_FIND_INDEX)
    if not count or not saved or saved[:2] != (query, opened.key):
        return 0
    return int(saved[2]) % count


@view_action
def jump(step: int) -> None:
    """Previous (-1) / Next (+1) / a new query (0): the match to show, its
    message loaded (earlier messages too) and brought into view (a callback)."""
    opened, member = _state()
    query = str(st.session_state.get(Keys.CHAT_FIND_QUERY) or "")
    if opened is None or opened.is_draft or not query.strip():
        st.session_state.pop(Keys.CHAT_FIND_INDEX, None)
        return
    texts, messages = _all_texts(opened, member)
    matches = find_matches(texts, query)
    if not matches:
        st.session_state.pop(Keys.CHAT_FIND_INDEX, None)
        return
    index = 0 if step == 0 else (_current(opened, query, len(matches)) + step) % len(matches)
    st.session_state[Keys.CHAT_FIND_INDEX] = (query, opened.key, index)
    target = messages[matches[index].message_index]
    # Its message is shown: widen the loaded tail back to it.
    needed = opened.total - target.seq if opened.total else len(messages) - target.seq
    opened.window = min(max(opened.window, needed), MAX_PAGE)
    st.session_state[Keys.CHAT_SCROLL_ANCHOR] = (target.id, True)


def render_find(opened: Any, member: Any) -> None:
    """The Find box in a popover: query, "3 of 7", Previous/Next, the match in context."""
    if opened.is_draft:
        return
    menu = st.popover(
        _("Find"),
        icon=":material/search:",
        help=_("Find text in this conversation"),
        key=FIND_MENU_KEY,
        on_change="rerun",  # its open state is then ours to read
    )
    if not menu.open:
        # Searched only while open: a run (say, one drawing an answer) never
        # reads the whole conversation for a Find box nobody looks at.
        return
    with menu:
        query = st.text_input(
            _(FIND_PLACEHOLDER),
            key=Keys.CHAT_FIND_QUERY,
            placeholder=_(FIND_PLACEHOLDER),
            label_visibility="collapsed",
            on_change=jump,
            args=(0,),
        )
        if not query.strip():
            st.caption(_("Case and accents are ignored."))
            return
        texts, messages = _all_texts(opened, member)
        matches = find_matches(texts, query)
        index = _current(opened, query, len(matches))
        row = st.container(horizontal=True, vertical_alignment="center")
        row.caption(position_label(index, len(matches)))
        row.button(
            _("Previous match"),  # read by screen readers; on screen the arrow says it
            key=styles.FIND_PREVIOUS_KEY,
            icon=":material/keyboard_arrow_up:",
            help=_("Previous match"),
            on_click=jump,
            args=(-1,),
            disabled=not matches,
            type="tertiary",
        )
        row.button(
            _("Next match"),
            key=styles.FIND_NEXT_KEY,
            icon=":material/keyboard_arrow_down:",
            help=_("Next match"),
            on_click=jump,
            args=(1,),
            disabled=not matches,
            type="tertiary",
        )
        if matches:
            match = matches[index]
            who = "You" if messages[match.message_index].role == "user" else "Bot"
            body = snippet_html(texts[match.message_index], match.start, match.end)
            st.html(f'<div class="ablt-find-snippet"><b>{who}:</b> {body}</div>')
