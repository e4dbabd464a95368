"""Durable conversations: the store the chat page saves to and reads from.

    store = ConversationStore()          # ABLT_DB_URL, else data/ablt-chat.db
    conv = store.create_conversation(member, "bot-slug", "Bot name", options)
    store.append_message(member, conv.id, "user", "Hello")

`ConversationStore` (`facade`) is a thin facade over small repositories:
`conversations`, `messages`, `branches` (versions) and `answers` (queued
prompts, claims, generating answers), sharing one `database.Database`. See
`webapp.db.schema` and `webapp.db.migrations` for the tables.
"""

from webapp.conversations.context import Conversation, Message
from webapp.conversations.options import ConversationOptions
from webapp.conversations.store.answers import DEAD_WORKER_ERROR, AnswerRow, Claim, QueuedPrompt
from webapp.conversations.store.branches import BranchBusy, VersionNotFound, Versions
from webapp.conversations.store.conversations import (
    ANY_FOLDER,
    DEFAULT_LIST_LIMIT,
    HistoryCursor,
)
from webapp.conversations.store.database import (
    STREAM_IDLE_AFTER,
    ConversationNotFound,
    MessageNotFound,
    Owner,
    StoreError,
)
from webapp.conversations.store.facade import ConversationStore
from webapp.conversations.store.messages import MAX_PAGE, MessagePage
from webapp.conversations.store.organise import (
    TEMPORARY_MAX_AGE,
    Folder,
    FolderNotFound,
    OrganiseRepository,
)
from webapp.db.engine import DEFAULT_DB_URL, ENV_DB_URL, db_url_from_env
from webapp.db.migrations import LATEST_VERSION

__all__ = [
    "ANY_FOLDER",
    "DEAD_WORKER_ERROR",
    "DEFAULT_DB_URL",
    "DEFAULT_LIST_LIMIT",
    "ENV_DB_URL",
    "LATEST_VERSION",
    "MAX_PAGE",
    "STREAM_IDLE_AFTER",
    "TEMPORARY_MAX_AGE",
    "AnswerRow",
    "BranchBusy",
    "Claim",
    "Conversation",
    "ConversationNotFound",
    "ConversationOptions",
    "ConversationStore",
    "Folder",
    "FolderNotFound",
    "HistoryCursor",
    "Message",
    "MessageNotFound",
    "MessagePage",
    "OrganiseRepository",
    "Owner",
    "QueuedPrompt",
    "StoreError",
    "VersionNotFound",
    "Versions",
    "db_url_from_env",
]
