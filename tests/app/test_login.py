"""Login through the real form; nothing but the login page before it; token-mode rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import streamlit as st
import yaml
from streamlit.testing.v1 import AppTest

from ablt_core.emulator import EmulatorHandle
from webapp.auth import gate as auth
from webapp.team import DEMO_PASSWORD, MemberStore, create_demo_team, load_team
from webapp.ui.state import Keys

from .conftest import APP_PATH, APP_TIMEOUT, log_in

PAGES = ("views/chat.py", "views/bots.py", "views/statistics.py", "views/account.py")


def page_text(at: AppTest) -> str:
    """Every text a user can read in the page, sidebar included."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


def shows_login_form(at: AppTest) -> bool:
    return [t.label for t in at.text_input] == ["Username", "Password"]


def shows_app_content(at: AppTest) -> bool:
    return bool(at.chat_input or at.chat_message or at.metric or at.dataframe)


@pytest.mark.usefixtures("demo_env")
def test_every_page_is_empty_before_login(new_app: Callable[[], AppTest]) -> None:
    at = new_app().run()
    assert not at.exception
    assert shows_login_form(at)
    assert not shows_app_content(at)
    for page in PAGES:
        # Before login the app registers no page but the login page: none can be opened.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    at.run()
    assert shows_login_form(at) and not shows_app_content(at)
    assert [t.value for t in at.title] == ["aBLT Chat"]


@pytest.mark.usefixtures("demo_env")
def test_demo_mode_shows_the_demo_accounts_and_the_badge(new_app: Callable[[], AppTest]) -> None:
    at = new_app().run()
    text = page_text(at)
    assert "`demo-admin` / `ablt-demo`" in text and "`demo-member` / `ablt-demo`" in text
    assert "built-in aBLT emulator" in text


@pytest.mark.usefixtures("demo_env")
def test_a_wrong_password_is_refused_and_the_right_one_lets_in(
    new_app: Callable[[], AppTest], app_team: MemberStore
) -> None:
    at = new_app().run()
    log_in(at, "demo-member", "not-the-password")
    assert "Username or password is incorrect." in [e.value for e in at.error]
    assert shows_login_form(at) and not shows_app_content(at)
    assert Keys.MEMBER not in at.session_state

    log_in(at, "demo-member", DEMO_PASSWORD)
    assert not at.exception
    assert not shows_login_form(at)
    assert at.chat_input  # the chat page, the default one
    member = at.session_state[Keys.MEMBER]
    assert (member.username, member.role) == ("demo-member", "member")
    assert member.user_id == app_team.get("demo-member").user_id
    assert "Logged in as **Demo Member**" in page_text(at)


@pytest.mark.usefixtures("demo_env")
def test_no_run_prints_cookie_noise(
    new_app: Callable[[], AppTest], capsys: pytest.CaptureFixture[str]
) -> None:
    at = new_app().run()
    log_in(at, "demo-member", DEMO_PASSWORD)
    at.run()
    assert not at.exception
    # streamlit-authenticator printed "Invalid token type..." for a missing cookie.
    assert capsys.readouterr().out == ""


@pytest.mark.usefixtures("demo_env")
def test_a_demo_accounts_password_cannot_be_changed_in_demo_mode(
    logged_in: Callable[[str], AppTest], app_team: MemberStore, new_app: Callable[[], AppTest]
) -> None:
    at = logged_in("demo-admin")
    at.switch_page("views/account.py").run()
    assert not at.exception
    text = page_text(at)
    assert "Demo Admin" in text and "`demo-admin`" in text and "admin" in text
    assert f"{app_team.get('demo-admin').user_id}" in text
    assert [p.label for p in at.get("page_link")] == ["Manage the team"]  # an admin's link
    # The page says why, and offers no form that could lock the others out.
    assert [i.value for i in at.info] == [auth.DEMO_PASSWORD_FIXED]
    assert not [b for b in at.button if b.label == "Change password"]
    # The rule holds below the page too (a stale form, another caller).
    member = at.session_state[Keys.MEMBER]
    problem = auth.change_password(member, DEMO_PASSWORD, "brand-new-pw", "brand-new-pw")
    assert problem == auth.DEMO_PASSWORD_FIXED
    assert app_team.check_password("demo-admin", DEMO_PASSWORD)
    assert "`demo-admin` / `ablt-demo`" in page_text(new_app().run())  # still listed


@pytest.mark.usefixtures("demo_env")
def test_account_page_change_password_and_log_out(
    auth_file: Path, new_app: Callable[[], AppTest], app_team: MemberStore
) -> None:
    team = create_demo_team(auth_file)  # a member added beside the demo accounts
    team.add("alice", name="Alice", email="a@example.com", password="alice-password")
    team.save()
    at = log_in(new_app().run(), "alice", "alice-password")
    at.switch_page("views/account.py").run()
    assert not at.exception

    fields = {t.label: t for t in at.text_input}
    fields["Current password"].input("alice-password")
    fields["New password"].input("brand-new-password")
    fields["Repeat new password"].input("brand-new-password")
    next(b for b in at.button if b.label == "Change password").click().run()
    assert "Password changed" in page_text(at)
    assert app_team.check_password("alice", "brand-new-password")

    next(b for b in at.button if b.label == "Log out").click().run()
    assert not at.exception
    assert shows_login_form(at) and not shows_app_content(at)
    assert Keys.MEMBER not in at.session_state

    again = new_app().run()
    log_in(again, "alice", "alice-password")
    assert shows_login_form(again)
    log_in(again, "alice", "brand-new-password")
    assert again.chat_input


@pytest.mark.usefixtures("demo_env")
@pytest.mark.usefixtures("demo_env")
def test_log_out_from_the_sidebar_on_any_page(logged_in: Callable[[str], AppTest]) -> None:
    at = logged_in("demo-member")
    for page in PAGES:  # every page has it, under "Logged in as …"
        at.switch_page(page).run()
        assert not at.exception, at.exception
        sidebar = [
            node.value if node.type == "caption" else node.label
            for node in at.sidebar
            if node.type in ("caption", "button")
        ]
        logged_in_as = next(i for i, text in enumerate(sidebar) if "Logged in as" in text)
        assert sidebar[logged_in_as + 1] == "Log out"

    at.switch_page("views/chat.py").run()
    assert at.chat_input
    at.sidebar.button(key=auth.SIDEBAR_LOGOUT_KEY).click().run()
    assert not at.exception, at.exception
    assert shows_login_form(at) and not shows_app_content(at)
    assert Keys.MEMBER not in at.session_state and Keys.CHAT_OPEN not in at.session_state
    assert "Logged in as" not in page_text(at)
    # The browser's login cookie is deleted too, or a reload would log back in.
    assert cookie_deletes(at) == [auth.COOKIE_NAME]
    assert at.session_state[Keys.AUTH_DELETE_COOKIE] is True
    for page in PAGES:  # logged out, no page can be opened any more
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    at.run()
    assert shows_login_form(at) and not shows_app_content(at)

    log_in(at, "demo-member", DEMO_PASSWORD)  # logged in again: the new cookie stays
    assert at.chat_input and cookie_deletes(at) == []
    assert Keys.AUTH_DELETE_COOKIE not in at.session_state


def cookie_deletes(at: AppTest) -> list[str]:
    """Cookies the page's cookie components are deleting in the browser this run."""
    calls = [json.loads(node.proto.json_args) for node in at if node.type == "component_instance"]
    return [call["cookie"] for call in calls if call.get("method") == "delete"]


@pytest.mark.parametrize("page", PAGES)
def test_a_page_file_run_on_its_own_shows_nothing_without_a_login(page: str) -> None:
    # app.py's gate is what keeps pages away; each page's own guard is the second
    # line of defence, should a page file ever run without app.py.
    at = AppTest.from_file(str(APP_PATH.parent / page), default_timeout=APP_TIMEOUT).run()
    assert not at.exception
    assert not shows_app_content(at) and not at.text_input and not at.button
    assert [i.value for i in at.info] == ["Please log in first."]


def test_the_pages_folder_is_not_named_pages() -> None:
    # Streamlit runs a folder named pages/ next to app.py as an old-style multipage
    # app on a fresh server's first run: page files without app.py's login gate.
    assert not (APP_PATH.parent / "pages").exists()
    assert all((APP_PATH.parent / page).is_file() for page in PAGES)


def test_with_a_token_demo_credentials_are_refused(
    token_env: EmulatorHandle, auth_file: Path, new_app: Callable[[], AppTest]
) -> None:
    team = create_demo_team(auth_file)  # e.g. the file left over from a demo
    team.add("alice", name="Alice", email="a@example.com", password="alice-password")
    team.save()
    user_id = load_team(auth_file).get("alice").user_id  # the file's id is imported as it is

    at = new_app().run()
    assert not at.exception
    text = page_text(at)
    assert "ablt-demo" not in text and "Demo mode" not in text
    for demo_user in ("demo-admin", "demo-member"):
        log_in(at, demo_user, DEMO_PASSWORD)
        assert shows_login_form(at) and not shows_app_content(at)
        assert "Username or password is incorrect." in [e.value for e in at.error]
        assert any("Demo accounts cannot log in" in w.value for w in at.warning)

    log_in(at, "alice", "alice-password")
    assert not at.exception and at.chat_input
    at.chat_input[0].set_value("Hello from the real API").run()
    body = token_env.requests[-1].json
    assert body["user_id"] == user_id
    assert body["messages"][-1] == {"role": "user", "content": "Hello from the real API"}


@pytest.mark.parametrize(
    ("cookie_key", "expected"),
    [("too-short-key", "too short"), (None, "ABLT_COOKIE_KEY is not set")],
)
def test_with_a_token_a_short_or_missing_cookie_key_stops_the_app(
    token_env: EmulatorHandle,
    auth_file: Path,
    new_app: Callable[[], AppTest],
    monkeypatch: pytest.MonkeyPatch,
    cookie_key: str | None,
    expected: str,
) -> None:
    create_demo_team(auth_file)
    if cookie_key is None:
        monkeypatch.delenv("ABLT_COOKIE_KEY")
    else:
        monkeypatch.setenv("ABLT_COOKIE_KEY", cookie_key)
    at = new_app().run()
    assert not at.exception
    assert not at.text_input and not shows_app_content(at)
    text = page_text(at)
    assert expected in text
    assert "secrets.token_urlsafe(32)" in text  # says how to make a good one
    for page in PAGES:
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)


def test_with_a_token_and_no_team_file_the_page_says_how_to_add_one(
    token_env: EmulatorHandle, auth_file: Path, new_app: Callable[[], AppTest]
) -> None:
    at = new_app().run()
    assert not at.exception
    assert not at.text_input
    assert "python -m webapp.team add" in page_text(at)
    assert not auth_file.exists()  # no demo team behind a real token


@pytest.mark.usefixtures("demo_env")
def test_a_hand_written_team_file_works(auth_file: Path, new_app: Callable[[], AppTest]) -> None:
    import bcrypt

    password_hash = bcrypt.hashpw(b"zoe-password", bcrypt.gensalt(4)).decode()
    auth_file.write_text(
        yaml.safe_dump(
            {
                "cookie": {"expiry_days": 30, "key": "some_signature_key", "name": "c"},
                "credentials": {
                    "usernames": {
                        "zoe": {
                            "email": "zoe@example.com",
                            "name": "Zoe",
                            "password": password_hash,
                            "roles": ["admin"],
                        }
                    }
                },
            }
        )
    )
    at = new_app().run()
    assert "ablt-demo" not in page_text(at)  # not the demo team: no demo accounts shown
    log_in(at, "zoe", "zoe-password")
    assert not at.exception and at.chat_input
    member = at.session_state[Keys.MEMBER]
    assert (member.role, member.user_id) == ("admin", 1)


def test_when_the_api_is_down_pages_still_load_and_say_so(
    token_env: EmulatorHandle,
    auth_file: Path,
    new_app: Callable[[], AppTest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("ABLT_BASE_URL", dead_url)
    team = create_demo_team(auth_file)
    team.add("alice", name="Alice", email="a@example.com", password="alice-password")
    team.save()

    at = new_app().run()
    assert not at.exception and shows_login_form(at)  # the login page still loads
    assert "API not answering" in page_text(at)

    log_in(at, "alice", "alice-password")
    assert not at.exception
    text = page_text(at)
    assert "The aBLT API is not answering right now" in text
    assert "cannot be reached" in text  # the chat page's own plain message
    assert "Traceback" not in text
    assert {"Check again", "Retry"} <= {b.label for b in at.button}

    # Back up: Retry forgets the cached health and the page recovers.
    monkeypatch.setenv("ABLT_BASE_URL", token_env.base_url)
    next(b for b in at.button if b.label == "Retry").click().run()
    assert not at.exception
    assert "API online" in page_text(at) and at.chat_input


@pytest.mark.usefixtures("demo_env")
def test_a_login_submit_survives_a_rerun_from_the_cookie_component(
    new_app: Callable[[], AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The login cookie component reports to the server once it has loaded in the
    # browser, which reruns the script. When that lands just after a Log in click,
    # the click's run is cut off at the component and the next run no longer has
    # the click: the login must already have happened by then.
    import extra_streamlit_components as stx

    armed = {"rerun": False}
    original = stx.CookieManager.__init__

    def reporting_init(self: object, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        if armed["rerun"]:
            armed["rerun"] = False
            st.rerun()  # as the component's report does: this run stops here

    monkeypatch.setattr(stx.CookieManager, "__init__", reporting_init)
    at = new_app().run()
    assert shows_login_form(at)
    armed["rerun"] = True
    log_in(at, "demo-member", DEMO_PASSWORD)
    assert not armed["rerun"], "the simulated component report did not happen"
    assert not at.exception
    assert not shows_login_form(at) and at.chat_input
    assert at.session_state[Keys.MEMBER].username == "demo-member"
