"""A member's data: the zip with everything of theirs, built in the background
and fetched once through its route; and erase (issue 25)."""

from __future__ import annotations

import json
import tracemalloc
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from tests.pg import BACKENDS, store_on
from webapp.audit.log import AuditLog
from webapp.conversations.model import AnswerStatus
from webapp.conversations.store import ConversationStore
from webapp.db import schema
from webapp.library.prompts import PromptLibrary
from webapp.lifecycle import downloads as dl
from webapp.lifecycle.member_data import (
    BUSY,
    EXTRA_SECTIONS,
    MemberDataBusy,
    Who,
    count_conversations,
    erase_member_data,
    write_member_zip,
)
from webapp.sharing.links import ShareLinks


@dataclass(frozen=True)
class Author:
    username: str
    is_admin: bool = False


ANN, BOB = Who("ann", 1), Who("bob", 2)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with store_on(request.param, tmp_path, "memberdata") as opened:
        yield opened


def some_data(store: ConversationStore) -> dict[str, str]:
    """Ann: two conversations (one with a regenerated answer), a prompt, a share
    link, an audit entry; Bob: one conversation. Returns ann's ids by title."""
    ids = {}
    for title, text in (("Rome trip", "Plan Rome"), ("Fractions", "What is 1/3 + 1/6?")):
        conv = store.create_conversation(ANN, "gpt-4", "GPT-4", title=title)
        store.append_message(ANN, conv.id, "user", text)
        store.append_message(ANN, conv.id, "assistant", f"About {text}")
        ids[title] = conv.id
    theirs = store.create_conversation(BOB, "gpt-4", "GPT-4", title="Bob's secret")
    store.append_message(BOB, theirs.id, "user", "bob only")
    PromptLibrary(store).create(Author("ann"), "Tutor", starter_prompt="Explain {{topic}}")
    ShareLinks(store).share(ANN, ids["Rome trip"])
    AuditLog(store.engine).record_change("admin", "set role", "ann", "member -> admin")
    return ids


def test_the_zip_holds_every_conversation_prompt_link_and_audit_entry_of_the_member(
    store: ConversationStore, tmp_path: Path
) -> None:
    some_data(store)
    path = tmp_path / "ann.zip"
    seen: list[tuple[int, int]] = []
    assert write_member_zip(store, ANN, path, progress=lambda d, t: seen.append((d, t))) == 2
    assert seen[-1] == (2, 2)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert "README.txt" in names and "ann" in archive.read("README.txt").decode()
        assert {"feedback.json", "arena_votes.json"} <= set(names)  # other features' rows
        convs = [n for n in names if n.startswith("conversations/")]
        assert len([n for n in convs if n.endswith(".json")]) == 2
        assert len([n for n in convs if n.endswith(".md")]) == 2
        everything = "\n".join(archive.read(n).decode() for n in convs)
        assert "What is 1/3 + 1/6?" in everything and "Plan Rome" in everything
        assert "bob only" not in everything  # nobody else's
        prompts = json.loads(archive.read("prompts.json"))
        assert [p["name"] for p in prompts] == ["Tutor"]
        links = json.loads(archive.read("share_links.json"))
        assert [link["title"] for link in links] == ["Rome trip"]
        audit = json.loads(archive.read("audit.json"))
        assert any(e["action"] == "set role" and e["target"] == "ann" for e in audit)


def test_a_big_history_is_streamed_into_the_zip_with_bounded_memory(
    tmp_path: Path,
) -> None:
    """250 conversations of 16 KB answers (about 8 MB once as JSON and Markdown):
    the writer never holds more than a few conversations at once."""
    with ConversationStore(f"sqlite:///{tmp_path / 'big.db'}") as store:
        now = datetime.now(UTC)
        answer = "Long answer. " * 1300
        with store.engine.begin() as conn:
            for n in range(250):
                cid = str(uuid.uuid4())
                conn.execute(
                    sa.insert(schema.conversations).values(
                        id=cid, owner="ann", owner_user_id=1, bot_slug="gpt-4", bot_name="GPT-4",
                        title=f"Conversation {n}", options="{}", created_at=now, updated_at=now,
                        pinned=False, kind="chat", position=0,
                    )
                )  # fmt: skip
                for seq, (role, text) in enumerate((("user", f"q{n}"), ("assistant", answer))):
                    conn.execute(
                        sa.insert(schema.messages).values(
                            id=str(uuid.uuid4()), conversation_id=cid, seq=seq, role=role,
                            text=text, status="complete", created_at=now, updated_at=now,
                        )
                    )  # fmt: skip
        tracemalloc.start()
        try:
            write_member_zip(store, ANN, tmp_path / "big.zip")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    with zipfile.ZipFile(tmp_path / "big.zip") as archive:
        written = sum(info.file_size for info in archive.infolist())
        assert len(archive.namelist()) == 2 * 250 + 4 + len(EXTRA_SECTIONS)
    assert written > 7_000_000
    assert peak < written / 4, f"peak {peak:,} bytes for {written:,} bytes written"


def test_a_download_is_built_in_the_background_and_fetched_once(
    store: ConversationStore, tmp_path: Path
) -> None:
    some_data(store)
    downloads = dl.DataDownloads(store, folder=tmp_path / "exports")
    started = downloads.start(ANN, requested_by="ann")
    assert started.status in {"building", "ready"} and started.total == 2
    downloads.wait(60)
    ready = downloads.latest("ann")
    assert ready is not None and (ready.status, ready.done, ready.total) == ("ready", 2, 2)
    assert downloads.issue_link(ready.id, "bob") is None  # not Bob's to fetch
    token = downloads.issue_link(ready.id, "ann")
    assert token
    app = Starlette(routes=dl.build_routes(lambda: downloads))
    with TestClient(app) as client:
        got = client.get(f"{dl.ROUTE_PATH}/{token}")
        assert got.status_code == 200
        assert got.headers["content-type"] == "application/zip"
        assert "ablt-chat-data-ann-" in got.headers["content-disposition"]
        (tmp_path / "fetched.zip").write_bytes(got.content)
        with zipfile.ZipFile(tmp_path / "fetched.zip") as archive:
            assert "prompts.json" in archive.namelist()
        again = client.get(f"{dl.ROUTE_PATH}/{token}")
        assert again.status_code == 404 and "used already or has expired" in again.text
        assert client.get(f"{dl.ROUTE_PATH}/not-a-token").status_code == 404


def test_the_count_shown_is_what_the_zip_holds(store: ConversationStore, tmp_path: Path) -> None:
    """Issue: the download said how many conversations it held, counting ones
    (a temporary chat) that the file does not hold. A temporary chat is never
    exported; a comparison's columns and an archived chat are in the file and
    counted; one deleted while the zip is written is neither."""
    ids = some_data(store)
    temporary = store.create_conversation(ANN, "gpt-4", "GPT-4", temporary=True)
    store.append_message(ANN, temporary.id, "user", "off the record")
    store.organise.archive(ANN, [ids["Fractions"]])
    comparison = store.create_conversation(
        ANN, "gpt-4", "GPT-4", title="Bake-off", kind="comparison"
    )
    for position, bot in enumerate(("gpt-4", "claude")):
        store.create_conversation(
            ANN, bot, bot, kind="column", parent_id=comparison.id, position=position
        )
    assert count_conversations(store.engine, "ann") == 5  # 2 chats, a comparison, 2 columns
    downloads = dl.DataDownloads(store, folder=tmp_path / "exports")
    assert downloads.start(ANN, requested_by="ann").total == 5
    downloads.wait(60)
    ready = downloads.latest("ann")
    assert ready is not None and (ready.status, ready.done, ready.total) == ("ready", 5, 5)
    path = tmp_path / "ann.zip"
    assert write_member_zip(store, ANN, path) == 5
    with zipfile.ZipFile(path) as archive:
        convs = [n for n in archive.namelist() if n.startswith("conversations/")]
        everything = "\n".join(archive.read(n).decode() for n in archive.namelist())
    assert len([n for n in convs if n.endswith(".json")]) == 5
    assert "off the record" not in everything and "Plan Rome" in everything

    # The comparison (made after both chats) deleted while the first chat is
    # written: it and its columns are neither in the file nor counted.
    def delete_comparison(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 1:
            store.delete_conversation(ANN, comparison.id)

    seen: list[tuple[int, int]] = []
    raced = tmp_path / "raced.zip"
    assert write_member_zip(store, ANN, raced, progress=delete_comparison) == 2
    assert seen[-1] == (2, 2)
    with zipfile.ZipFile(raced) as archive:
        assert len([n for n in archive.namelist() if n.startswith("conversations/")]) == 2 * 2


def test_a_link_not_used_in_time_expires(store: ConversationStore, tmp_path: Path) -> None:
    some_data(store)
    clock = [datetime.now(UTC)]
    downloads = dl.DataDownloads(store, folder=tmp_path / "x", clock=lambda: clock[0])
    downloads.start(ANN, requested_by="ann")
    downloads.wait(60)
    ready = downloads.latest("ann")
    assert ready is not None
    token = downloads.issue_link(ready.id, "ann")
    assert token
    clock[0] += dl.LINK_VALID + timedelta(seconds=1)
    assert downloads.redeem(token) is None


def test_erase_removes_everything_of_the_member_and_nothing_of_others(
    store: ConversationStore, tmp_path: Path
) -> None:
    some_data(store)
    done = erase_member_data(store.engine, "ann", actor="ann")
    assert (done.conversations, done.prompts, done.shares) == (2, 1, 1)
    assert store.list_conversations(ANN) == []
    assert PromptLibrary(store).visible(Author("ann")) == []
    assert ShareLinks(store).owned(ANN) == []
    assert [c.title for c in store.list_conversations(BOB)] == ["Bob's secret"]
    entries = AuditLog(store.engine).entries(member="ann")
    assert any(e.action == "erase data" and "2 conversations" in e.detail for e in entries)


def test_erase_is_refused_while_an_answer_of_the_member_is_generated(
    store: ConversationStore,
) -> None:
    ids = some_data(store)
    store.append_message(ANN, ids["Fractions"], "user", "and 1/4?")
    store.append_message(ANN, ids["Fractions"], "assistant", "Adding", AnswerStatus.STREAMING)
    with pytest.raises(MemberDataBusy, match="being generated"):
        erase_member_data(store.engine, "ann", actor="ann")
    assert len(store.list_conversations(ANN)) == 2  # nothing touched
    assert "Stop" in BUSY
