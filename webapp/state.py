"""Session-state keys, named in one place.

Pages read and write `st.session_state` only through these names, so a key is
never misspelt on one page and a reader can see every piece of session state
at a glance. Page-local keys carry their page's prefix.
"""

from __future__ import annotations


class Keys:
    """Names of the session-state entries the app uses."""

    # Shared across pages
    MEMBER = "member"  # the logged-in webapp.auth.Member, or absent
    AUTHENTICATOR = "auth_authenticator"  # this run's streamlit_authenticator.Authenticate
    AUTH_SET_COOKIE = "auth_set_cookie"  # True: store the login cookie on the next run
    CHAT_BOT_SLUG = "chat_bot_slug"  # bot the chat page shows; the catalogue sets it
    CHAT_NEW_REQUESTED = "chat_new_requested"  # True: chat page opens a fresh conversation

    # Chat page
    CHAT_CONVERSATION = "chat_conversation"  # the open webapp.chat.Conversation
    CHAT_BOT_SELECT = "chat_bot_select"  # the bot picker widget (mirrors CHAT_BOT_SLUG)

    # Bot catalogue page
    BOTS_QUERY = "bots_query"
    BOTS_MODELS = "bots_models"

    # Statistics page
    STATS_PRESET = "stats_preset"
    STATS_START = "stats_start"  # custom range: first day
    STATS_END = "stats_end"  # custom range: last day
    STATS_UNIT = "stats_unit"
    STATS_SCOPE = "stats_scope"
