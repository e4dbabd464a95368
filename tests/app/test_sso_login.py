"""The login page and the Team page with single sign-on configured (AppTest).

Without `[auth]` nothing changes; with it, "Continue with <provider>" comes
above the password form; password login switched off hides the form, and a
password attempt from a form drawn before the switch is refused and audited;
the Team page's section switches password login (only for an admin who has
logged in with single sign-on) and sets the self-join domains.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from webapp.audit import AuditLog
from webapp.audit.log import SINGLE_SIGN_ON, TEAM_CHANGE
from webapp.auth import sso_admin
from webapp.auth.sso_gate import PASSWORD_LOGIN_OFF
from webapp.auth.sso_store import SsoStore
from webapp.conversations.store import ConversationStore
from webapp.team import DEMO_PASSWORD
from webapp.text.literal import escape

from .conftest import log_in

AUTH: dict[str, Any] = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "s" * 40,
    "client_id": "client",
    "client_secret": "never-shown-" + "z" * 20,
    "server_metadata_url": "http://localhost:1/.well-known/openid-configuration",
    "display_name": "Example SSO",
}


def continue_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label.startswith("Continue with")]


def configured(at: AppTest) -> AppTest:
    at.secrets["auth"] = AUTH
    return at


def test_without_auth_section_nothing_changes(
    demo_env: None, new_app: Callable[[], AppTest]
) -> None:
    at = new_app().run()
    assert not at.exception
    assert continue_buttons(at) == []
    assert [t.label for t in at.text_input] == ["Username", "Password"]


def test_continue_with_provider_above_the_password_form(
    demo_env: None, new_app: Callable[[], AppTest]
) -> None:
    at = configured(new_app()).run()
    assert not at.exception
    assert continue_buttons(at) == ["Continue with Example SSO"]
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert AUTH["client_secret"] not in str(at.main)


def test_provider_name_shows_as_text(demo_env: None, new_app: Callable[[], AppTest]) -> None:
    at = new_app()
    at.secrets["auth"] = dict(AUTH, display_name="**Big** :red[IdP]")
    at.run()
    assert continue_buttons(at) == ["Continue with " + escape("**Big** :red[IdP]")]


def test_password_login_off_hides_the_form_and_refuses_an_attempt(
    demo_env: None, new_app: Callable[[], AppTest], app_store: ConversationStore
) -> None:
    at = configured(new_app()).run()
    # Switched off while this page was open: its form is submitted anyway.
    SsoStore(app_store.engine).set_password_login(False, actor="test")
    log_in(at, "demo-member", DEMO_PASSWORD)
    assert not at.exception
    assert not at.chat_input
    assert PASSWORD_LOGIN_OFF in [e.value for e in at.error]
    assert [t.label for t in at.text_input] == []  # the form is gone
    assert continue_buttons(at) == ["Continue with Example SSO"]
    entries = AuditLog(app_store.engine).entries(kinds=[SINGLE_SIGN_ON])
    assert [(e.actor, e.action) for e in entries] == [("demo-member", "password login refused")]


@pytest.fixture
def admin_on_team_page(demo_env: None, new_app: Callable[[], AppTest]) -> Callable[[], AppTest]:
    def make() -> AppTest:
        at = configured(new_app()).run()
        log_in(at, "demo-admin", DEMO_PASSWORD)
        at.switch_page("views/team.py").run()
        assert not at.exception, at.exception
        return at

    return make


def test_team_page_switches_password_login_for_an_admin_who_used_sso(
    admin_on_team_page: Callable[[], AppTest], app_store: ConversationStore
) -> None:
    at = admin_on_team_page()
    store = SsoStore(app_store.engine)
    at.checkbox(key=sso_admin.PASSWORD_KEY).uncheck()
    at.button(key="FormSubmitter:sso_admin_form-Save").click().run()
    assert sso_admin.NEEDS_LINK in [e.value for e in at.error]
    assert store.settings().password_login is True
    # Once the admin has logged in with single sign-on, it can be switched off.
    store.link("https://idp.example.com", "admin-sub", "demo-admin", "demo-admin@example.com")
    at.checkbox(key=sso_admin.PASSWORD_KEY).uncheck()
    at.button(key="FormSubmitter:sso_admin_form-Save").click().run()
    assert store.settings().password_login is False
    changes = AuditLog(app_store.engine).entries(kinds=[TEAM_CHANGE])
    assert ("password login", "off") in [(e.action, e.detail) for e in changes]


def test_team_page_sets_self_join_domains(
    admin_on_team_page: Callable[[], AppTest], app_store: ConversationStore
) -> None:
    at = admin_on_team_page()
    at.text_input(key=sso_admin.DOMAINS_KEY).input("<b>bad</b>")
    at.button(key="FormSubmitter:sso_admin_form-Save").click().run()
    assert any("is not a domain name" in e.value for e in at.error)
    assert SsoStore(app_store.engine).settings().self_join_domains == ()
    at.text_input(key=sso_admin.DOMAINS_KEY).input("Example.org, other.org")
    at.button(key="FormSubmitter:sso_admin_form-Save").click().run()
    assert SsoStore(app_store.engine).settings().self_join_domains == ("example.org", "other.org")
