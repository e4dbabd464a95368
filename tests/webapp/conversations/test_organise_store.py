"""Folders, tags, archive and temporary chats in the store (issue 26), on
SQLite and PostgreSQL (`db_url` from conftest.py)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.conversations import organise as names
from webapp.conversations.store import (
    ANY_FOLDER,
    ConversationNotFound,
    ConversationStore,
    FolderNotFound,
    HistoryCursor,
)
from webapp.db import schema
from webapp.history import organising

from .store_helpers import Clock, Member, chat


def ids(store: ConversationStore, owner: Member, **kw: object) -> list[str]:
    return [c.id for c in store.list_conversations(owner, **kw)]  # type: ignore[arg-type]


def test_folders_nest_one_level_count_and_file_conversations(
    store: ConversationStore, ann: Member
) -> None:
    org = store.organise
    work = org.create_folder(ann, "  Work\n stuff ")
    clients = org.create_folder(ann, "Clients", parent_id=work.id)
    home = org.create_folder(ann, "home")
    assert work.name == "Work stuff"
    with pytest.raises(ValueError, match="cannot hold folders"):
        org.create_folder(ann, "Too deep", parent_id=clients.id)
    with pytest.raises(ValueError):
        org.create_folder(ann, "   ")
    assert len(org.create_folder(ann, "x" * 500).name) == names.FOLDER_NAME_MAX_CHARS

    a, b, c = (chat(store, ann, t) for t in ("alpha", "beta", "gamma"))
    assert org.move(ann, [a, b], work.id) == 2
    assert org.move(ann, [b], clients.id) == 1  # at most one folder: moved, not copied
    listed = {f.name: (f.count, f.parent_id) for f in org.folders(ann)}
    assert listed["Work stuff"] == (1, None)
    assert listed["Clients"] == (1, work.id)
    assert listed["home"] == (0, None)
    # Each top-level folder by name, its subfolders after it.
    assert [f.name for f in org.folders(ann)][:3] == ["home", "Work stuff", "Clients"]

    assert ids(store, ann, folder=work.id) == [a]
    assert ids(store, ann, folder=None) == [c]  # the date groups: in no folder
    assert set(ids(store, ann, folder=ANY_FOLDER)) == {a, b, c}
    assert store.get_conversation(ann, b).folder_id == clients.id

    assert org.rename_folder(ann, home.id, "Home").name == "Home"
    assert org.move(ann, [a], None) == 1
    assert store.get_conversation(ann, a).folder_id is None


def test_deleting_a_folder_moves_or_deletes_its_conversations(
    store: ConversationStore, ann: Member
) -> None:
    org = store.organise
    keep = org.create_folder(ann, "Keep")
    sub = org.create_folder(ann, "Sub", parent_id=keep.id)
    drop = org.create_folder(ann, "Drop")
    a, b, c = (chat(store, ann, t) for t in ("one", "two", "three"))
    org.move(ann, [a], keep.id)
    org.move(ann, [b], sub.id)
    org.move(ann, [c], drop.id)
    org.set_tags(ann, c, ["x"])

    assert org.delete_folder(ann, keep.id) == 2
    assert [f.name for f in org.folders(ann)] == ["Drop"]  # its subfolder went with it
    assert set(ids(store, ann, folder=None)) == {a, b}  # to "no folder", kept

    assert org.delete_folder(ann, drop.id, delete_conversations=True) == 1
    assert org.folders(ann) == []
    with pytest.raises(ConversationNotFound):
        store.get_conversation(ann, c)
    with store.transaction() as conn:
        assert conn.execute(sa.select(schema.conversation_tags)).all() == []
    with pytest.raises(FolderNotFound):
        org.delete_folder(ann, drop.id)


def test_tags_are_cleaned_listed_and_filter_all_must_match(
    store: ConversationStore, ann: Member
) -> None:
    org = store.organise
    a, b, c = (chat(store, ann, t) for t in ("one", "two", "three"))
    assert org.set_tags(ann, a, ["Work", "#urgent", "work", " big  idea "]) == [
        "work",
        "urgent",
        "big-idea",
    ]
    org.set_tags(ann, b, ["work"])
    assert org.add_tags(ann, [b, c], ["urgent", "new"]) == 2
    assert org.member_tags(ann) == ["big-idea", "new", "urgent", "work"]
    assert org.tags_for(ann, [a, b, c]) == {
        a: ["big-idea", "urgent", "work"],
        b: ["new", "urgent", "work"],
        c: ["new", "urgent"],
    }
    assert set(ids(store, ann, tags=["work"])) == {a, b}
    assert set(ids(store, ann, tags=["work", "urgent"])) == {a, b}
    assert ids(store, ann, tags=["work", "big-idea"]) == [a]
    assert ids(store, ann, tags=["work", "nothing"]) == []
    with pytest.raises(ValueError, match="at most"):
        org.set_tags(ann, a, [f"t{n}" for n in range(names.MAX_TAGS_PER_CONVERSATION + 1)])


def test_a_list_typed_in_the_tag_box_is_several_tags(store: ConversationStore, ann: Member) -> None:
    """Issue: "urgent, demo" typed in the tag box became one tag "urgent,-demo"."""
    org = store.organise
    a, b = chat(store, ann, "one"), chat(store, ann, "two")
    assert org.set_tags(ann, a, ["urgent, demo"]) == ["urgent", "demo"]
    assert org.tags_for(ann, [a]) == {a: ["demo", "urgent"]}
    # Semicolons, the Arabic and ideographic commas, line breaks; each trimmed,
    # empties and repeats dropped, the usual cleaning (case, spaces, "#") kept.
    typed = ["Work; #Big Idea", "عاجل، عرض", " ,, ;", "会議、work", "a\nb", "Urgent"]
    assert org.set_tags(ann, a, typed) == [
        "work",
        "big-idea",
        "عاجل",
        "عرض",
        "会議",
        "a",
        "b",
        "urgent",
    ]
    assert org.add_tags(ann, [b], ["x,y", "y"]) == 1
    assert org.tags_for(ann, [b]) == {b: ["x", "y"]}
    # The cap counts tags after the split: 21 in one typed entry is too many.
    many = ", ".join(f"t{n}" for n in range(names.MAX_TAGS_PER_CONVERSATION + 1))
    with pytest.raises(ValueError, match="at most"):
        org.set_tags(ann, a, [many])
    assert org.tags_for(ann, [a])[a][0] == "a"  # the refused set changed nothing
    exactly = ", ".join(f"t{n}" for n in range(names.MAX_TAGS_PER_CONVERSATION))
    assert len(org.set_tags(ann, a, [exactly])) == names.MAX_TAGS_PER_CONVERSATION
    assert names.clean_tags([" , ;، "]) == []


def test_folders_and_tags_are_the_members_own(
    store: ConversationStore, ann: Member, bob: Member
) -> None:
    org = store.organise
    mine = chat(store, ann, "mine")
    theirs = chat(store, bob, "theirs")
    folder = org.create_folder(ann, "Secret plans")
    org.set_tags(ann, mine, ["private"])
    assert org.folders(bob) == [] and org.member_tags(bob) == []
    assert org.tags_for(bob, [mine]) == {}
    assert ids(store, bob, tags=["private"]) == []
    # Bob can neither file into Ann's folder nor move, tag or archive her conversation.
    with pytest.raises(FolderNotFound):
        org.move(bob, [theirs], folder.id)
    with pytest.raises(FolderNotFound):
        org.rename_folder(bob, folder.id, "mine now")
    with pytest.raises(FolderNotFound):
        org.delete_folder(bob, folder.id, delete_conversations=True)
    assert org.move(bob, [mine], None) == 0
    assert org.add_tags(bob, [mine], ["hijack"]) == 0
    with pytest.raises(ConversationNotFound):
        org.set_tags(bob, mine, ["hijack"])
    assert org.archive(bob, [mine]) == 0
    assert org.delete_many(bob, [mine]) == 0
    assert org.tags_for(ann, [mine]) == {mine: ["private"]}
    assert ids(store, ann) == [mine]


def test_archive_restore_and_search_including_archived(
    store: ConversationStore, ann: Member, clock: Clock
) -> None:
    org = store.organise
    old = chat(store, ann, "an old recipe")
    clock.advance(days=40)
    folder = org.create_folder(ann, "F")
    filed = chat(store, ann, "a filed recipe")
    org.move(ann, [filed], folder.id)
    clock.advance(days=1)
    new = chat(store, ann, "a new recipe")

    assert org.archive_older_than(ann, clock() - timedelta(days=10)) == 1
    assert ids(store, ann) == [new, filed]
    assert ids(store, ann, archived=True) == [old]
    assert org.archive_folder(ann, folder.id) == 1
    assert ids(store, ann, query="recipe") == [new]
    assert ids(store, ann, query="recipe", archived=True) == [filed, old]
    assert ids(store, ann, query="recipe", archived=None) == [new, filed, old]
    assert [f.count for f in org.folders(ann)] == [0]  # counts are History's
    # Archived ones still open and export whole.
    assert "old recipe" in store.export_markdown(ann, old)
    assert store.get_conversation(ann, old).archived_at is not None

    assert org.restore(ann, [old, filed]) == 2
    assert ids(store, ann) == [new, filed, old]
    assert org.archive(ann, [new]) == 1
    assert org.delete_many(ann, [new, old]) == 2
    assert ids(store, ann, archived=None) == [filed]


def test_keyset_paging_holds_within_a_filter(store: ConversationStore, ann: Member) -> None:
    org = store.organise
    folder = org.create_folder(ann, "Many")
    made = [chat(store, ann, f"chat {n}") for n in range(25)]
    org.move(ann, made[::2], folder.id)
    org.archive(ann, made[1::4])
    expected = ids(store, ann, folder=folder.id)
    seen: list[str] = []
    after: HistoryCursor | None = None
    while page := store.list_conversations(ann, limit=4, after=after, folder=folder.id):
        seen.extend(c.id for c in page)
        after = HistoryCursor.after(page[-1])
    assert seen == expected and len(seen) == 13
    archived = ids(store, ann, archived=True)
    seen = []
    after = None
    while page := store.list_conversations(ann, limit=2, after=after, archived=True):
        seen.extend(c.id for c in page)
        after = HistoryCursor.after(page[-1])
    assert seen == archived and len(seen) == 6


def test_temporary_chats_are_never_listed_and_leave_no_trace(
    store: ConversationStore, ann: Member, clock: Clock
) -> None:
    org = store.organise
    kept = store.create_conversation(ann, "helper", "Helper", temporary=True)
    store.append_message(ann, kept.id, "user", "a kept secret")
    left = store.create_conversation(ann, "helper", "Helper", temporary=True)
    store.append_message(ann, left.id, "user", "another temporary secret")
    assert ids(store, ann, archived=None) == []
    assert ids(store, ann, query="secret", archived=None) == []
    assert org.archive(ann, [left.id]) == 0 and org.move(ann, [left.id], None) == 0

    assert org.keep(ann, kept.id).temporary is False
    assert ids(store, ann) == [kept.id]
    assert org.discard_temporary(ann, kept.id) is False  # kept: not a temporary any more
    assert org.discard_temporary(ann, left.id) is True
    with pytest.raises(ConversationNotFound):
        store.get_conversation(ann, left.id)

    again = store.create_conversation(ann, "helper", "Helper", temporary=True)
    store.append_message(ann, again.id, "user", "gone at logout")
    assert org.delete_temporaries(ann) == 1
    with store.transaction() as conn:
        texts = conn.execute(sa.select(schema.messages.c.text)).scalars().all()
    assert all("temporary" not in t and "logout" not in t for t in texts)

    stale = store.create_conversation(ann, "helper", "Helper", temporary=True)
    clock.advance(hours=2)
    fresh = store.create_conversation(ann, "helper", "Helper", temporary=True)
    assert org.sweep_temporaries(timedelta(hours=1)) == 1
    store.get_conversation(ann, fresh.id)
    with pytest.raises(ConversationNotFound):
        store.get_conversation(ann, stale.id)


def test_search_words_split_tags_from_text() -> None:
    found = names.parse_search("tag:Work  budget tag: Q3 TAG:urgent", ["#Big Idea"])
    assert found.text == "budget Q3"
    assert found.tags == ("big-idea", "work", "urgent")
    assert not names.parse_search("  ").active
    assert names.parse_search("tag:urgent,demo report").tags == ("urgent", "demo")


def test_comparisons_are_filed_tagged_and_archived_like_chats(
    store: ConversationStore, ann: Member
) -> None:
    org = store.organise
    comparison = store.create_conversation(ann, "helper", "Helper", kind="comparison")
    column = store.create_conversation(
        ann, "helper", "Helper", kind="column", parent_id=comparison.id
    )
    folder = org.create_folder(ann, "Evaluations")
    assert org.move(ann, [comparison.id, column.id], folder.id) == 1  # columns follow theirs
    org.set_tags(ann, comparison.id, ["bake-off"])
    assert ids(store, ann, folder=folder.id, tags=["bake-off"]) == [comparison.id]
    assert org.archive(ann, [comparison.id]) == 1
    assert ids(store, ann, archived=True) == [comparison.id]


def test_bulk_export_zips_each_conversation_archived_ones_too_and_they_import_back(
    store: ConversationStore, ann: Member, bob: Member
) -> None:
    same = [chat(store, ann, "Same title", "answer one"), chat(store, ann, "Same title", "two")]
    archived = chat(store, ann, "Put away", "still exported")
    store.organise.archive(ann, [archived])
    theirs = chat(store, bob, "Not yours")
    data = organising.export_zip(store, ann, [*same, archived, theirs])
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        names_ = bundle.namelist()
        assert len(names_) == 3 and len(set(names_)) == 3  # one title twice: two files
        texts = [bundle.read(n) for n in names_]
    for text in texts:
        store.import_conversation(bob, text)
    assert sorted(c.title for c in store.list_conversations(bob)) == [
        "Not yours",
        "Put away",
        "Same title",
        "Same title",
    ]
