"""The app's stylesheets (`assets/*.css`), each drawn by one function.

Each function draws its sheet as a style-only `st.html` element, which
Streamlit sends to its event container: it takes no place among the page's
elements, so drawing it never moves another element (nor its state).

The sheets name some widgets by key (Streamlit gives a keyed element the CSS
class `st-key-<key>`); those keys are the constants below, which the features
use when they draw the widgets, so a sheet and its widget cannot drift apart
(tests/webapp/ui checks every `st-key-` in the sheets is one of them).
"""

from __future__ import annotations

from typing import Final

import streamlit as st

from webapp.ui import assets

CHAT_HEADER_KEY: Final = "chat_header"  # the chat's header container (chat_header.css)
NEW_CHAT_KEY: Final = "chat_new"  # the sidebar's New chat button (message_tools.css)
HISTORY_ROW_KEY_PREFIX: Final = "chat_open_"  # + conversation id: a History row (history_rows.css)
VERSIONS_KEY_PREFIX: Final = "chat_versions_"  # + message id: its versions (version_labels.css)
SCRIPTS_KEY: Final = "chat_scripts"  # the hidden container of the page's scripts (scripts.css)
DIRECTION_KEY: Final = "ui_direction"  # the language script's container (direction.css)
# Icon-only buttons whose label names them for screen readers, hidden on screen
# (accessibility.css): a History row's ⋮ menu, and New folder beside History.
ROW_MENU_KEY_PREFIX: Final = "chat_row_menu_"  # + conversation id
NEW_FOLDER_KEY: Final = "history_new_folder_menu"
# Icon-only buttons whose labels are read, not shown (accessibility.css).
FIND_PREVIOUS_KEY: Final = "chat_find_previous"
FIND_NEXT_KEY: Final = "chat_find_next"
EVAL_PROMPT_REMOVE_KEY_PREFIX: Final = "evals_draft_remove_"  # + the prompt's index

# Every key (or key prefix) a sheet names as `.st-key-...`.
STYLED_KEYS: Final = frozenset(
    {
        CHAT_HEADER_KEY,
        NEW_CHAT_KEY,
        HISTORY_ROW_KEY_PREFIX,
        VERSIONS_KEY_PREFIX,
        SCRIPTS_KEY,
        DIRECTION_KEY,
        ROW_MENU_KEY_PREFIX,
        NEW_FOLDER_KEY,
        FIND_PREVIOUS_KEY,
        FIND_NEXT_KEY,
        EVAL_PROMPT_REMOVE_KEY_PREFIX,
    }
)


def _draw(*sheets: str) -> None:
    st.html(assets.style_html(*sheets))


def hide_cookie_component() -> None:
    """Keep the invisible login cookie component from pushing the page down."""
    _draw("cookie_component.css")


def accessible() -> None:
    """Every page's accessibility touches (`assets/accessibility.css`): captions
    and quotes at 4.5:1 contrast, a visible keyboard focus, the labels of
    icon-only buttons (keyed `ROW_MENU_KEY_PREFIX` + id, `NEW_FOLDER_KEY`) hidden
    on screen but read, and the `ablt-sr-only` class for text only screen
    readers read."""
    _draw("accessibility.css")


def chat_header() -> None:
    """The chat header's layout (the container keyed `CHAT_HEADER_KEY`): room
    under Streamlit's top bar, not dimmed while an answer arrives, and two short
    lines without the bot's description on a phone."""
    _draw("chat_header.css")


def history_rows() -> None:
    """History titles (buttons keyed `HISTORY_ROW_KEY_PREFIX` + id) start at the left edge."""
    _draw("history_rows.css")


def sidebar_not_dimmed() -> None:
    """The sidebar keeps full colour while a run has not drawn it again yet."""
    _draw("sidebar.css")


def version_labels_hidden() -> None:
    """The version switch's and Edit's labels (rows keyed `VERSIONS_KEY_PREFIX` + id)
    are for screen readers only; on screen their icons say it."""
    _draw("version_labels.css")


def message_tools() -> None:
    """A message's line (time and Copy), the find's outlined match, New chat's
    label without its shortcut, and no Streamlit Stop (the answer has its own)."""
    _draw("message_tools.css", "clipboard.css")


def hidden_scripts() -> None:
    """The scripts' container (keyed `SCRIPTS_KEY`) takes no room."""
    _draw("scripts.css")
