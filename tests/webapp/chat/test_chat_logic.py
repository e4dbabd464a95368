"""webapp.chat.open_chat: the open conversation, saving it as it streams, the context sent.

Against a real SQLite store file and the emulator over loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

import ablt_core._retry
from ablt_core import AbltClient, Bot
from ablt_core.emulator import EmulatorHandle
from webapp.chat import changes, versions
from webapp.chat import open_chat as chat
from webapp.conversations.context import ContextLimits, Conversation, ConversationOptions
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore


@dataclass(frozen=True)
class Member:
    username: str
    user_id: int


ANN = Member("ann", 42)
BOB = Member("bob", 43)
NO_CAP = ContextLimits(max_messages=None, max_words=None)


def make_bot(slug: str = "omni", name: str = "Omni", welcome: str = "Hi!\r\nAsk me.") -> Bot:
    return Bot(
        uid=f"uid-{slug}",
        slug=slug,
        name=name,
        description="",
        welcome_message=welcome,
        model="gpt-4",
        avatar_url=None,
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    with ConversationStore(f"sqlite:///{tmp_path / 'chat.db'}") as opened:
        yield opened


def seeded(store: ConversationStore, *turns: tuple[str, str, str]) -> chat.OpenChat:
    """A stored conversation with (role, text, status) messages, opened."""
    conv = store.create_conversation(ANN, "omni", "Omni")
    for role, text, status in turns:
        store.append_message(ANN, conv.id, role, text, status=status)  # type: ignore[arg-type]
    return chat.open_conversation(store, ANN, conv.id)


# -- the model ----------------------------------------------------------------


def test_a_new_conversation_is_a_draft_that_opens_with_the_welcome(
    store: ConversationStore,
) -> None:
    draft = chat.new_draft(ANN, make_bot())
    assert draft.is_draft and draft.conversation.bot_slug == "omni"
    assert [(m.role, m.text, m.status) for m in draft.messages] == [
        ("assistant", "Hi!\nAsk me.", "complete")
    ]
    assert chat.new_draft(ANN, make_bot(welcome="  ")).messages == []
    assert store.list_conversations(ANN) == []  # nothing saved until the first prompt


def test_the_first_prompt_saves_the_draft_with_welcome_bot_and_options(
    store: ConversationStore,
) -> None:
    options = ConversationOptions(language="French", max_words=150)
    opened = chat.new_draft(ANN, make_bot(), options)
    changes.send_prompt(store, ANN, opened, "  Bonjour \n")
    assert not opened.is_draft
    again = chat.open_conversation(store, ANN, opened.id)
    assert again.conversation.options == options and again.conversation.bot_name == "Omni"
    assert again.conversation.title == "Bonjour"
    assert [(m.role, m.text) for m in again.messages] == [
        ("assistant", "Hi!\nAsk me."),
        ("user", "Bonjour"),
    ]
    with pytest.raises(ValueError):
        changes.send_prompt(store, ANN, opened, "   ")


def test_options_changes_are_saved_with_the_conversation(store: ConversationStore) -> None:
    opened = seeded(store, ("user", "hi", "complete"))
    changes.set_options(store, ANN, opened, ConversationOptions(use_search=True, max_words=500))
    assert store.get_conversation(ANN, opened.id).options.use_search is True


def test_only_the_options_that_are_set_are_sent() -> None:
    assert chat.api_options(ConversationOptions()) == {}
    assert chat.api_options(ConversationOptions(language="  ")) == {}
    assert chat.api_options(
        ConversationOptions(language=" Klingon ", max_words=40, use_search=True)
    ) == {"language": "Klingon", "max_words": 40, "use_search": True}


def test_the_apis_advice_on_answer_length_and_search() -> None:
    assert chat.advice(ConversationOptions()) == []
    assert chat.advice(ConversationOptions(max_words=500, use_search=True)) == []
    assert any("cut off" in n for n in chat.advice(ConversationOptions(max_words=50)))
    assert any("time out" in n for n in chat.advice(ConversationOptions(max_words=2500)))
    both = chat.advice(ConversationOptions(max_words=50, use_search=True))
    assert any("Web search" in n for n in both)


def test_choose_open(store: ConversationStore) -> None:
    omni, chef = make_bot("omni"), make_bot("chef", "Chef", "Bon appétit")
    bots = [omni, chef]
    first, notice = chat.choose_open(store, ANN, bots, None)
    assert first.conversation.bot_slug == "omni" and notice is None
    changes.send_prompt(store, ANN, first, "hi")
    assert chat.choose_open(store, ANN, bots, first, requested_slug="omni")[0] is first
    assert chat.choose_open(store, ANN, bots, first, requested_slug="gone")[0] is first
    fresh, _ = chat.choose_open(store, ANN, bots, first, new_requested=True)
    assert fresh.is_draft and fresh.messages[0].text == "Hi!\nAsk me."
    switched, _ = chat.choose_open(store, ANN, bots, first, requested_slug="chef")
    assert switched.conversation.bot_slug == "chef" and switched.messages[0].text == "Bon appétit"
    reopened, _ = chat.choose_open(store, ANN, bots, switched, requested_id=first.id)
    assert reopened.id == first.id and [m.text for m in reopened.messages][-1] == "hi"


def test_another_members_id_opens_nothing(store: ConversationStore) -> None:
    anns = seeded(store, ("user", "secret plans", "complete"))
    opened, notice = chat.choose_open(store, BOB, [make_bot()], None, requested_id=anns.id)
    assert opened.is_draft and notice == chat.NOT_FOUND_MESSAGE
    assert all("secret" not in m.text for m in opened.messages)


def test_a_conversation_deleted_elsewhere_falls_back_to_a_new_chat(
    store: ConversationStore,
) -> None:
    opened = seeded(store, ("user", "hi", "complete"))
    store.delete_conversation(ANN, opened.id)
    again, notice = chat.choose_open(store, ANN, [make_bot()], opened)
    assert again.is_draft and notice and "deleted" in notice


def test_bot_labels_are_unique_even_when_names_are_not() -> None:
    labels = chat.bot_labels(
        [make_bot("omni", "Omni"), make_bot("omni-fast", "Omni"), make_bot("chef", "Chef")]
    )
    assert labels == {"omni": "Omni (omni)", "omni-fast": "Omni (omni-fast)", "chef": "Chef"}


def test_a_saved_column_without_a_bot_name_is_labelled_by_its_slug() -> None:
    labels = chat.unique_labels({"omni": "Omni", "gone-bot": None, "omni-fast": "Omni"})
    assert labels == {
        "omni": "Omni (omni)",
        "gone-bot": "gone-bot",
        "omni-fast": "Omni (omni-fast)",
    }


# -- paging and context ---------------------------------------------------------


def test_only_the_shown_tail_is_loaded_and_show_earlier_adds_a_page(
    store: ConversationStore,
) -> None:
    turns = [("user" if i % 2 == 0 else "assistant", f"m{i}", "complete") for i in range(100)]
    opened = seeded(store, *turns)
    assert len(opened.messages) == chat.PAGE_SIZE and opened.total == 100
    assert opened.messages[-1].text == "m99" and opened.hidden == 100 - chat.PAGE_SIZE
    chat.show_earlier(opened)
    chat.refresh(store, ANN, opened)
    assert len(opened.messages) == 2 * chat.PAGE_SIZE and opened.messages[-1].text == "m99"


def test_the_context_is_capped_and_counts_what_was_left_out(store: ConversationStore) -> None:
    turns = [("user" if i % 2 == 0 else "assistant", f"m{i}", "complete") for i in range(500)]
    opened = seeded(store, *turns, ("user", "latest", "complete"))
    window = chat.context_before(
        store, ANN, opened.conversation, ContextLimits(max_messages=5, max_words=None)
    )
    assert window.messages == [
        {"role": "user", "content": "m496"},
        {"role": "assistant", "content": "m497"},
        {"role": "user", "content": "m498"},
        {"role": "assistant", "content": "m499"},
        {"role": "user", "content": "latest"},
    ]
    assert window.omitted == 496
    assert chat.context_rows(ContextLimits(max_messages=40, max_words=6000)) < 1000
    assert chat.context_rows(NO_CAP) is None


def test_no_omission_note_when_everything_fits(store: ConversationStore) -> None:
    opened = seeded(store, ("assistant", "welcome", "complete"), ("user", "hi", "complete"))
    window = chat.context_before(store, ANN, opened.conversation, ContextLimits())
    assert window.omitted == 0 and window.messages[0]["content"] == "welcome"
    assert chat.context_note(opened) is None
    opened.context_omitted = 3
    assert "3 earlier messages were left out" in (chat.context_note(opened) or "")


# -- regenerate, edit, retry -----------------------------------------------------


def test_regenerate_drops_only_a_finished_answer(store: ConversationStore) -> None:
    opened = seeded(store, ("assistant", "welcome", "complete"))
    assert not chat.can_regenerate(opened)  # the welcome is no answer to regenerate
    opened = seeded(store, ("user", "q", "complete"), ("assistant", "a", "complete"))
    assert chat.can_regenerate(opened)
    changes.prepare_regenerate(store, ANN, opened)
    assert chat.awaiting_answer(opened) and opened.last and opened.last.text == "q"


def test_last_controls_show_only_under_a_finished_answer(store: ConversationStore) -> None:
    answered = seeded(store, ("user", "q", "complete"), ("assistant", "a", "complete"))
    assert chat.last_controls_shown(answered, sending=False)
    # A prompt being sent: the controls belong to the exchange before it.
    assert not chat.last_controls_shown(answered, sending=True)
    # Its answer awaited or streaming (Retry, Regenerate, Edit all send again).
    waiting = seeded(store, ("user", "q", "complete"))
    assert not chat.last_controls_shown(waiting, sending=False)


def test_edit_replaces_the_last_prompt_and_its_answer(store: ConversationStore) -> None:
    opened = seeded(
        store,
        ("user", "first", "complete"),
        ("assistant", "one", "complete"),
        ("user", "typo", "complete"),
        ("assistant", "answer to typo", "complete"),
    )
    prompt = chat.last_prompt(opened)
    assert prompt is not None
    # Edit last message opens the prompt's edit box; its Send is a new branch.
    versions.edit_prompt(store, ANN, opened, prompt.id, "fixed")
    assert [m.text for m in store.all_messages(ANN, opened.id)] == ["first", "one", "fixed"]
    assert chat.awaiting_answer(opened)


def test_retry_drops_the_failed_answer_only(store: ConversationStore) -> None:
    opened = seeded(store, ("user", "hi", "complete"), ("assistant", "par", "interrupted"))
    assert chat.can_retry(opened) and not chat.awaiting_answer(opened)
    changes.prepare_retry(store, ANN, opened)
    assert opened.last and opened.last.text == "hi" and chat.awaiting_answer(opened)
    done = seeded(store, ("user", "hi", "complete"), ("assistant", "fine", "complete"))
    changes.prepare_retry(store, ANN, done)  # nothing to retry: a complete answer stays
    assert done.last and done.last.text == "fine"


# -- streaming against the emulator over loopback ----------------------------


@pytest.fixture
def client(emulator: EmulatorHandle, test_token: str) -> Iterator[AbltClient]:
    with AbltClient(bearer_token=test_token, base_url=emulator.base_url) as c:
        yield c


@pytest.fixture(autouse=True)
def no_retry_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ablt_core._retry, "sleep", lambda seconds: None)


def started(
    store: ConversationStore, client: AbltClient, options: ConversationOptions | None = None
) -> chat.OpenChat:
    bot = client.find_bot_by_slug("omni")
    assert bot is not None
    opened = chat.new_draft(ANN, bot, options)
    changes.send_prompt(store, ANN, opened, "How do I boil an egg?")
    return opened


def stored(store: ConversationStore, opened: chat.OpenChat) -> list[tuple[str, str, str]]:
    return [(m.role, m.status, m.text) for m in store.all_messages(ANN, opened.id)]


def test_an_answer_left_streaming_by_a_dead_process_becomes_interrupted(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    url = f"sqlite:///{tmp_path / 'chat.db'}"
    past = datetime.now(UTC) - timedelta(minutes=5)
    with ConversationStore(url, clock=lambda: past) as old:
        conv = old.create_conversation(ANN, "omni", "Omni")
        old.append_message(ANN, conv.id, "user", "hi")
        old.append_message(ANN, conv.id, "assistant", "half an ans", status="streaming")
    with ConversationStore(url) as store:
        fresh = store.create_conversation(ANN, "omni", "Omni")
        store.append_message(ANN, fresh.id, "user", "hi")
        store.append_message(ANN, fresh.id, "assistant", "still going", status="streaming")
        dead = chat.open_conversation(store, ANN, conv.id)
        assert dead.last and (dead.last.status, dead.last.text) == ("interrupted", "half an ans")
        # Saved a moment ago: another tab may still be streaming it; left alone.
        live = chat.open_conversation(store, ANN, fresh.id)
        assert live.last and live.last.status == AnswerStatus.STREAMING


def test_history_search_rename_pin_delete_import(store: ConversationStore) -> None:
    a = seeded(store, ("user", "Trip to Rome", "complete"), ("assistant", "Pack shoes", "complete"))
    b = seeded(store, ("user", "Egg recipes", "complete"))
    assert [c.id for _, cs in chat.load_history(store, ANN).sections for c in cs] == [b.id, a.id]
    assert [c.id for _, cs in chat.load_history(store, ANN, "shoes").sections for c in cs] == [a.id]
    chat.set_pinned(store, ANN, a, a.id, True)
    assert a.conversation.pinned
    assert chat.load_history(store, ANN).sections[0] == ("Pinned", [a.conversation])
    chat.rename(store, ANN, a, a.id, "Rome, again")
    assert a.conversation.title == "Rome, again"
    copy = chat.import_file(store, ANN, chat.export_json(store, ANN, a.id).encode())
    assert [m.text for m in store.all_messages(ANN, copy.id)] == ["Trip to Rome", "Pack shoes"]
    chat.delete(store, ANN, a.id)
    assert {c.id for _, cs in chat.load_history(store, ANN).sections for c in cs} == {b.id, copy.id}
    assert chat.load_history(store, BOB).sections == []


def test_every_message_with_text_can_be_copied_but_the_welcome(store: ConversationStore) -> None:
    opened = chat.new_draft(ANN, make_bot())
    (welcome,) = opened.messages
    assert chat.is_welcome(welcome) and not chat.can_copy(welcome)
    prompt = changes.send_prompt(store, ANN, opened, "Hello")
    answer = store.append_message(ANN, opened.id, "assistant", "Hi, Ann.")
    empty = store.append_message(ANN, opened.id, "assistant", "", status="error")
    saved_welcome = store.all_messages(ANN, opened.id)[0]
    assert chat.is_welcome(saved_welcome) and not chat.can_copy(saved_welcome)
    assert chat.can_copy(prompt) and chat.can_copy(answer)
    assert not chat.is_welcome(answer)
    assert not chat.can_copy(empty)  # nothing to copy


# -- a database that refuses writes ---------------------------------------------


def test_a_locked_database_stops_a_send_with_a_plain_message(
    tmp_path: Path, lock_sqlite: Callable[[Path], AbstractContextManager[None]]
) -> None:
    path = tmp_path / "chat.db"
    with ConversationStore(f"sqlite:///{path}") as store:
        opened = chat.new_draft(ANN, make_bot())
        with lock_sqlite(path), pytest.raises(changes.SendFailed) as failed:
            changes.send_prompt(store, ANN, opened, "Hello?")
        assert str(failed.value) == chat.PROMPT_NOT_SAVED
        assert isinstance(failed.value.__cause__, OperationalError)  # the real failure
        assert opened.is_draft and store.list_conversations(ANN) == []  # nothing half-saved

        changes.send_prompt(store, ANN, opened, "Hello?")  # the lock gone, the same text goes
        assert [m.text for m in store.all_messages(ANN, opened.id)][-1] == "Hello?"


def test_the_browser_tab_names_the_open_conversation_cut_at_whole_characters() -> None:
    from dataclasses import replace

    from webapp.chat.open_chat import APP_NAME, OpenChat, tab_title

    now = datetime(2026, 11, 30, tzinfo=UTC)
    conv = Conversation(
        id="c1", owner="ann", owner_user_id=1, bot_slug="omni", bot_name="Omni",
        title="Trip to\nRome", options=ConversationOptions(), created_at=now, updated_at=now,
    )  # fmt: skip
    assert tab_title(OpenChat(conversation=conv)) == f"Trip to Rome · {APP_NAME}"
    assert tab_title(OpenChat(conversation=replace(conv, id=""))) == APP_NAME  # a new chat
    flags = "🇫🇷" * 40  # 80 code points: the cut falls between two flags, not inside one
    title = tab_title(OpenChat(conversation=replace(conv, title=flags)))
    shown = title.removesuffix(f" · {APP_NAME}").removesuffix("…")
    assert shown and set(shown.split("🇫🇷")) == {""}
