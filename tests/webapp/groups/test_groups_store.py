"""Groups in the database (issue 22): changes, access, and the groups claim.

On a real SQLite file and on PostgreSQL (ABLT_TEST_PG_URL).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import BACKENDS, store_on
from webapp.audit import AuditLog
from webapp.conversations.store import ConversationStore
from webapp.groups import store as groups
from webapp.groups.model import MAX_CLAIM_NAMES, GroupError, TeamBots
from webapp.team.members import MemberStore

PASSWORD = "correct horse battery staple"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "groups") as opened:
        team = MemberStore(opened.engine)
        team.add("admin", name="Admin", email="a@example.com", password=PASSWORD, role="admin")
        team.add("alice", name="Alice", email="alice@example.com", password=PASSWORD)
        team.add("bob", name="Bob", email="bob@example.com", password=PASSWORD)
        yield opened


def test_a_group_is_created_renamed_and_its_name_is_unique(store: ConversationStore) -> None:
    engine = store.engine
    sales = groups.create_group(engine, "  Sales  ", "The **sales** team", actor="admin")
    assert sales.name == "Sales" and sales.all_bots and not sales.members
    with pytest.raises(GroupError, match="exists already"):
        groups.create_group(engine, "SALES", actor="admin")
    with pytest.raises(GroupError, match="needs a name"):
        groups.create_group(engine, " \n ", actor="admin")
    with pytest.raises(GroupError, match="at most 200"):
        groups.create_group(engine, "x" * 201, actor="admin")
    renamed = groups.update_group(engine, sales.id, name="Sales EU", actor="admin")
    assert renamed.name == "Sales EU" and renamed.description == "The **sales** team"
    assert [g.name for g in groups.list_groups(engine)] == ["Sales EU"]
    actions = [e.action for e in AuditLog(engine).entries()]
    assert "create group" in actions and "change group" in actions


def test_access_any_group_allowing_a_bot_is_enough(store: ConversationStore) -> None:
    engine = store.engine
    a = groups.create_group(engine, "A", actor="admin")
    b = groups.create_group(engine, "B", actor="admin")
    groups.set_group_bots(engine, a.id, False, ["omni"], actor="admin")
    groups.set_group_bots(engine, b.id, False, ["coder"], actor="admin")
    groups.add_member(engine, a.id, "alice", actor="admin")
    assert groups.may_use(engine, "alice", "omni")
    assert not groups.may_use(engine, "alice", "coder")
    groups.add_member(engine, b.id, "Alice", actor="admin")
    access = groups.access_for(engine, "alice")
    assert access.allows("omni") and access.allows("coder") and not access.allows("writer")
    assert access.groups == ("A", "B")
    groups.set_group_bots(engine, b.id, True, actor="admin")
    assert groups.may_use(engine, "alice", "writer")
    # bob is in no group: the team's setting (every bot until an admin chooses)
    assert groups.may_use(engine, "bob", "writer")
    groups.set_team_bots(engine, False, ["omni"], actor="admin")
    assert groups.team_bots(engine) == TeamBots(False, frozenset({"omni"}))
    assert groups.may_use(engine, "bob", "omni") and not groups.may_use(engine, "bob", "coder")
    assert "no group" in (groups.access_for(engine, "bob").why_not("Coder") or "")


def test_deleting_a_group_keeps_conversations(store: ConversationStore) -> None:
    engine = store.engine
    alice = MemberStore(engine).get("alice")
    assert alice is not None
    team = groups.create_group(engine, "Team", actor="admin")
    groups.set_group_bots(engine, team.id, False, ["omni"], actor="admin")
    groups.add_member(engine, team.id, "alice", actor="admin")
    conversation = store.create_conversation(alice, "omni", "Omni")
    store.append_message(alice, conversation.id, "user", "Hello")
    groups.delete_group(engine, team.id, actor="admin")
    assert groups.list_groups(engine) == []
    assert store.get_conversation(alice, conversation.id).bot_slug == "omni"
    with pytest.raises(groups.GroupNotFound):
        groups.add_member(engine, team.id, "alice", actor="admin")


def test_hand_changes_refuse_unknown_members(store: ConversationStore) -> None:
    engine = store.engine
    g = groups.create_group(engine, "G", actor="admin")
    with pytest.raises(GroupError, match="No member"):
        groups.add_member(engine, g.id, "mallory", actor="admin")
    assert groups.add_member(engine, g.id, "bob", actor="admin")
    assert not groups.add_member(engine, g.id, "bob", actor="admin")
    assert groups.remove_member(engine, g.id, "bob", actor="admin")
    assert not groups.remove_member(engine, g.id, "bob", actor="admin")


def test_group_budget_checked(store: ConversationStore) -> None:
    engine = store.engine
    g = groups.create_group(engine, "G", actor="admin")
    assert groups.set_group_budget(engine, g.id, 500, "tokens", actor="admin").monthly_limit == 500
    with pytest.raises(GroupError):
        groups.set_group_budget(engine, g.id, -1, actor="admin")
    with pytest.raises(GroupError):
        groups.set_group_budget(engine, g.id, 5, "pages", actor="admin")
    groups.add_member(engine, g.id, "bob", actor="admin")
    assert groups.group_limits(engine, "bob") == [("G", 500, "tokens")]


# ------------------------------------------------------------ the groups claim


def test_claim_places_member_in_exactly_the_idp_groups_named(store: ConversationStore) -> None:
    engine = store.engine
    sales = groups.create_group(engine, "Sales", actor="admin", managed_by_idp=True)
    support = groups.create_group(engine, "Support", actor="admin", managed_by_idp=True)
    hand = groups.create_group(engine, "Hand", actor="admin")
    groups.add_member(engine, hand.id, "alice", actor="admin")
    groups.add_member(engine, support.id, "alice", actor="admin")

    change = groups.place_by_claim(engine, "alice", ["sales", "Hand", "Unknown"])
    assert change.joined == ("Sales",) and change.left == ("Support",)
    assert change.ignored == 2  # a hand-managed group and an unknown name
    names = sorted(g.name for g in groups.groups_of(engine, "alice"))
    assert names == ["Hand", "Sales"]  # the hand-managed group is left alone
    # Again with the same claim: nothing changes, nothing new is audited.
    before = len(AuditLog(engine).entries())
    assert not groups.place_by_claim(engine, "alice", ["SALES"]).changed
    assert len(AuditLog(engine).entries()) == before
    # By user id; an empty claim takes the member out of every IdP-managed group.
    alice = MemberStore(engine).get("alice")
    assert alice is not None
    assert groups.place_by_claim(engine, alice.user_id, []).left == ("Sales",)
    assert sales.id not in {g.id for g in groups.groups_of(engine, "alice")}
    with pytest.raises(GroupError):
        groups.place_by_claim(engine, "nobody", ["Sales"])


def test_claim_of_ten_thousand_names_is_capped(store: ConversationStore) -> None:
    engine = store.engine
    early = groups.create_group(engine, "g-10", actor="admin", managed_by_idp=True)
    late = groups.create_group(engine, "g-5000", actor="admin", managed_by_idp=True)
    claim = [f"g-{i}" for i in range(10_000)]
    change = groups.place_by_claim(engine, "bob", claim)
    assert change.groups == (early.name,)  # past the first 1,000 names: not read
    assert late.name not in change.groups
    assert change.ignored == 10_000 - 1
    assert MAX_CLAIM_NAMES == 1000


def test_claim_with_a_5000_character_name_and_markup(store: ConversationStore) -> None:
    engine = store.engine
    markup = groups.create_group(
        engine, "<b>Ops</b> **team** [x](javascript:1)", actor="admin", managed_by_idp=True
    )
    huge = "A" * 5000
    claim = [huge, "<b>ops</b> **TEAM** [x](javascript:1)", 42, None, "<script>"]
    change = groups.place_by_claim(engine, "bob", claim)  # type: ignore[list-item]
    assert change.groups == (markup.name,)
    detail = AuditLog(engine).entries(member="bob")[0].detail
    assert huge not in detail and "<script>" not in detail
    assert markup.name in detail  # the group's own name, as the admin typed it


def test_a_removed_member_leaves_their_groups(store: ConversationStore) -> None:
    engine = store.engine
    g = groups.create_group(engine, "G", actor="admin")
    groups.add_member(engine, g.id, "bob", actor="admin")
    MemberStore(engine).remove("bob")
    MemberStore(engine).add("bob", name="New Bob", email="b2@example.com", password=PASSWORD)
    assert groups.groups_of(engine, "bob") == []  # a later member of that name starts in none
