"""The Compare page through app.py: pick bots, one prompt, the answers side by
side; a follow-up, the vote, "Continue with this bot", reopening after a reload.

Demo mode against the embedded emulator; the page waits for the background
answers before its run ends, so each run below shows them finished.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import Fault
from tests.reliability import row
from webapp.chat import open_chat as chat
from webapp.compare import Comparisons, view
from webapp.conversations.context import ConversationOptions
from webapp.conversations.store import ConversationStore
from webapp.library import PromptLibrary
from webapp.ui.state import Keys

from .test_chat_page import chat_requests, emulator

pytestmark = pytest.mark.usefixtures("demo_env")

Login = Callable[..., AppTest]
BOTS = ["omni", "chef", "code-mentor"]


def open_compare(at: AppTest) -> AppTest:
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    return at


def columns_text(at: AppTest) -> list[str]:
    """Each column's visible text (its Markdown and HTML), left to right."""
    columns = [c for c in at.columns if c.chat_message]  # the bots' columns, not the header's
    return [" ".join(m.value for m in column.markdown) for column in columns]


def start(at: AppTest, prompt: str) -> AppTest:
    at.multiselect(key=Keys.COMPARE_BOTS).set_value(BOTS).run()
    at.chat_input(key=Keys.COMPARE_PROMPT).set_value(prompt).run()
    assert not at.exception, at.exception
    return at


def test_three_bots_answer_one_prompt_side_by_side_and_a_follow_up_goes_to_all(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = start(open_compare(logged_in()), "Pasta tonight?")
    texts = columns_text(at)
    assert len(texts) == 3
    assert all("You asked: \u201cPasta tonight?\u201d" in t for t in texts), texts
    assert all("words" in c.value for c in at.caption if "first words" in c.value)
    comparison_id = at.session_state[Keys.COMPARE].open_id
    assert at.query_params[view.OPEN_PARAM] in (comparison_id, [comparison_id])

    before = len(chat_requests())
    at.chat_input(key=Keys.COMPARE_PROMPT).set_value("And a dessert?").run()
    assert not at.exception, at.exception
    follow_ups = chat_requests()[before:]
    assert sorted(r["bot_slug"] for r in follow_ups) == sorted(BOTS)
    for request in follow_ups:  # each with its own bot's earlier answer as context
        assert request["messages"][0]["content"] == "Pasta tonight?"
        assert len(request["messages"]) == 3
    assert len({r["messages"][1]["content"] for r in follow_ups}) == 3


@row(
    "One bot of a comparison fails (5xx) while the others answer",
    happens="Each column is its own background answer; only that one ends in error.",
    sees="That column's error and its own Retry; the other columns complete.",
    kept="Every column's prompt and every answer that arrived.",
)
def test_one_failing_bot_shows_its_own_error_and_retry_while_the_others_complete(
    logged_in: Login,
) -> None:
    emulator().inject(Fault(kind="server_error", status=503, bot="chef", times=None))
    at = start(open_compare(logged_in()), "Soup?")
    assert len(at.error) == 1, "only the failing column says so"
    retry = [b for b in at.button if b.key and b.key.startswith("compare_retry_")]
    assert len(retry) == 1
    emulator().clear_faults()
    retry[0].click().run()
    assert not at.exception and not at.error
    assert all("You asked: \u201cSoup?\u201d" in t for t in columns_text(at))


def test_the_vote_is_kept_and_continue_opens_a_chat_with_that_bots_history(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = start(open_compare(logged_in()), "Best pizza?")
    comparison_id = at.session_state[Keys.COMPARE].open_id
    member = at.session_state[Keys.MEMBER]
    chef = next(
        c for c in Comparisons(app_store).get(member, comparison_id).columns if c.bot_slug == "chef"
    )
    at.button(key=f"compare_vote_{chef.id}").click().run()
    voted = Comparisons(app_store).get(member, comparison_id).voted
    assert voted is not None and voted.id == chef.id

    at.button(key=f"compare_continue_{chef.id}").click().run()
    assert not at.exception, at.exception
    at.switch_page("views/chat.py").run()  # a browser follows st.switch_page itself
    opened: chat.OpenChat = at.session_state[Keys.CHAT_OPEN]
    assert opened.conversation.bot_slug == "chef" and opened.id != chef.id
    assert opened.messages[0].text == "Best pizza?"


def test_a_comparison_reopens_after_a_reload_and_from_history(
    logged_in: Login, new_app: Callable[[], AppTest]
) -> None:
    at = start(open_compare(logged_in()), "Tea or coffee?")
    comparison_id = at.session_state[Keys.COMPARE].open_id
    shown = columns_text(at)

    again = logged_in()  # a new session: a reload
    again.query_params[view.OPEN_PARAM] = comparison_id
    open_compare(again)
    assert columns_text(again) == shown

    third = logged_in()  # History on the chat page lists it, marked, and opens it
    row = third.sidebar.button(key=f"chat_open_{comparison_id}")
    assert row.label == "Tea or coffee?"
    row.click().run()
    assert third.session_state[Keys.COMPARE].open_id == comparison_id


def test_a_comparison_exports_as_markdown_and_json(logged_in: Login) -> None:
    at = start(open_compare(logged_in()), "Rice or noodles?")
    labels = {b.label for b in at.get("download_button")}
    assert {"Markdown", "JSON"} <= labels


def test_a_comparison_starts_from_a_library_entry_with_its_variable(
    logged_in: Login, app_store: ConversationStore
) -> None:
    at = logged_in()
    member = at.session_state[Keys.MEMBER]
    entry = PromptLibrary(app_store).create(
        member,
        "Menu critic",
        system_instruction="Judge like a critic.",
        starter_prompt="Review {{dish}} in one line.",
        options=ConversationOptions(language="French"),
    )
    open_compare(at)
    at.selectbox(key="compare_library_pick").set_value(entry.id).run()
    at.text_input(key=f"library_var_compare_{entry.id}_dish").input("ratatouille")
    at.button(key="compare_library_apply").click().run()
    assert not at.exception, at.exception
    assert at.chat_input(key=Keys.COMPARE_PROMPT).value == "Review ratatouille in one line."
    assert not chat_requests(), "nothing is sent by itself"

    start(at, "Review ratatouille in one line.")
    sent = chat_requests()
    assert len(sent) == 3
    for request in sent:
        assert request["messages"][0] == {"role": "system", "content": "Judge like a critic."}
        assert request["language"] == "French"
    comparison = Comparisons(app_store).get(member, at.session_state[Keys.COMPARE].open_id)
    assert {c.options.library_prompt_id for c in comparison.columns} == {entry.id}


def test_two_bots_that_share_a_name_have_column_headings_told_apart(logged_in: Login) -> None:
    at = open_compare(logged_in())
    at.multiselect(key=Keys.COMPARE_BOTS).set_value(["omni", "omni-fast"]).run()
    at.chat_input(key=Keys.COMPARE_PROMPT).set_value("Which of you is faster?").run()
    assert not at.exception, at.exception
    headings = [m.value for m in at.markdown if m.value.startswith("**Omni")]
    assert headings == ["**Omni \\(omni\\)**", "**Omni \\(omni\\-fast\\)**"], headings
