"""`ConversationStore`: one object for the app's conversations, in SQLite or PostgreSQL.

A thin facade over four repositories sharing one `Database` (engine, clock,
transactions; see `webapp.conversations.store.database` for owner checks and
locking):

- `ConversationRepository` (`conversations`): create, list (paged for the
  History), rename, pin, options, delete, export and import;
- `MessageRepository` (`messages`): the shown path of a conversation;
- `BranchRepository` (`branches`): versions kept off it (Regenerate, Edit);
- `AnswerRepository` (`answers`): queued prompts, claims and the rows of
  answers generated in the background;
- `OrganiseRepository` (`organise`): folders, tags, archive, temporary chats.

Each method of the store is one repository's method under the name callers
have always used; the store adds only opening, closing and a shared
transaction for other features' tables.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.conversations.model import Conversation
from webapp.conversations.store.answers import AnswerRepository, QueuedPrompt, queued_of_checked
from webapp.conversations.store.branches import BranchRepository, Versions, versions_of_checked
from webapp.conversations.store.conversations import ConversationRepository
from webapp.conversations.store.database import Database, Owner, conversation_row, to_conversation
from webapp.conversations.store.messages import (
    MessagePage,
    MessageRepository,
    check_page_limit,
    page_of_checked,
)
from webapp.conversations.store.organise import OrganiseRepository
from webapp.db.engine import db_url_from_env


@dataclass(frozen=True, slots=True)
class ConversationView:
    """What the chat page shows of one conversation, read at once (`ConversationStore.view`)."""

    conversation: Conversation
    page: MessagePage  # the shown tail, oldest first, with the full count
    queued: list[QueuedPrompt]  # in the order they will be answered
    versions: dict[str, Versions]  # message id -> its versions, for those of the page with several


class ConversationStore:
    """Members' conversations and messages behind a small, owner-checked API.

    Create one per process (e.g. with `st.cache_resource`) and share it: it is
    thread-safe and holds the connection pool. Opening upgrades the schema.
    `url`: a SQLAlchemy URL (default `ABLT_DB_URL`, else the SQLite file under
    `data/`); `clock`: UTC now, for tests.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url or db_url_from_env()
        self.db = Database(self.url, clock=clock)
        self.engine = self.db.engine
        self.now = self.db.now
        branches = self._branches = BranchRepository(self.db)
        conversations = self._conversations = ConversationRepository(self.db, branches)
        messages = self._messages = MessageRepository(self.db)
        answers = self._answers = AnswerRepository(self.db)
        self.organise = OrganiseRepository(self.db)

        self.create_conversation = conversations.create
        self.get_conversation = conversations.get
        self.list_conversations = conversations.listing
        self.rename = conversations.rename
        self.set_pinned = conversations.set_pinned
        self.update_options = conversations.update_options
        self.delete_conversation = conversations.delete
        self.mark_opened = conversations.mark_opened
        self.export_json = conversations.export_json
        self.export_markdown = conversations.export_markdown
        self.import_conversation = conversations.import_conversation

        self.messages = messages.page
        self.all_messages = messages.all
        self.append_message = messages.append
        self.update_message = messages.update
        self.delete_messages_from = messages.delete_from

        self.versions = branches.versions
        self.shelve_from = branches.shelve_from
        self.branch_at = branches.branch_at
        self.switch_version = branches.switch_version

        self.enqueue_prompt = answers.enqueue_prompt
        self.send_prompt = answers.send_prompt
        self.queued_prompts = answers.queued_prompts
        self.cancel_queued = answers.cancel_queued
        self.claim_next = answers.claim_next
        self.save_progress = answers.save_progress
        self.finish_answer = answers.finish_answer
        self.stop_answer = answers.stop_answer
        self.answer_row = answers.answer_row
        self.settle_stale = answers.settle_stale
        self.generating = answers.generating

    def view(
        self, owner: Owner, conversation_id: str, limit: int | None = None
    ) -> ConversationView:
        """The conversation, its last `limit` messages (all when None), its
        queued prompts and the versions of those messages in one read with one
        owner check: what a chat page run reads (`get_conversation` +
        `messages` + `queued_prompts` + `versions` took four connections and
        four owner checks). ConversationNotFound when it is not `owner`'s;
        ValueError for a `limit` outside 1..`MAX_PAGE`."""
        check_page_limit(limit)
        with self.db.read() as conn:
            conversation = to_conversation(conversation_row(conn, owner, conversation_id))
            page = page_of_checked(conn, conversation_id, limit)
            queued = queued_of_checked(conn, conversation_id)
            versions = versions_of_checked(conn, conversation_id, page.messages)
        return ConversationView(conversation, page, queued, versions)

    def close(self) -> None:
        """Close the pool's connections (tests, shutdown)."""
        self.db.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def transaction(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        """One short transaction on this store's database, for the stores of
        other features that share it (the prompt library, share links).
        `write=True` queues writers on SQLite (`BEGIN IMMEDIATE`)."""
        return self.db.write() if write else self.db.read()

    def __repr__(self) -> str:
        return f"ConversationStore({sa.make_url(self.url).render_as_string(hide_password=True)!r})"
