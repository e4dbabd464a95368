"""Feedback under an answer and its aggregate on Statistics (app.py, demo mode)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from webapp.conversations.store import ConversationStore
from webapp.feedback.store import FeedbackStore
from webapp.groups import store as groups
from webapp.team import MemberStore

from .test_chat_page import conversation, send
from .test_conversations import click

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]


def table(at: AppTest, column: str) -> list[dict[str, object]]:
    """The rows of the Statistics table that has `column` ([] when none does)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    return found[0].to_dict("records") if found else []


def test_thumbs_and_reasons_under_an_answer_are_kept_changed_and_counted(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    at = logged_in()
    send(at, "Name a colour")
    answer = conversation(at).messages[-1]
    # A complete answer has thumbs; the prompt has none.
    assert [f.key for f in at.feedback] == [f"feedback_thumbs_{answer.id}"]

    at.feedback(key=f"feedback_thumbs_{answer.id}").set_value(0).run()  # thumbs down
    assert not at.exception, at.exception
    # A filled thumb is easy to miss: the page says the feedback was kept.
    assert [t.value for t in at.toast] == [
        "Thanks: marked as a poor answer. Add a reason if you like."
    ]
    member = app_team.get("demo-member")
    assert member is not None
    store = FeedbackStore(app_store)
    given = store.mine(member, [answer.id])[answer.id]
    assert (given.thumbs_up, given.reasons, given.bot_slug) == (False, (), "omni")

    # The reasons open once the thumbs are given: tags and a comment.
    at.pills(key=f"feedback_reasons_{answer.id}").set_value(["too long", "off topic"])
    at.text_input(key=f"feedback_comment_{answer.id}").set_value("=rambling")
    click(at, f"feedback_save_{answer.id}")
    given = store.mine(member, [answer.id])[answer.id]
    assert (given.reasons, given.comment) == (("too long", "off topic"), "=rambling")

    # Changeable: thumbs up keeps the reasons; one row per member per answer.
    at.feedback(key=f"feedback_thumbs_{answer.id}").set_value(1).run()
    assert store.mine(member, [answer.id])[answer.id].thumbs_up is True
    assert len(store.all()) == 1

    # A reload (new session) shows the member's own choice.
    again = logged_in()
    click(again, f"chat_open_{conversation(at).id}")
    assert again.feedback(key=f"feedback_thumbs_{answer.id}").value == 1

    # Shown to its author only: another member's view of it is empty.
    admin = app_team.get("demo-admin")
    assert admin is not None and store.mine(admin, [answer.id]) == {}

    # Satisfaction on Statistics: the member sees per bot, not per member.
    at.switch_page("views/statistics.py").run()
    assert not at.exception, at.exception
    assert "Satisfaction" in [h.value for h in at.header]
    by_bot = table(at, "Share up")
    assert len(by_bot) == 1
    assert (by_bot[0]["Rated"], by_bot[0]["Thumbs up"], by_bot[0]["Share up"]) == (1, 1, 1.0)
    assert table(at, "Member") == []  # per member: admins only
    assert any(b.label == "Download satisfaction CSV" for b in at.get("download_button"))


def test_an_admin_sees_satisfaction_per_member_with_the_reasons(
    logged_in: Login, app_store: ConversationStore, app_team: MemberStore
) -> None:
    member_at = logged_in()
    send(member_at, "Name a colour")
    first = conversation(member_at).messages[-1]
    member_at.feedback(key=f"feedback_thumbs_{first.id}").set_value(0).run()
    member_at.pills(key=f"feedback_reasons_{first.id}").set_value(["wrong"])
    click(member_at, f"feedback_save_{first.id}")

    at = logged_in("demo-admin")
    send(at, "Name a fruit")
    mine = conversation(at).messages[-1]
    at.feedback(key=f"feedback_thumbs_{mine.id}").set_value(1).run()
    at.switch_page("views/statistics.py").run()
    assert not at.exception, at.exception
    assert table(at, "Share up")[0]["Share up"] == 0.5
    members = {r["Member"]: r["Share up"] for r in table(at, "Member")}
    assert members == {"demo-admin": 1.0, "demo-member": 0.0}
    reasons = table(at, "wrong")
    assert reasons[0]["wrong"] == 1 and reasons[0]["too long"] == 0


def test_an_admin_sees_satisfaction_per_group_from_its_members_feedback(
    logged_in: Login, app_store: ConversationStore
) -> None:
    member_at = logged_in()
    send(member_at, "Name a colour")
    first = conversation(member_at).messages[-1]
    member_at.feedback(key=f"feedback_thumbs_{first.id}").set_value(0).run()
    engine = app_store.engine
    cooks = groups.create_group(engine, "Cooks", actor="demo-admin")
    groups.add_member(engine, cooks.id, "demo-member", actor="demo-admin")
    groups.create_group(engine, "Empty", actor="demo-admin")

    at = logged_in("demo-admin")
    send(at, "Name a fruit")
    mine = conversation(at).messages[-1]
    at.feedback(key=f"feedback_thumbs_{mine.id}").set_value(1).run()
    at.switch_page("views/statistics.py").run()
    assert not at.exception, at.exception
    by_group = {r["Group"]: r for r in table(at, "Group") if "Share up" in r}
    assert set(by_group) == {"Cooks", "Empty"}
    assert (by_group["Cooks"]["Rated"], by_group["Cooks"]["Share up"]) == (1, 0.0)
    assert by_group["Empty"]["Rated"] == 0

    # A member sees no per-group table.
    member_at.switch_page("views/statistics.py").run()
    assert not member_at.exception, member_at.exception
    assert not [d for d in member_at.dataframe if "Share up" in d.value.columns][1:]
