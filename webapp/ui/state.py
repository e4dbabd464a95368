"""Session-state keys, named in one place.

Pages read and write `st.session_state` only through these names, so a key is
never misspelt on one page and a reader can see every piece of session state
at a glance. Page-local keys carry their page's prefix.

A widget's value has its own key here (Streamlit and the tests address widgets
by key); a page's other state is one typed object under one key (`COMPARE`,
`TEAM`, ...: see `webapp.ui.session`), and notices wait under `FLASH`
(`webapp.ui.flash`). The chat page's keys are still loose: its state is being
rewritten separately.
"""

from __future__ import annotations


class Keys:
    """Names of the session-state entries the app uses."""

    # Shared across pages
    MEMBER = "member"  # the logged-in webapp.auth.gate.Member, or absent
    AUTHENTICATOR = "auth_authenticator"  # this run's streamlit_authenticator.Authenticate
    AUTH_SET_COOKIE = "auth_set_cookie"  # True: store the login cookie on the next run
    AUTH_DELETE_COOKIE = "auth_delete_cookie"  # True after a logout until the cookie is gone
    AUTH_COOKIE_TICKET = "auth_cookie_ticket"  # (route path, ticket) the browser has yet to fetch
    # streamlit-authenticator's own entries (it sets them; the gate reads them)
    AUTHENTICATOR_STATUS = "authentication_status"  # True once logged in
    AUTHENTICATOR_USERNAME = "username"
    AUTHENTICATOR_LOGOUT = "logout"  # True after a logout: no login from the cookie
    AUTH_SINCE = "auth_since"  # when this session's login was made (UTC): revocation compares
    # time.monotonic() of the last read that found this session valid (gate.session_still_valid)
    MEMBER_CHECKED_AT = "member_checked_at"
    LOGIN_USERNAME = "auth_login_username"  # the login form's fields
    LOGIN_PASSWORD = "auth_login_password"  # dropped as soon as the login succeeds
    LOGIN_PROBLEM = "auth_login_problem"  # why the last attempt failed; kept until the next
    SSO_LOGIN = "auth_sso_login"  # True: this session logged in through single sign-on
    SSO_REFUSED = "auth_sso_refused"  # True: st.user holds an identity that was refused
    SSO_OUTCOME = "auth_sso_outcome"  # why the last round trip to the provider failed
    CHAT_BOT_SLUG = "chat_bot_slug"  # bot the chat page shows; the catalogue sets it
    CHAT_NEW_REQUESTED = "chat_new_requested"  # True: chat page opens a fresh conversation
    SIDEBAR_CLOSE = "sidebar_close"  # n: close the sidebar on a phone in the next run (n-th ask)
    SIDEBAR_PAGE = "sidebar_page"  # the page last run (a new one closes the sidebar on a phone)
    APP_PAGES = "app_pages"  # ((admin?, locale), [st.Page]) made once per session (app.py)
    FLASH = "flash"  # {area: webapp.ui.flash.Notice}: shown once by that area's next run
    LOCALE = "ui_locale"  # this session's interface language (webapp.ui.i18n.use_locale)
    WINDOWS = "windows"  # webapp.ui.window.Windows: how much of each long list is drawn

    # Chat page
    CHAT_OPEN = "chat_open"  # the open webapp.chat.open_chat.OpenChat (the store keeps the rest)
    CHAT_OPEN_ID = "chat_open_id"  # a conversation id to open on the next run (history)
    CHAT_BOT_SELECT = "chat_bot_select"  # the bot picker widget (mirrors CHAT_BOT_SLUG)
    CHAT_CARRY_OPTIONS = "chat_carry_options"  # Clear chat: options for the fresh one
    CHAT_HELD_NOTICE = "chat_held_notice"  # chat_notice.HeldNotice: until acted on
    CHAT_FOCUS_INPUT = "chat_focus_input"  # True: put the cursor in the message box this run
    CHAT_FIND_QUERY = "chat_find_query"  # the find-in-conversation box
    CHAT_FIND_INDEX = "chat_find_index"  # (query, conversation key, index): the match shown
    CHAT_SCROLL_ANCHOR = "chat_scroll_anchor"  # (message id, outline it): bring it into view
    CHAT_EDITING = "chat_editing"  # id of the prompt being edited (its box shows in place)
    CHAT_EDIT_TEXT = "chat_edit_text"  # the edit box
    CHAT_VERSIONS = "chat_versions"  # (OpenChat.key, {message id: Versions}) read this run
    CHAT_HISTORY_QUERY = "chat_history_query"  # the history search box
    CHAT_HISTORY_LIMIT = "chat_history_limit"  # history rows shown ("Show more" adds)
    CHAT_DELETE_PENDING = "chat_delete_pending"  # id waiting for the delete confirmation
    CHAT_SEND_PROBLEM = "chat_send_problem"  # why the last prompt was not sent, shown once
    CHAT_PROMPT_BACK = "chat_prompt_back"  # (input key, text): put back in the message box
    CHAT_IMPORT_ROUND = "chat_import_round"  # bumps the uploader key to empty it
    CHAT_BOT_QUERY = "chat_bot_query"  # the bot picker's search (many bots)
    CHAT_PROMPT = "chat_prompt"  # the message box (its on_submit saves the prompt)
    # webapp.chat.page_state.ChatPageState: what the page was drawn for, Stop's count, ...
    CHAT_PAGE_STATE = "chat_page_state"
    CHAT_TEMPORARY = "chat_temporary"  # the header's Temporary chat switch
    CHAT_TEMPORARY_NEXT = "chat_temporary_next"  # True: the new chat asked for is temporary

    # History: organising (webapp.history.organise_view)
    HISTORY_TAGS = "history_tags"  # the tag filter (all must match)
    HISTORY_ARCHIVED = "history_archived"  # True: the Archived view instead of History
    HISTORY_INCLUDE_ARCHIVED = "history_include_archived"  # search archived ones too
    HISTORY_OPEN_FOLDERS = "history_open_folders"  # set of the folder ids shown open
    HISTORY_SELECT = "history_select"  # True: rows are checkboxes (bulk actions)
    HISTORY_BULK_DELETE = "history_bulk_delete_pending"  # ids waiting for "Delete N conversations?"
    HISTORY_FOLDER_DELETE = "history_folder_delete_pending"  # folder id waiting for its choice
    HISTORY_NEW_FOLDER = "history_new_folder"  # the New folder box
    HISTORY_NEW_FOLDER_PARENT = "history_new_folder_parent"  # ... and where it goes
    HISTORY_ARCHIVE_BEFORE = "history_archive_before"  # "Archive older than" date
    HISTORY_BULK_FOLDER = "history_bulk_folder"  # bulk Move's folder
    HISTORY_BULK_TAGS = "history_bulk_tags"  # bulk Tag's tags

    # Prompt library (its page and the chat's Library menu)
    LIBRARY = "library_session"  # webapp.library.view.LibrarySession
    LIBRARY_QUERY = "library_query"  # the Prompts page's search box
    LIBRARY_NEW_NAME = "library_new_name"  # the Prompts page's "New entry" form
    LIBRARY_NEW_SYSTEM = "library_new_system"
    LIBRARY_NEW_STARTER = "library_new_starter"
    LIBRARY_NEW_BOT = "library_new_bot"
    LIBRARY_NEW_LANGUAGE = "library_new_language"
    LIBRARY_NEW_LIMIT = "library_new_limit"
    LIBRARY_NEW_MAX_WORDS = "library_new_max_words"
    LIBRARY_NEW_SEARCH = "library_new_search"
    LIBRARY_NEW_SHARED = "library_new_shared"
    LIBRARY_SAVE_NAME = "library_save_name"  # the chat's "Save to library" form
    LIBRARY_SAVE_STARTER = "library_save_starter"
    LIBRARY_SAVE_THIS_BOT = "library_save_this_bot"
    LIBRARY_SAVE_SHARED = "library_save_shared"

    # Share links
    SHARE = "share_session"  # webapp.sharing.view.ShareSession

    # Compare page
    COMPARE = "compare_session"  # webapp.compare.view.CompareSession
    COMPARE_BOTS = "compare_bots"  # the bots picked for a new comparison (slugs)
    COMPARE_PROMPT = "compare_prompt"  # the page's message box
    COMPARE_PER_BOT = "compare_per_bot"  # the "Options per bot" toggle

    # Feedback on answers (the chat page) and the Arena page
    FEEDBACK_MINE = "feedback_mine"  # webapp.feedback.view.Shown: read this run
    ARENA = "arena_session"  # webapp.arena.view.ArenaSession
    ARENA_PROMPT = "arena_prompt"  # the page's message box
    ARENA_SHORTLIST = "arena_shortlist"  # the bots to draw from (slugs; empty: all)
    ARENA_FROM = "arena_from"  # the leaderboard's date range (UTC days)
    ARENA_TO = "arena_to"
    ARENA_VOTERS = "arena_voters"  # an admin's filter on whose votes count (usernames)
    ARENA_GROUPS = "arena_groups"  # ... and by group (group names: their members' votes)
    # Evaluations page
    EVALS = "evals_session"  # webapp.evaluations.view.EvalSession
    EVALS_SET = "evals_set"  # the set a new run uses (its id), or None: a new set
    EVALS_SET_NAME = "evals_set_name"  # a new set's name
    EVALS_PASTE = "evals_paste"  # prompts to add, one per line
    EVALS_ONE = "evals_one"  # one prompt to add (it may span lines)
    EVALS_BOTS = "evals_bots"  # the bots picked for a new run (slugs)
    EVALS_PER_BOT = "evals_per_bot"  # the "Options per bot" toggle
    EVALS_RUN = "evals_run"  # the run picker (a prefix: `webapp.evaluations.view.picker_key`)

    # Bot catalogue page
    BOTS_QUERY = "bots_query"
    BOTS_MODELS = "bots_models"
    BOTS = "bots_session"  # webapp.bots.catalogue.BotsSession

    # Team page (admins) and the forced password change
    TEAM = "team_session"  # webapp.team.view.TeamSession
    TEAM_ADD_USERNAME = "team_add_username"  # the add-member form's fields
    TEAM_ADD_NAME = "team_add_name"
    TEAM_ADD_EMAIL = "team_add_email"
    TEAM_ADD_ROLE = "team_add_role"
    TEAM_PICK = "team_pick"  # the member the manage panel acts on
    TEAM_ROLE = "team_role"  # the role picker of the manage panel
    TEAM_CONFIRM = "team_confirm"  # the removal confirmation box (type the username)
    FORCED_CURRENT = "forced_current"  # the forced password change: one-time password
    FORCED_NEW = "forced_new"
    FORCED_REPEAT = "forced_repeat"

    # Data lifecycle (Account page: your data; Team page: retention, a member's data)
    ERASE_CONFIRM = "erase_confirm"  # the Account page's erase box (type your username)
    TEAM_ERASE_CONFIRM = "team_erase_confirm"  # the Team page's erase box for a member
    TEAM_REMOVE_DATA = "team_remove_data"  # removing a member: "Erase" or "Keep" their data
    TEAM_REMOVE_VOTES = "team_remove_votes"  # ... and delete their arena votes and ratings
    RETENTION_CHATS = "retention_chats"  # days, 0: forever
    RETENTION_PINNED = "retention_pinned"  # keep pinned conversations
    RETENTION_AUDIT = "retention_audit"  # days, 0: forever
    RETENTION_SHARES = "retention_shares"  # days, 0: forever
    DATA_LINK = "data_link"  # {username: the one-time download path just issued}

    # Budgets (Chat page status; the Team page's budget section)
    BUDGET_DEFAULT_MODE = "budget_default_mode"  # team default: "No limit" | "Limit"
    BUDGET_DEFAULT_AMOUNT = "budget_default_amount"
    BUDGET_DEFAULT_UNIT = "budget_default_unit"
    BUDGET_MEMBER = "budget_member"  # the member whose limit is being set (username)
    BUDGET_MEMBER_MODE = "budget_member_mode"  # "Team default" | "Own limit" | "No limit"
    BUDGET_MEMBER_AMOUNT = "budget_member_amount"
    BUDGET_MEMBER_UNIT = "budget_member_unit"

    # Simultaneous answers (the Team page's section)
    SLOTS_VALUE = "slots_admin_value"  # the team's limit
    SLOTS_USE_SETTING = "slots_admin_use_setting"  # True: the server's setting instead

    # Audit log (the Team page's audit section)
    AUDIT_MEMBER = "audit_member"  # filter: a username, or "" for everyone
    AUDIT_KINDS = "audit_kinds"  # filter: kinds shown (empty: all)
    AUDIT_DAYS = "audit_days"  # filter: (first day, last day), UTC

    # Team page: Groups (webapp.groups.admin_view)
    GROUPS_DEFAULT_MODE = "groups_default_mode"  # bots for members in no group: every | chosen
    GROUPS_DEFAULT_BOTS = "groups_default_bots"
    GROUPS_NEW_NAME = "groups_new_name"
    GROUPS_NEW_DESCRIPTION = "groups_new_description"
    GROUPS_NEW_IDP = "groups_new_idp"

    # Statistics page
    STATS_PRESET = "stats_preset"
    STATS_START = "stats_start"  # custom range: first day
    STATS_END = "stats_end"  # custom range: last day
    STATS_UNIT = "stats_unit"
    STATS_SCOPE = "stats_scope"

    @staticmethod
    def history_rename(conversation_id: str) -> str:
        """A History row's rename box."""
        return f"chat_rename_text_{conversation_id}"

    @staticmethod
    def compare_option(scope: str, field: str) -> str:
        """A Compare option field's key: `scope` "all" (every bot) or a bot's
        slug; `field` one of language, max_words, search, limit, system."""
        return f"compare_opts_{scope}_{field}"

    @staticmethod
    def group_field(group_id: str, field: str) -> str:
        """A field of one group on the Team page: name, description, idp,
        bots_mode, bots, limit_mode, amount, unit, add, confirm."""
        return f"groups_{field}_{group_id}"

    @staticmethod
    def evals_option(scope: str, field: str) -> str:
        """An Evaluations option field's key: `scope` "all" or a bot's slug;
        `field` one of language, max_words, search, system."""
        return f"evals_opts_{scope}_{field}"

    @staticmethod
    def evals_score(cell_id: str) -> str:
        """The 1-5 rating of one answer on the Evaluations page."""
        return f"evals_score_{cell_id}"

    @staticmethod
    def evals_best(run_id: str, prompt_index: int) -> str:
        """The "best of the set" pick of one prompt on the Evaluations page."""
        return f"evals_best_{run_id}_{prompt_index}"

    @staticmethod
    def library_variable(where: str, entry_id: str, name: str) -> str:
        """The field asking for a library entry's `{{name}}` on `where`
        ("page": the Prompts page, "chat": the chat's Library menu, "compare")."""
        return f"library_var_{where}_{entry_id}_{name}"
