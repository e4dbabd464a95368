"""The prompt library and share links on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.pg import BACKENDS, store_on
from webapp.conversations.context import ConversationOptions
from webapp.conversations.store import ConversationNotFound, ConversationStore
from webapp.library import (
    PromptLibrary,
    PromptNotFound,
    entry_options,
    fill_template,
    template_variables,
)
from webapp.sharing import ShareLinks, ShareNotAvailable


@dataclass(frozen=True)
class Member:
    """Stands in for `webapp.team.Member`: what the stores read."""

    username: str
    user_id: int
    role: str = "member"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


ANN = Member("ann", 1, "admin")
BOB = Member("bob", 2)
CAROL = Member("carol", 3)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "lib") as opened:
        yield opened


@pytest.fixture
def library(store: ConversationStore) -> PromptLibrary:
    return PromptLibrary(store)


@pytest.fixture
def links(store: ConversationStore) -> ShareLinks:
    return ShareLinks(store)


# ------------------------------------------------------------------ templates


def test_variables_are_named_once_in_order_of_use() -> None:
    text = "Dear {{customer}}, about {{ product name }} ... thanks, {{customer}}. {{}} {x}"
    assert template_variables(text) == ["customer", "product name"]


def test_filling_keeps_values_as_typed_and_unfilled_variables_as_written() -> None:
    text = "Write to {{customer}} about {{product}}."
    filled = fill_template(text, {"customer": "**Acme** $5 {{evil}}"})
    assert filled == "Write to **Acme** $5 {{evil}} about {{product}}."


# -------------------------------------------------------------------- library


def test_a_member_sees_own_and_shared_entries_but_not_others_private_ones(
    library: PromptLibrary,
) -> None:
    mine = library.create(BOB, "Bob's notes", starter_prompt="Summarise {{doc}}")
    team = library.create(ANN, "Support tone", system_instruction="Be kind.", shared=True)
    secret = library.create(ANN, "Ann's private", system_instruction="Internal only.")

    assert {e.id for e in library.visible(BOB)} == {mine.id, team.id}
    assert {e.id for e in library.visible(ANN)} == {team.id, secret.id}
    assert {e.id for e in library.visible(CAROL)} == {team.id}
    with pytest.raises(PromptNotFound):
        library.get(BOB, secret.id)
    assert library.get(CAROL, team.id).system_instruction == "Be kind."


def test_only_the_author_shares_or_deletes_and_unsharing_hides_it_again(
    library: PromptLibrary,
) -> None:
    entry = library.create(BOB, "Draft", system_instruction="Short answers.")
    with pytest.raises(PromptNotFound):
        library.set_shared(CAROL, entry.id, True)
    library.set_shared(BOB, entry.id, True)
    assert entry.id in {e.id for e in library.visible(CAROL)}
    with pytest.raises(PromptNotFound):
        library.delete(CAROL, entry.id)
    library.set_shared(BOB, entry.id, False)
    assert entry.id not in {e.id for e in library.visible(CAROL)}
    library.delete(BOB, entry.id)
    assert library.visible(BOB) == []


def test_admins_pin_shared_entries_to_the_top_of_everyones_list(library: PromptLibrary) -> None:
    library.create(ANN, "Alpha", system_instruction="a", shared=True)
    zulu = library.create(BOB, "Zulu", system_instruction="z", shared=True)
    private = library.create(BOB, "Private", system_instruction="p")
    with pytest.raises(PermissionError):
        library.set_pinned(BOB, zulu.id, True)
    library.set_pinned(ANN, zulu.id, True)
    assert [e.name for e in library.visible(CAROL)] == ["Zulu", "Alpha"]
    with pytest.raises(PromptNotFound):
        library.set_pinned(ANN, private.id, True)  # a private entry is no team entry


def test_search_finds_names_instructions_and_starters_case_insensitively(
    library: PromptLibrary,
) -> None:
    library.create(BOB, "Refund letter", starter_prompt="Write to {{customer}}")
    library.create(BOB, "Pirate", system_instruction="Talk like a PIRATE")
    assert [e.name for e in library.visible(BOB, "pirate")] == ["Pirate"]
    assert [e.name for e in library.visible(BOB, "CUSTOMER")] == ["Refund letter"]
    assert library.visible(BOB, "nothing like it") == []


def test_an_entry_needs_a_name_and_something_to_apply(library: PromptLibrary) -> None:
    with pytest.raises(ValueError, match="name"):
        library.create(BOB, "   ", system_instruction="x")
    with pytest.raises(ValueError, match="system instruction"):
        library.create(BOB, "Empty")


def test_applying_an_entry_sets_its_options_and_remembers_it(library: PromptLibrary) -> None:
    entry = library.create(
        BOB,
        "French, short",
        system_instruction="Answer as a sommelier.",
        options=ConversationOptions(language="French", max_words=150, use_search=True),
        bot_slug="chef",
    )
    options = entry_options(entry)
    assert options.language == "French" and options.max_words == 150 and options.use_search
    assert options.system_instruction == "Answer as a sommelier."
    assert options.library_prompt_id == entry.id
    assert library.get(BOB, entry.id).bot_slug == "chef"


# -------------------------------------------------------------------- sharing


def _conversation(store: ConversationStore, owner: Member, *texts: str) -> str:
    conv = store.create_conversation(owner, "omni", "Omni")
    for index, text in enumerate(texts):
        store.append_message(owner, conv.id, "user" if index % 2 == 0 else "assistant", text)
    return conv.id


def test_a_share_shows_the_messages_as_they_were_when_shared(
    store: ConversationStore, links: ShareLinks
) -> None:
    conv_id = _conversation(store, BOB, "What is a budget?", "A plan for money.")
    link = links.share(BOB, conv_id)
    store.append_message(BOB, conv_id, "user", "My salary is 1234, what should I do?")

    shown = links.open(link.token)
    assert [m.text for m in shown.conversation.messages] == [
        "What is a budget?",
        "A plan for money.",
    ]
    assert shown.link.owner == "bob" and shown.conversation.conversation.title
    assert [x.token for x in links.owned(BOB)] == [link.token]
    assert links.owned(CAROL) == []


def test_only_the_owner_shares_or_revokes_and_revoked_or_unknown_links_look_the_same(
    store: ConversationStore, links: ShareLinks
) -> None:
    conv_id = _conversation(store, BOB, "hello")
    with pytest.raises(ConversationNotFound):
        links.share(CAROL, conv_id)
    link = links.share(BOB, conv_id)
    with pytest.raises(ShareNotAvailable):
        links.revoke(CAROL, link.token)
    links.revoke(BOB, link.token)

    messages = set()
    for token in (link.token, "no-such-token", ""):
        with pytest.raises(ShareNotAvailable) as err:
            links.open(token)
        messages.add(str(err.value))
    assert len(messages) == 1 and "not available" in messages.pop()
    assert not links.owned(BOB)[0].active


def test_copy_into_my_chats_makes_an_own_copy_and_leaves_the_original(
    store: ConversationStore, links: ShareLinks
) -> None:
    conv_id = _conversation(store, BOB, "Plan a trip to Rome", "Day 1: the Colosseum.")
    link = links.share(BOB, conv_id)
    copy = links.copy_into(CAROL, link.token)
    assert copy.owner == "carol" and copy.id != conv_id
    assert [m.text for m in store.all_messages(CAROL, copy.id)] == [
        "Plan a trip to Rome",
        "Day 1: the Colosseum.",
    ]
    store.append_message(CAROL, copy.id, "user", "And day 2?")
    assert len(store.all_messages(BOB, conv_id)) == 2


def test_deleting_the_conversation_ends_its_links(
    store: ConversationStore, links: ShareLinks
) -> None:
    conv_id = _conversation(store, BOB, "temporary")
    link = links.share(BOB, conv_id)
    store.delete_conversation(BOB, conv_id)
    with pytest.raises(ShareNotAvailable):
        links.open(link.token)


def test_an_empty_conversation_cannot_be_shared(
    store: ConversationStore, links: ShareLinks
) -> None:
    conv = store.create_conversation(BOB, "omni", "Omni")
    with pytest.raises(ValueError, match="nothing to share"):
        links.share(BOB, conv.id)


def test_sharing_an_unchanged_conversation_again_gives_the_same_link(
    store: ConversationStore, links: ShareLinks
) -> None:
    conv_id = _conversation(store, BOB, "What is a tide?", "The sea rising and falling.")
    first = links.share(BOB, conv_id)
    assert links.share(BOB, conv_id).token == first.token
    assert [x.token for x in links.owned(BOB)] == [first.token]  # one row on Shared

    store.append_message(BOB, conv_id, "user", "And a neap tide?")
    later = links.share(BOB, conv_id)  # a new snapshot: a new link; the first one stays
    assert later.token != first.token and later.message_count == 3
    assert links.open(first.token).link.message_count == 2

    links.revoke(BOB, later.token)  # revoked: sharing again makes a fresh one
    again = links.share(BOB, conv_id)
    assert again.token not in (first.token, later.token)
    assert len(links.owned(BOB)) == 3


def test_tokens_are_long_and_distinct(store: ConversationStore, links: ShareLinks) -> None:
    conv_id = _conversation(store, BOB, "x")
    tokens = set()
    for n in range(20):  # a new message each time: each share is a new snapshot
        tokens.add(links.share(BOB, conv_id).token)
        store.append_message(BOB, conv_id, "user", f"message {n}")
    assert len(tokens) == 20 and all(len(t) >= 22 for t in tokens)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", t) for t in tokens), "URL-safe as they are"


# ------------------------------------------------ hostile input (issue 12, 13 item 10)


def test_a_stored_entry_option_outside_the_limits_falls_back_instead_of_crashing(
    store: ConversationStore, library: PromptLibrary
) -> None:
    import sqlalchemy as sa

    from webapp.db import schema

    entry = library.create(
        BOB, "Long", starter_prompt="Hi", options=ConversationOptions(max_words=300)
    )
    with store.transaction(write=True) as conn:
        conn.execute(
            sa.update(schema.prompts)
            .where(schema.prompts.c.id == entry.id)
            .values(options='{"max_words": 50000, "language": "French"}')
        )
    options = library.get(BOB, entry.id).options
    assert (options.max_words, options.language) == (20_000, "French")


def test_a_copied_share_ending_in_a_prompt_is_not_answered_until_sent(
    store: ConversationStore, links: ShareLinks
) -> None:
    from webapp.chat import open_chat as chat

    conv_id = _conversation(store, BOB, "Plan a trip", "Day 1.", "And a 5000-word essay?")
    copy = links.copy_into(CAROL, links.share(BOB, conv_id).token)
    opened = chat.open_conversation(store, CAROL, copy.id)
    assert not chat.awaiting_answer(opened) and chat.unsent_prompt(opened) is not None


def test_a_snapshot_that_no_longer_reads_is_not_available_not_a_crash(
    store: ConversationStore, links: ShareLinks
) -> None:
    import sqlalchemy as sa

    from webapp.db.schema import shares

    conv_id = _conversation(store, BOB, "hello")
    link = links.share(BOB, conv_id)
    with store.transaction(write=True) as conn:  # written under other limits than today's
        conn.execute(
            sa.update(shares).where(shares.c.token == link.token).values(snapshot='{"max_words":')
        )
    with pytest.raises(ShareNotAvailable):
        links.open(link.token)


# -- every placeholder asked for or named (issue 28, items 12 and 8) ------------------------

REPORTED = "Write to {{first name}} about {{topic?}} by {{due.date}}"


def store_entry_directly(library: PromptLibrary, owner: Member, starter: str) -> str:
    """An entry written as an older version stored it (no cap at creation): its id."""
    import datetime as dt
    import uuid

    import sqlalchemy as sa

    from webapp.db.schema import prompts as P

    entry_id, now = str(uuid.uuid4()), dt.datetime.now(dt.UTC)
    with library._store.transaction(write=True) as conn:
        conn.execute(
            sa.insert(P).values(
                id=entry_id,
                owner=owner.username,
                name="Old entry with many variables",
                system_instruction="",
                starter_prompt=starter,
                options=ConversationOptions().model_dump_json(),
                bot_slug=None,
                shared=True,
                pinned=False,
                created_at=now,
                updated_at=now,
            )
        )
    return entry_id


def test_placeholders_with_punctuation_are_asked_for() -> None:
    assert template_variables(REPORTED) == ["first name", "topic?", "due.date"]
    filled = fill_template(REPORTED, {"first name": "Ann", "topic?": "fees", "due.date": "Friday"})
    assert filled == "Write to Ann about fees by Friday"


@pytest.mark.parametrize(
    ("text", "asked", "unasked"),
    [
        (REPORTED, ["first name", "topic?", "due.date"], []),
        ("{{ e-mail/phone (optional) }} {{ x! }}", ["e-mail/phone (optional)", "x!"], []),
        ("{{}} and {{  }} and {{name}}", ["name"], ["{{}}", "{{  }}"]),
        ("{{two\nlines}}", [], ["{{two\nlines}}"]),
        ("{{" + "y" * 61 + "}}", [], ["{{" + "y" * 61 + "}}"]),
        ("{{" + "y" * 60 + "}}", ["y" * 60], []),
        ("{{{x}}} and {{ a {{b}} }}", ["x", "b"], ["{{ a … }}"]),
        ("{x} {{ plain text", [], []),  # no pair of double braces: nothing to name
    ],
)
def test_every_placeholder_is_asked_for_or_named(
    text: str, asked: list[str], unasked: list[str]
) -> None:
    from webapp.library.prompts import unasked_placeholders

    assert template_variables(text) == asked
    assert unasked_placeholders(text) == unasked
    # Whatever stays in the filled text between double braces is named.
    filled = fill_template(text, dict.fromkeys(asked, "V"))
    left = re.findall(r"\{\{.*?\}\}", filled, re.DOTALL)
    assert set(left) == {u.replace("…", "V") for u in unasked}


def test_saving_names_the_placeholders_that_stay_as_typed(library: PromptLibrary) -> None:
    from webapp.library.prompts import unasked_note

    entry = library.create(BOB, "Letter", starter_prompt="Hi {{name}}, {{}} and {{a\nb}}")
    assert entry.variables == ["name"]
    assert entry.unasked == ["{{}}", "{{a\nb}}"]
    note = unasked_note(entry.starter_prompt)
    assert note is not None and note.startswith("These will stay as typed")
    assert "\\{\\{\\}\\}" in note  # shown literally, not as Markdown
    assert unasked_note(REPORTED) is None


def test_a_new_entry_asks_for_at_most_the_cap_of_values(library: PromptLibrary) -> None:
    from webapp.limits import LIBRARY_MAX_VARIABLES

    assert LIBRARY_MAX_VARIABLES == 20
    ok = " ".join(f"{{{{v{n}}}}}" for n in range(20))
    assert len(library.create(BOB, "Twenty", starter_prompt=ok).variables) == 20
    for count in (21, 2_200):  # 2,200 fit in the form's 20,000 characters
        starter = "".join(f"{{{{v{n}}}}}" for n in range(count))
        assert len(starter) <= 20_000
        with pytest.raises(ValueError, match=f"at most 20 values.*asks for {count:,}"):
            library.create(BOB, "Too many", starter_prompt=starter, shared=True)
    assert [e.name for e in library.visible(CAROL)] == []  # nothing was saved


def test_an_entry_stored_over_the_cap_opens_and_asks_for_the_first_values_only(
    library: PromptLibrary,
) -> None:
    from webapp.library.prompts import unasked_placeholders

    starter = " ".join(f"{{{{v{n}}}}}" for n in range(2_200))
    entry = library.get(CAROL, store_entry_directly(library, ANN, starter))
    assert entry.variables == [f"v{n}" for n in range(20)]
    assert len(unasked_placeholders(starter)) == 2_180
    filled = fill_template(starter, dict.fromkeys(entry.variables, "x"))
    assert filled.startswith("x x x") and filled.endswith("{{v2199}}")


# ------------------------------------------------ what a share hands over (issue 28 item 9)


def _instructed(store: ConversationStore, owner: Member, library: PromptLibrary) -> str:
    """A conversation started from a private library entry with a hidden instruction."""
    entry = library.create(owner, "Secret voice", system_instruction="Internal: never refund.")
    conv = store.create_conversation(
        owner,
        "omni",
        "Omni",
        options=ConversationOptions(
            system_instruction="Internal: never refund.",
            library_prompt_id=entry.id,
            language="French",
        ),
    )
    store.append_message(owner, conv.id, "user", "Can I get my money back?")
    store.append_message(owner, conv.id, "assistant", "Let me look.")
    return conv.id


def test_a_share_leaves_out_the_owners_system_instruction_and_library_entry(
    store: ConversationStore, links: ShareLinks, library: PromptLibrary
) -> None:
    import sqlalchemy as sa

    from webapp.db.schema import shares

    conv_id = _instructed(store, BOB, library)
    link = links.share(BOB, conv_id)
    with store.transaction() as conn:
        stored = conn.execute(
            sa.select(shares.c.snapshot).where(shares.c.token == link.token)
        ).scalar_one()
    assert "never refund" not in stored and '"library_prompt_id": null' in stored
    options = links.open(link.token).conversation.conversation.options
    assert (options.system_instruction, options.library_prompt_id) == (None, None)
    assert options.language == "French"  # the visible settings still travel
    copy = links.copy_into(CAROL, link.token)
    assert copy.options.system_instruction is None and copy.options.library_prompt_id is None
    # The owner's own conversation keeps its instruction.
    assert store.get_conversation(BOB, conv_id).options.system_instruction


def test_a_snapshot_stored_with_an_instruction_before_the_fix_is_copied_without_it(
    store: ConversationStore, links: ShareLinks, library: PromptLibrary
) -> None:
    import sqlalchemy as sa

    from webapp.db.schema import shares

    conv_id = _instructed(store, BOB, library)
    link = links.share(BOB, conv_id)
    with store.transaction(write=True) as conn:  # as an older version stored it
        conn.execute(
            sa.update(shares)
            .where(shares.c.token == link.token)
            .values(snapshot=store.export_json(BOB, conv_id))
        )
    assert links.open(link.token).conversation.conversation.options.system_instruction is None
    copy = links.copy_into(CAROL, link.token)
    assert copy.options.system_instruction is None and copy.options.library_prompt_id is None
