"""Durable conversations: the store the chat page saves to and reads from.

    store = ConversationStore()          # ABLT_DB_URL, else data/ablt-chat.db
    conv = store.create_conversation(member, "bot-slug", "Bot name", options)
    store.append_message(member, conv.id, "user", "Hello")

See `webapp.conversations.store.core` for the API and `webapp.db.schema` for migrations.
"""

from webapp.conversations.context import Conversation, Message
from webapp.conversations.options import ConversationOptions
from webapp.conversations.store.answers import DEAD_WORKER_ERROR, AnswerRow, Claim, QueuedPrompt
from webapp.conversations.store.branches import BranchBusy, VersionNotFound, Versions
from webapp.conversations.store.core import (
    DEFAULT_DB_URL,
    ENV_DB_URL,
    STREAM_IDLE_AFTER,
    ConversationNotFound,
    ConversationStore,
    MessageNotFound,
    MessagePage,
    Owner,
    StoreError,
    db_url_from_env,
)
from webapp.db.migrations import LATEST_VERSION

__all__ = [
    "DEAD_WORKER_ERROR",
    "DEFAULT_DB_URL",
    "ENV_DB_URL",
    "LATEST_VERSION",
    "STREAM_IDLE_AFTER",
    "AnswerRow",
    "BranchBusy",
    "Claim",
    "Conversation",
    "ConversationNotFound",
    "ConversationOptions",
    "ConversationStore",
    "Message",
    "MessageNotFound",
    "MessagePage",
    "Owner",
    "QueuedPrompt",
    "StoreError",
    "VersionNotFound",
    "Versions",
    "db_url_from_env",
]
