"""A member's data and the team's retention through the real app (issue 25):
"Download all my data" built in the background and fetched once by its link,
"Erase my data" with a typed confirmation, the admin's retention rules and
cleanup, and removing a member with their data erased."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from webapp.audit import AuditLog
from webapp.conversations.store import ConversationStore
from webapp.db import schema
from webapp.lifecycle import retention
from webapp.lifecycle.downloads import ROUTE_PATH, DataDownloads
from webapp.team import MemberStore
from webapp.ui.state import Keys

from .conftest import log_in

pytestmark = pytest.mark.usefixtures("demo_env")


@pytest.fixture(autouse=True)
def export_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "exports"
    monkeypatch.setenv("ABLT_EXPORT_DIR", str(folder))
    return folder


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run()


def chat(at: AppTest, text: str) -> None:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, at.exception


def until(at: AppTest, label: str, tries: int = 50) -> AppTest:
    """Rerun until a button labelled `label` is drawn (the download is built meanwhile)."""
    for _ in range(tries):
        if any(b.label == label for b in at.button):
            return at
        at.run()
    raise AssertionError(f"no {label!r} button; errors: {[e.value for e in at.error]}")


def test_a_member_downloads_all_their_data_through_a_one_time_link(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore, export_dir: Path
) -> None:
    at = logged_in("demo-member")
    chat(at, "Plan a day in Lisbon")
    at.switch_page("views/account.py").run()
    click(at, "Download all my data")
    assert not at.exception, at.exception
    until(at, "Get a download link")
    assert any("Ready: 1 conversations" in c.value for c in at.caption)
    click(at, "Get a download link")
    links = at.get("link_button")
    assert len(links) == 1
    url = links[0].proto.url
    assert url.startswith(f"{ROUTE_PATH}/")
    found = DataDownloads(app_store, folder=export_dir).redeem(url.rsplit("/", 1)[1])
    assert found is not None
    with zipfile.ZipFile(found[0]) as archive:
        texts = "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".md"))
    assert "Plan a day in Lisbon" in texts


def test_erase_my_data_needs_the_username_typed_and_empties_the_history(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore
) -> None:
    at = logged_in("demo-member")
    chat(at, "Something to forget")
    at.switch_page("views/account.py").run()
    at.text_input(key=Keys.ERASE_CONFIRM).input("someone")
    click(at, "Erase my data")
    assert any("Type `demo-member` to confirm" in e.value for e in at.error)
    owner = MemberStore(app_store.engine).get("demo-member")
    assert owner is not None and len(app_store.list_conversations(owner)) == 1

    at.text_input(key=Keys.ERASE_CONFIRM).input("demo-member")
    click(at, "Erase my data")
    assert not at.exception, at.exception
    assert any("Erased: 1 conversations" in s.value for s in at.success)
    assert app_store.list_conversations(owner) == []
    assert MemberStore(app_store.engine).get("demo-member") is not None  # the account stays


def test_an_admin_sets_retention_and_the_cleanup_deletes_unused_conversations(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore, app_team: MemberStore
) -> None:
    admin = logged_in("demo-admin")  # the demo team exists from the first run on
    member = app_team.get("demo-member")
    assert member is not None
    old = ConversationStore(app_store.url, clock=lambda: datetime.now(UTC) - timedelta(days=50))
    stale = old.create_conversation(member, "gpt-4", "GPT-4", title="Old question")
    old.append_message(member, stale.id, "user", "from fifty days ago")
    old.close()
    fresh = app_store.create_conversation(member, "gpt-4", "GPT-4", title="New question")

    admin.switch_page("views/team.py").run()
    admin.number_input(key=Keys.RETENTION_CHATS).set_value(30)
    admin.number_input(key=Keys.RETENTION_AUDIT).set_value(365)
    click(admin, "Save retention")
    assert not admin.exception, admin.exception
    assert any("Retention saved: conversations 30 days" in s.value for s in admin.success)
    click(admin, "Run the cleanup now")
    assert any("Cleanup done: 1 conversations deleted" in s.value for s in admin.success)
    assert [c.id for c in app_store.list_conversations(member)] == [fresh.id]
    actions = [e.action for e in AuditLog(app_store.engine).entries()]
    assert "set retention" in actions and "retention sweep" in actions


def test_removing_a_member_can_erase_their_data(
    logged_in: Callable[[str], AppTest],
    new_app: Callable[[], AppTest],
    app_store: ConversationStore,
    app_team: MemberStore,
) -> None:
    admin = logged_in("demo-admin")  # first: the demo team is made on an empty team
    app_team.add("bob", name="Bob Jones", email="bob@example.com", password="bob-password-1")
    bob = log_in(new_app().run(), "bob", "bob-password-1")
    chat(bob, "Bob's question")
    admin.switch_page("views/team.py").run()
    admin.selectbox(key=Keys.TEAM_PICK).select("bob")
    admin.run()
    click(admin, "Remove")
    admin.radio(key=Keys.TEAM_REMOVE_DATA).set_value("Erase their data")
    admin.text_input(key=Keys.TEAM_CONFIRM).input("bob")
    click(admin, "Remove for good")
    assert not admin.exception, admin.exception
    assert any("Removed bob and erased their data" in s.value for s in admin.success)
    assert app_team.get("bob") is None
    with app_store.engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.conversations)
            .where(schema.conversations.c.owner == "bob")
        ).scalar()
    assert left == 0


def test_the_history_says_which_conversations_go_soon(
    logged_in: Callable[[str], AppTest], app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = logged_in("demo-member")
    member = app_team.get("demo-member")
    assert member is not None
    for days, title in ((27, "Almost gone"), (5, "Recent")):
        aged = ConversationStore(
            app_store.url, clock=lambda d=days: datetime.now(UTC) - timedelta(days=d, hours=1)
        )
        conv = aged.create_conversation(member, "gpt-4", "GPT-4", title=title)
        aged.append_message(member, conv.id, "user", f"about {title}")
        aged.close()
    retention.save_policy(app_store.engine, retention.RetentionPolicy(30), "demo-admin")
    at.run()
    notes = [c.value for c in at.sidebar.caption if "unless you open it" in c.value]
    assert notes == [":material/schedule: Deleted in 2 days unless you open it"]
