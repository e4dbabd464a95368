"""Answer versions and branching edits: the chat's logic (no widgets).

A Regenerate keeps the answer it replaces as a version; editing any sent
prompt starts a new branch from there and keeps the old branch as a version
of that prompt. `< 2/3 >` beside a message switches between its versions. The
version shown is the one rendered, exported and sent as context, because the
store keeps the shown path as the conversation's messages
(`webapp.conversations.store.branches`); switching is saved, so a reload shows the same.

`webapp.chat.versions_view` draws the switch and the edit box and calls these.
"""

from __future__ import annotations

from webapp.chat import open_chat as chat
from webapp.conversations import context as history
from webapp.conversations.model import Message
from webapp.conversations.store import ConversationStore, Owner, Versions
from webapp.ui.i18n import _


def versions_of(
    store: ConversationStore, member: Owner, opened: chat.OpenChat
) -> dict[str, Versions]:
    """message id -> `Versions` for the shown messages that have more than one
    (none for a draft): as the run's refresh read them with the messages
    (`OpenChat.versions_read`) when it read these very messages, else read
    now. Database errors propagate."""
    if opened.is_draft:
        return {}
    read = opened.versions_read
    if read is not None and read[0] == tuple(m.id for m in opened.messages):
        return read[1]
    return store.versions(member, opened.id, opened.messages)


def is_sent_prompt(opened: chat.OpenChat, message: Message) -> bool:
    """A shown prompt the member sent (not an imported one never sent, not a
    system message): it has Edit, usable when `can_edit`."""
    return (
        not opened.is_draft
        and message.role == "user"
        and not history.is_unsent_prompt(message)
        and any(m.id == message.id for m in opened.messages)
    )


def can_edit(opened: chat.OpenChat, message: Message) -> bool:
    """A sent prompt (`is_sent_prompt`) can be edited while no answer is being
    generated or awaited."""
    return (
        is_sent_prompt(opened, message)
        and opened.generating is None
        and not chat.awaiting_answer(opened)
    )


def can_switch(opened: chat.OpenChat) -> bool:
    """Versions can be switched while no answer is generated or awaited (the
    answer in progress belongs to the path shown)."""
    return not opened.is_draft and opened.generating is None and not chat.awaiting_answer(opened)


def edit_prompt(
    store: ConversationStore, member: Owner, opened: chat.OpenChat, message_id: str, text: str
) -> None:
    """Start a new branch at a sent prompt: the prompt and all after it are kept
    as a version, `text` takes its place (stripped) and awaits its answer (the
    caller starts it), in one transaction. ValueError for a blank text, a
    message that cannot be edited, or an answer still generating (`BranchBusy`);
    database errors propagate, and then nothing changed."""
    if not text.strip():
        raise ValueError(_("An empty message cannot be sent."))
    prompt = next((m for m in opened.messages if m.id == message_id), None)
    if prompt is None or not can_edit(opened, prompt):
        raise ValueError(_("That message cannot be edited now."))
    store.branch_at(member, opened.id, prompt.seq, text)
    chat.refresh(store, member, opened)


def switch(
    store: ConversationStore, member: Owner, opened: chat.OpenChat, message_id: str, by: int
) -> bool:
    """Show the version `by` steps from the shown one (-1: previous, +1: next) of
    a shown message, with the branch under it; saved at once. False when there
    is none that way. `VersionNotFound` (a LookupError) when another tab changed
    it meanwhile, `BranchBusy` while an answer generates."""
    found = store.versions(member, opened.id, opened.messages).get(message_id)
    to = found.step(by) if found is not None else None
    if to is None:
        return False
    store.switch_version(member, opened.id, message_id, to)
    chat.refresh(store, member, opened)
    return True
