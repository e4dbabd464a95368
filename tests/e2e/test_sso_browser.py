"""Single sign-on in Chromium against a real OpenID Connect provider on loopback.

The provider is `oidc-provider-mock` (a real OIDC server: discovery, signed
ID tokens, PKCE, end-session), started in this process; the test sets each
identity's claims through its `PUT /users/<sub>` and logs in through its
authorization form like a person would. Two app processes (A and B, one
database, one `cookie_secret`, one cookie key: a scale-out deployment in
miniature) are started once for the module, in demo mode, with an `[auth]`
section in their secrets naming the provider ("Mock IdP") and a second
provider whose server is down ("Down IdP").

Cases (issue 22): a linked member logs in; the first login links by verified
email; an unverified email is refused; an unknown identity is refused, then
allowed by a domain's self-join; a disabled member's provider cookie no
longer logs in; Log out (the provider's end-session page, then nobody is
logged in); password login switched off and on from the terminal; the
groups claim reaches the hook and the admin group makes an admin; a login
on A is used on B; a provider down and a forged callback give plain
messages while the password form still works.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.appserver import (
    CHAT_INPUT,
    REPO_ROOT,
    AppServer,
    free_port,
    start_apps,
    stop_all,
    wait_until_idle,
)
from webapp.audit import AuditLog
from webapp.audit.log import SINGLE_SIGN_ON
from webapp.auth.passwords import DEMO_PASSWORD
from webapp.auth.sso_store import SsoStore
from webapp.conversations.store import ConversationStore
from webapp.team import MemberStore, create_demo_team, open_team

pytestmark = [
    pytest.mark.e2e,
    # oidc-provider-mock 0.3.4 calls Authlib APIs that Authlib 1.9 marks deprecated.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CONTINUE = "Continue with Mock IdP"
ADMIN_GROUP = "chat-admins"


class Proxy:
    """The deployment's proxy in miniature: one public origin (a loopback
    port) whose new TCP connections go to app A or B (`target`), bytes
    copied both ways (HTTP and the app's WebSocket alike)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.target = 0  # the port new connections go to
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self.target))
                self._open += [client, upstream]
                for src, dst in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in [self.listener, *self._open]:
            with contextlib.suppress(OSError):
                sock.close()


@dataclass
class Setup:
    """The module's provider, apps, and the proxy in front of them (`url`)."""

    provider_url: str
    a: AppServer
    b: AppServer
    db_url: str
    proxy: Proxy

    @property
    def url(self) -> str:
        """The app's public origin (the proxy; it sends to A unless a test says B)."""
        return self.proxy.url

    def put_user(self, sub: str, **claims: object) -> None:
        """Set the claims the provider gives `sub` (its test API)."""
        request = urllib.request.Request(
            f"{self.provider_url}/users/{sub}",
            data=json.dumps(claims).encode(),
            headers={"Content-Type": "application/json"},
            method="PUT",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 204

    def team(self) -> tuple[ConversationStore, MemberStore]:
        store = ConversationStore(self.db_url)
        return store, MemberStore(store.engine)

    def sso_log(self) -> list[tuple[str, str | None, str]]:
        """(action, actor, detail) of the single sign-on audit entries, oldest first."""
        with ConversationStore(self.db_url) as store:
            entries = AuditLog(store.engine).entries(kinds=[SINGLE_SIGN_ON])
        return [(e.action, e.actor, e.detail) for e in reversed(entries)]

    def cli(self, *args: str) -> str:
        """`python -m webapp.team ...` against the apps' database, as an operator would."""
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.a.workdir), "ABLT_DB_URL": self.db_url}
        env["ABLT_AUTH_FILE"] = str(self.a.auth_file)
        done = subprocess.run(
            [sys.executable, "-m", "webapp.team", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Setup]:
    from oidc_provider_mock import run_server_in_thread

    root = tmp_path_factory.mktemp("sso")
    auth_file = root / "team" / "auth.yaml"
    auth_file.parent.mkdir()
    create_demo_team(auth_file)
    db_url = f"sqlite:///{root / 'shared.db'}"
    proxy = Proxy()
    with run_server_in_thread() as server:
        provider_url = f"http://localhost:{server.server_port}"
        auth = f"""
[auth]
redirect_uri = "{proxy.url}/oauth2callback"
cookie_secret = "{secrets.token_urlsafe(32)}"
client_id = "ablt-chat-test"
client_secret = "{secrets.token_urlsafe(16)}"
server_metadata_url = "{provider_url}/.well-known/openid-configuration"
display_name = "Mock IdP"
admin_group = "{ADMIN_GROUP}"

[auth.down]
client_id = "down"
client_secret = "down-secret"
server_metadata_url = "http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
display_name = "Down IdP"
"""
        apps = start_apps(
            [root / "a", root / "b"],
            auth_file=auth_file,
            db_url=db_url,
            cookie_key=secrets.token_urlsafe(48),
            emulator_delay=0,
            secrets=auth,
        )
        proxy.target = apps[0].port
        # The team as the apps' first page would set it up (the demo team imported),
        # before any test adds a member of its own.
        with ConversationStore(db_url) as store:
            open_team(store.engine, auth_file, True)
        try:
            yield Setup(provider_url, apps[0], apps[1], db_url, proxy)
        finally:
            proxy.close()
            stop_all(apps)


def open_login_page(page: Page, sso: Setup) -> None:
    page.goto(sso.url, wait_until="domcontentloaded")
    expect(page.get_by_role("button", name=CONTINUE)).to_be_visible()


def sso_log_in(page: Page, sso: Setup, sub: str) -> None:
    """Continue with the provider and authorize as `sub` on its form."""
    open_login_page(page, sso)
    # A click during a run that is about to be replaced can be lost: let the page settle.
    wait_until_idle(page)
    page.get_by_role("button", name=CONTINUE).click()
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def logged_in(page: Page) -> None:
    expect(page.get_by_test_id(CHAT_INPUT)).to_be_visible()


def refused(page: Page, text: str) -> None:
    expect(page.get_by_test_id("stAlert").filter(has_text=text)).to_be_visible()
    # The password form is still there.
    expect(page.get_by_label("Password", exact=True)).to_be_visible()


def test_first_login_links_by_verified_email_then_the_linked_member_logs_in(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    sso.put_user("sub-member", email="demo-member@example.com", email_verified=True)
    page = new_page()
    open_login_page(page, sso)
    # Above the password form.
    button = page.get_by_role("button", name=CONTINUE).bounding_box()
    field = page.get_by_label("Username").bounding_box()
    assert button is not None and field is not None and button["y"] < field["y"]
    sso_log_in(page, sso, "sub-member")
    logged_in(page)
    # Another browser, later: the identity is linked, even if the email changes.
    sso.put_user("sub-member", email="renamed@example.com", email_verified=True)
    other = new_page()
    sso_log_in(other, sso, "sub-member")
    logged_in(other)
    actions = [(action, actor) for action, actor, _ in sso.sso_log()]
    assert ("identity linked", "demo-member") in actions
    assert actions.count(("logged in", "demo-member")) == 2


def test_unverified_email_is_refused(sso: Setup, new_page: Callable[[], Page]) -> None:
    sso.put_user("sub-unverified", email="demo-admin@example.com", email_verified=False)
    page = new_page()
    sso_log_in(page, sso, "sub-unverified")
    refused(page, "has not verified demo-admin@example.com")
    assert ("login refused", "demo-admin@example.com", "unverified email") in sso.sso_log()


def test_unknown_identity_refused_then_allowed_by_domain_self_join(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    sso.put_user("sub-alice", email="alice@other.org", email_verified=True, name="Alice")
    page = new_page()
    sso_log_in(page, sso, "sub-alice")
    refused(page, "No member of this team uses alice@other.org; ask an admin")
    store, team = sso.team()
    with store:
        assert team.get("alice@other.org") is None  # nothing written but the audit entry
        SsoStore(store.engine).set_self_join_domains(["other.org"], actor="demo-admin")
    # The same provider login, on the next visit, now joins the team.
    page.goto(sso.url, wait_until="domcontentloaded")
    logged_in(page)
    store, team = sso.team()
    with store:
        joined = team.get("alice@other.org")
    assert joined is not None and joined.role == "member"
    assert ("joined by email domain", "alice@other.org") in [(a, w) for a, w, _ in sso.sso_log()]


def test_disabled_members_provider_cookie_no_longer_logs_in(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    sso.put_user("sub-dan", email="dan@example.com", email_verified=True)
    store, team = sso.team()
    with store:
        team.add("dan", name="Dan", email="dan@example.com", password="dan-pass-1234")
    page = new_page()
    sso_log_in(page, sso, "sub-dan")
    logged_in(page)
    with store:
        team.set_disabled("dan", True)
    page.reload(wait_until="domcontentloaded")
    refused(page, "This account is disabled")
    with store:
        team.set_disabled("dan", False)
    # Enabled again: the cookie from before the disable still does not log in...
    page.reload(wait_until="domcontentloaded")
    refused(page, "Your single sign-on login has ended")
    # ...a new login at the provider does.
    sso_log_in(page, sso, "sub-dan")
    logged_in(page)
    reasons = [d for a, w, d in sso.sso_log() if a == "login refused" and w == "dan@example.com"]
    assert reasons[:2] == ["disabled", "logged out or disabled since"]


def test_log_out_ends_the_app_session_and_the_provider_cookie(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    sso.put_user("sub-member", email="demo-member@example.com", email_verified=True)
    page = new_page()
    sso_log_in(page, sso, "sub-member")
    logged_in(page)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Log out").click()
    # The provider publishes an end-session endpoint: Streamlit sends the browser there.
    page.wait_for_url(f"{sso.provider_url}/oauth2/end_session*")
    page.get_by_role("button", name="End session").click()
    open_login_page(page, sso)
    expect(page.get_by_test_id("stAlert").filter(has_text="did not complete")).to_have_count(0)
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_role("button", name=CONTINUE)).to_be_visible()
    expect(page.get_by_test_id(CHAT_INPUT)).to_have_count(0)


def test_groups_claim_reaches_the_hook_and_admin_group_makes_an_admin(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    store, team = sso.team()
    with store:
        team.add("carol", name="Carol", email="carol@example.com", password="carol-pass-123")
    groups = ["Sales", ADMIN_GROUP, "<b>Ops</b>", "x" * 5000]
    sso.put_user("sub-carol", email="carol@example.com", email_verified=True, groups=groups)
    page = new_page()
    sso_log_in(page, sso, "sub-carol")
    logged_in(page)
    expect(page.get_by_role("link", name="Team")).to_be_visible()  # an admin's page
    entries = sso.sso_log()
    assert ("groups claim", "carol", f"Sales, {ADMIN_GROUP}, <b>Ops</b>") in entries
    assert ("role from provider", "carol", f"admin ({ADMIN_GROUP})") in entries


def test_password_login_switched_off_and_on_from_the_terminal(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    assert "is off" in sso.cli("password-login", "off")
    try:
        page = new_page()
        open_login_page(page, sso)
        expect(page.get_by_label("Password", exact=True)).to_have_count(0)
    finally:
        assert "is on" in sso.cli("password-login", "on")
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_label("Password", exact=True)).to_be_visible()


def test_a_login_on_one_process_is_used_on_another(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    sso.put_user("sub-member", email="demo-member@example.com", email_verified=True)
    page = new_page()
    sso_log_in(page, sso, "sub-member")  # through A
    logged_in(page)
    # The proxy sends the next connections to B: same cookie_secret, same database.
    sso.proxy.target = sso.b.port
    try:
        page.reload(wait_until="domcontentloaded")
        logged_in(page)
    finally:
        sso.proxy.target = sso.a.port


def test_provider_down_and_forged_callback_give_plain_messages(
    sso: Setup, new_page: Callable[[], Page]
) -> None:
    page = new_page()
    open_login_page(page, sso)
    page.get_by_role("button", name="Continue with Down IdP").click()
    refused(page, "Single sign-on is not available right now")
    # A callback with a code and a state this browser never asked for (replayed, forged).
    page.goto(f"{sso.url}/oauth2callback?code=forged&state=wrong")
    refused(page, "Single sign-on did not complete")
    expect(page.get_by_text("Traceback")).to_have_count(0)
    wait_until_idle(page)  # a click during a run about to be replaced can be lost
    page.get_by_label("Username").fill("demo-member")
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    logged_in(page)
