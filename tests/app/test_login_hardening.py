"""The hardened login through the real form (issue 12 "Logins", issue 13 item 11):
throttling in plain words, admin unlock, long passphrases and spaces on the
Account page. The throttle's arithmetic is tested in tests/webapp/auth/test_logins.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from webapp.auth import throttle as logins
from webapp.auth.passwords import WHITESPACE_NOTE
from webapp.auth.throttle_store import LoginLog
from webapp.conversations.store import ConversationStore
from webapp.team import DEMO_PASSWORD, MemberStore, create_demo_team

from .conftest import log_in

PASSPHRASE_87 = (
    "correct horse battery staple is a famous passphrase but this one is longer than bcrypt!"
)


def errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def change_password(at: AppTest, current: str, new: str) -> AppTest:
    fields = {t.label: t for t in at.text_input}
    fields["Current password"].input(current)
    fields["New password"].input(new)
    fields["Repeat new password"].input(new)
    next(b for b in at.button if b.label == "Change password").click()
    return at.run()


@pytest.mark.usefixtures("demo_env")
def test_wrong_passwords_then_the_right_one_is_refused_until_an_admin_unlocks(
    new_app: Callable[[], AppTest], app_store: ConversationStore
) -> None:
    at = new_app().run()
    assert WHITESPACE_NOTE in [c.value for c in at.caption]  # the form says it
    for attempt in range(3):
        log_in(at, "demo-member", f"wrong-password-{attempt}")
        assert errors(at) == ["Username or password is incorrect."]
    log_in(at, "demo-member", f"wrong-password-{attempt}")
    assert errors(at) == [
        "Too many failed logins for this username. Wait 2 seconds before trying again."
    ]
    # The right password is refused too, in the same plain words, and the form stays.
    log_in(at, "demo-member", DEMO_PASSWORD)
    assert not at.exception and not at.chat_input
    assert errors(at)[0].startswith("Too many failed logins for this username.")

    # An admin lifts it (what `python -m webapp.team unlock` and the Team page call).
    logins.unlock(LoginLog(app_store.engine), actor="demo-admin", username="demo-member")
    log_in(at, "demo-member", DEMO_PASSWORD)
    assert not at.exception and at.chat_input


@pytest.mark.usefixtures("demo_env")
def test_account_page_refuses_an_87_character_passphrase_and_keeps_spaces(
    new_app: Callable[[], AppTest], auth_file: Path, app_store: ConversationStore
) -> None:
    # Not a demo account: their passwords stay fixed in demo mode.
    team = create_demo_team(auth_file)
    team.add("bob", name="Bob", email="b@example.com", password="bob-password-1")
    team.save()
    at = log_in(new_app().run(), "bob", "bob-password-1")
    at.switch_page("views/account.py").run()
    assert WHITESPACE_NOTE in [c.value for c in at.caption]

    change_password(at, "bob-password-1", PASSPHRASE_87)
    assert not at.exception  # it was a ValueError traceback
    assert errors(at)[0].startswith("A password can be at most 72 bytes long; this one is 87")
    assert MemberStore(app_store.engine).check_password("bob", "bob-password-1")

    change_password(at, "bob-password-1", "bob new pass ")  # issue 13 item 11
    assert not errors(at)

    fresh = new_app().run()
    log_in(fresh, "bob", "bob new pass")  # the stripped form is another password
    assert errors(fresh) == ["Username or password is incorrect."]
    log_in(fresh, "bob", "bob new pass ")
    assert not fresh.exception and fresh.chat_input

    other = new_app().run()
    log_in(other, "bob", PASSPHRASE_87)  # the login form: the same plain message
    assert errors(other)[0].startswith("A password can be at most 72 bytes long")


@pytest.mark.usefixtures("demo_env")
def test_a_member_removed_from_the_team_is_logged_out_on_the_next_run(
    logged_in: Callable[[str], AppTest], app_team: MemberStore
) -> None:
    at = logged_in("demo-member")
    app_team.remove("demo-member")
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.chat_input
