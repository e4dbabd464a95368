"""The chat page through app.py in demo mode, against the app's embedded emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from sqlalchemy import make_url
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, ElementTree, parse_tree_from_messages

from ablt_core import AbltClient
from ablt_core.emulator import EmulatorHandle, Fault
from tests.shown import shown
from webapp import backend, render
from webapp.bots.avatars import initials_avatar
from webapp.chat import open_chat as chat
from webapp.conversations.model import AnswerStatus
from webapp.text import literal as md
from webapp.ui.state import Keys

pytestmark = pytest.mark.usefixtures("demo_env")


def emulator() -> EmulatorHandle:
    handle = backend.demo_emulator()
    assert handle is not None, "demo mode should have started the emulator"
    return handle


def conversation(at: AppTest) -> chat.OpenChat:
    return at.session_state[Keys.CHAT_OPEN]


def bubbles(at: AppTest) -> list[tuple[str, str]]:
    """(role, text) of every chat bubble on the page, in order, as read
    (the page draws sanitised HTML: see tests/shown.py)."""
    return [(m.name, shown(md.value for md in m.markdown)) for m in at.chat_message]


def send(at: AppTest, prompt: str) -> AppTest:
    at.chat_input[0].set_value(prompt).run()
    assert not at.exception, at.exception
    return at


def chat_requests() -> list[dict]:
    return [r.json for r in emulator().requests if r.path == "/v1/chat"]


def expected_answer(body: dict) -> str:
    """What the emulator answers to exactly this request, asked without streaming."""
    with AbltClient(bearer_token=backend.DEMO_TOKEN, base_url=emulator().base_url) as client:
        options = {k: body[k] for k in ("language", "max_words", "use_search") if k in body}
        return client.chat(
            bot_slug=body["bot_slug"],
            messages=body["messages"],
            stream=False,
            user_id=body["user_id"],
            **options,
        )


def set_options(at: AppTest, *, language: str, max_words: int, search: bool, system: str) -> None:
    suffix = conversation(at).key
    at.selectbox(key=f"chat_language_{suffix}").set_value(language).run()
    at.toggle(key=f"chat_limit_{suffix}").set_value(True).run()
    at.number_input(key=f"chat_max_words_{suffix}").set_value(max_words).run()
    at.toggle(key=f"chat_search_{suffix}").set_value(search).run()
    at.text_area(key=f"chat_system_{suffix}").input(system).run()
    assert not at.exception


def test_a_prompt_streams_the_emulators_answer_with_the_whole_conversation(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in("demo-member")
    member = at.session_state[Keys.MEMBER]
    welcome = bubbles(at)
    assert len(welcome) == 1 and welcome[0][0] == "assistant"  # the bot's welcome first

    set_options(at, language="French", max_words=150, search=True, system="Answer like a pirate.")
    send(at, "How do I boil an egg?")
    send(at, "And a duck egg?")

    first, second = chat_requests()[-2:]
    assert second["user_id"] == member.user_id == first["user_id"]
    assert (second["language"], second["max_words"], second["use_search"]) == ("French", 150, True)
    assert second["stream"] is True
    assert second["bot_slug"] == conversation(at).conversation.bot_slug
    first_answer = conversation(at).messages[2].text
    assert second["messages"] == [
        {"role": "system", "content": "Answer like a pirate."},
        {"role": "assistant", "content": welcome[0][1]},
        {"role": "user", "content": "How do I boil an egg?"},
        {"role": "assistant", "content": first_answer},
        {"role": "user", "content": "And a duck egg?"},
    ]
    shown = bubbles(at)
    assert [role for role, _ in shown] == ["assistant", "user", "assistant", "user", "assistant"]
    assert shown[-1] == ("assistant", expected_answer(second))
    assert conversation(at).messages[-1].status == AnswerStatus.COMPLETE


def test_options_that_are_not_set_are_not_sent(logged_in: Callable[[str], AppTest]) -> None:
    at = logged_in("demo-admin")
    send(at, "Hello")
    body = chat_requests()[-1]
    assert set(body) == {"bot_slug", "messages", "stream", "user_id"}
    assert body["messages"][0]["role"] == "assistant"  # no system message either


def test_advice_on_answer_length_and_search_is_shown(logged_in: Callable[[str], AppTest]) -> None:
    at = logged_in()
    caption = " ".join(c.value for c in at.caption)
    assert "under 100 words answers get cut off" in caption and "2000" in caption
    set_options(at, language="English", max_words=50, search=True, system="")
    warnings = " ".join(w.value for w in at.warning)
    assert "cut off" in warnings and "Web search" in warnings


def test_a_rate_limit_shows_a_plain_message_keeps_the_prompt_and_retry_works(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in()
    # Three 429s: the first try and the client's two retries all fail.
    emulator().inject(Fault(kind="rate_limit", retry_after=3, times=3))
    send(at, "Are you there?")

    errors = [e.value for e in at.error]
    assert errors == [md.escape("The aBLT API is rate limiting requests. Try again in 3 seconds.")]
    assert ("user", "Are you there?") in bubbles(at)
    assert "Traceback" not in str(at)

    at.button(key="chat_retry").click().run()
    assert not at.exception and not at.error
    shown = bubbles(at)
    assert [text for role, text in shown if role == "user"] == ["Are you there?"]  # not doubled
    assert shown[-1] == ("assistant", expected_answer(chat_requests()[-1]))


def test_a_dropped_stream_keeps_the_partial_answer_and_retry_works(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in()
    emulator().inject(Fault(kind="drop_stream", after_pieces=4))
    send(at, "Tell me a long story")

    reply = conversation(at).messages[-1]
    assert reply.status == AnswerStatus.INTERRUPTED and reply.text  # the part received is kept
    assert [e.value for e in at.error] == [  # the stored error, drawn as text
        md.escape(
            "The answer was cut off before it finished. The part received so far is kept; "
            "retry to ask again."
        )
    ]
    shown = bubbles(at)
    assert shown[-2] == ("user", "Tell me a long story")
    assert shown[-1] == ("assistant", reply.text)

    at.button(key="chat_retry").click().run()
    assert not at.error
    final = conversation(at).messages[-1]
    assert final.status == AnswerStatus.COMPLETE
    assert final.text == expected_answer(chat_requests()[-1])
    assert final.text.startswith(reply.text)  # the same answer, this time whole


def test_an_empty_answer_says_so_and_retry_works(
    logged_in: Callable[[str], AppTest],
) -> None:
    # Issue 7, item 6: the stream is only `data: [DONE]`.
    at = logged_in()
    emulator().inject(Fault(kind="empty_answer"))
    send(at, "Anything?")
    assert not at.exception
    assert [e.value for e in at.error] == [md.escape(chat.EMPTY_ANSWER)]  # drawn as text
    assert conversation(at).messages[-1].status == AnswerStatus.ERROR
    assert "chat_regenerate" not in {button.key for button in at.button}  # a failure, not an answer
    at.button(key="chat_retry").click().run()
    assert not at.error
    assert conversation(at).messages[-1].status == AnswerStatus.COMPLETE
    assert bubbles(at)[-1] == ("assistant", expected_answer(chat_requests()[-1]))


def test_a_prompt_is_drawn_as_typed_not_as_markdown(logged_in: Callable[[str], AppTest]) -> None:
    # Issue 7, item 1, at the page: the prompt's element is the renderer's text, not Markdown.
    at = logged_in()
    typed = "Run cp $SRC/$NAME /tmp to copy it"
    send(at, typed)
    user = [m for m in at.chat_message if m.name == "user"][-1]
    assert [md.value for md in user.markdown] == [render.prompt_html(typed)]
    assert bubbles(at)[-2] == ("user", typed)


def test_the_catalogue_can_preselect_a_bot_and_open_a_fresh_conversation(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in()
    send(at, "Hi")
    with AbltClient(bearer_token=backend.DEMO_TOKEN, base_url=emulator().base_url) as client:
        other = client.get_bots()[-1]
    at.session_state[Keys.CHAT_BOT_SLUG] = other.slug
    at.session_state[Keys.CHAT_NEW_REQUESTED] = True
    at.run()
    assert conversation(at).conversation.bot_slug == other.slug
    assert bubbles(at) == [("assistant", chat.welcome_text(other))]
    assert at.selectbox(key=Keys.CHAT_BOT_SELECT).value == other.slug


def test_picking_a_bot_new_chat_and_clear_chat(logged_in: Callable[[str], AppTest]) -> None:
    at = logged_in()
    with AbltClient(bearer_token=backend.DEMO_TOKEN, base_url=emulator().base_url) as client:
        target = client.get_bots()[2]
    assert conversation(at).conversation.bot_slug != target.slug
    at.selectbox(key=Keys.CHAT_BOT_SELECT).set_value(target.slug).run()
    slug = conversation(at).conversation.bot_slug
    assert slug == target.slug
    assert bubbles(at) == [("assistant", chat.welcome_text(target))]

    send(at, "First question")
    assert len(bubbles(at)) == 3
    at.button(key="chat_clear").click().run()
    assert len(bubbles(at)) == 1 and conversation(at).conversation.bot_slug == slug

    send(at, "Second question")
    old_id = conversation(at).id
    at.button(key="chat_new").click().run()
    assert conversation(at).id != old_id and len(bubbles(at)) == 1
    assert conversation(at).conversation.bot_slug == slug  # a new chat keeps the bot


def test_the_header_tells_apart_bots_that_share_a_name(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in()
    picker = at.selectbox(key=Keys.CHAT_BOT_SELECT)
    # The demo catalogue has two bots called "Omni": omni and omni-fast.
    picker.set_value("omni-fast").run()
    assert conversation(at).conversation.bot_slug == "omni-fast"
    assert at.subheader[0].value == r"Omni \(omni\-fast\)"  # Markdown for "Omni (omni-fast)"
    assert at.selectbox(key=Keys.CHAT_BOT_SELECT).format_func("omni-fast") == "Omni (omni-fast)"

    at.selectbox(key=Keys.CHAT_BOT_SELECT).set_value("omni").run()
    assert at.subheader[0].value == r"Omni \(omni\)"
    assert at.chat_input[0].placeholder == "Message Omni (omni)"


def test_the_message_box_names_the_bot_as_the_header_does(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in()
    picker = at.selectbox(key=Keys.CHAT_BOT_SELECT)
    slug = conversation(at).conversation.bot_slug
    assert at.chat_input[0].placeholder == f"Message {picker.format_func(slug)}"
    picker.set_value("omni-fast").run()
    assert at.chat_input[0].placeholder == "Message Omni (omni-fast)"  # not just "Omni"


def test_last_controls_wait_for_the_new_answer_to_finish(
    logged_in: Callable[[str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    controls = {"Regenerate", "Edit last message"}
    at = logged_in()
    send(at, "First question")
    assert controls <= {b.label for b in at.button}  # under the finished answer
    real = st.write_stream
    during: dict[str, object] = {}

    def watching(stream: Iterator[str], *args: object, **kwargs: object) -> object:
        monkeypatch.setattr(st, "write_stream", real)  # this answer only
        page = page_so_far()
        during["buttons"] = {b.label for b in page.button}
        during["bubbles"] = [m.name for m in page.chat_message]
        return real(stream, *args, **kwargs)

    monkeypatch.setattr(st, "write_stream", watching)
    emulator().inject(Fault(kind="slow_first_byte", seconds=3))  # drawn by then, even when busy
    send(at, "Second question")
    # While the new answer streams, nothing of the last exchange's controls is drawn.
    assert during["bubbles"] == ["assistant", "user", "assistant", "user", "assistant"]
    assert not controls & during["buttons"]  # type: ignore[operator]
    # After it, they are back, under the new answer.
    assert controls <= {b.label for b in at.button}
    order = [
        node.type if node.type == "chat_message" else node.label
        for node in at.main
        if node.type in ("chat_message", "button")
    ]
    assert order.index("Regenerate") > max(
        i for i, kind in enumerate(order) if kind == "chat_message"
    )


def page_so_far() -> ElementTree:
    """The page as the browser has it at this moment of the run (from inside it)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    assert ctx is not None
    runner = ctx._enqueue.__self__  # AppTest's LocalScriptRunner collects the messages
    return parse_tree_from_messages(runner.forward_msgs())


def thinking(tree: AppTest | ElementTree | Block) -> list[str]:
    """Texts of "… is thinking…" indicators on the page."""
    return [c.value for c in tree.caption if "is thinking" in c.value]


def test_the_bot_is_shown_thinking_until_the_first_words_arrive(
    logged_in: Callable[[str], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    at = logged_in()
    bot_name = at.session_state[Keys.CHAT_OPEN].conversation.bot_name
    real = st.write_stream
    states: dict[str, list[str]] = {}

    def watching(stream: Iterator[str], *args: object, **kwargs: object) -> object:
        monkeypatch.setattr(st, "write_stream", real)  # this answer only
        page = page_so_far()
        states["before the first words"] = thinking(page)
        # In the answer's own bubble, under the prompt just sent.
        states["in the bubble"] = thinking(page.chat_message[-1])
        states["bubble"] = [page.chat_message[-2].name, page.chat_message[-1].name]

        def pieces() -> Iterator[str]:
            for piece in stream:
                yield piece
                states.setdefault("with the first words", thinking(page_so_far()))

        return real(pieces(), *args, **kwargs)

    monkeypatch.setattr(st, "write_stream", watching)
    # The API takes a moment before its first byte: the page is drawn by then,
    # even on a busy CI machine (0.5 s was not always enough there).
    emulator().inject(Fault(kind="slow_first_byte", seconds=3))
    send(at, "Are you awake?")
    assert states["before the first words"] == [f":material/pending: {bot_name} is thinking…"]
    assert states["in the bubble"] == states["before the first words"]
    assert states["bubble"] == ["user", "assistant"]
    assert states["with the first words"] == []  # the answer took its place
    assert thinking(at) == [] and conversation(at).last.status == AnswerStatus.COMPLETE


def test_the_thinking_indicator_goes_when_the_answer_fails(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in()
    emulator().inject(Fault(kind="server_error", status=500, times=3))
    at.chat_input[0].set_value("Anyone there?").run()
    assert at.error and thinking(at) == []
    assert conversation(at).last.status == AnswerStatus.ERROR


def test_copy_is_offered_on_prompts_and_answers_but_not_the_welcome(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in("demo-member")
    send(at, "Copy me, please")
    # One Copy button per bubble carries the raw text (tests/app/test_chat_controls.py).
    from .test_chat_controls import copied_texts

    assert copied_texts(at) == [None, "Copy me, please", conversation(at).messages[-1].text]


def test_a_bot_without_an_avatar_shows_its_initials_in_header_and_bubbles(
    logged_in: Callable[[str], AppTest],
) -> None:
    at = logged_in()
    with AbltClient(bearer_token=backend.DEMO_TOKEN, base_url=emulator().base_url) as client:
        plain = next(bot for bot in client.get_bots() if not bot.avatar_url)
    at.selectbox(key=Keys.CHAT_BOT_SELECT).set_value(plain.slug).run()
    send(at, "Hello")
    round_initials = initials_avatar(plain.name)
    assert [image.value for image in at.main.image] == [[round_initials]]  # the header
    bot_bubbles = [m for m in at.chat_message if m.name == "assistant"]
    assert len(bot_bubbles) == 2
    assert all(m.avatar == round_initials for m in bot_bubbles)


def test_a_database_that_refuses_the_prompt_shows_a_plain_message_and_keeps_the_text(
    logged_in: Callable[[str], AppTest],
    app_db_url: str,
    lock_sqlite: Callable[[Path], AbstractContextManager[None]],
) -> None:
    at = logged_in("demo-member")
    asked_before = len(chat_requests())
    with lock_sqlite(Path(make_url(app_db_url).database or "")):
        send(at, "Please keep this text")
        assert not at.exception
        assert [e.value for e in at.error] == [chat.PROMPT_NOT_SAVED]
        assert at.chat_input[0].value == "Please keep this text"  # back in the message box
        assert len(bubbles(at)) == 1  # only the welcome: nothing half-sent
        assert len(chat_requests()) == asked_before

    send(at, "Please keep this text")  # sent again once the database is back
    assert not at.error
    assert [role for role, _ in bubbles(at)] == ["assistant", "user", "assistant"]
    assert bubbles(at)[1] == ("user", "Please keep this text")
