"""Single sign-on's admission rules (`webapp.auth.sso`), its store and its configuration.

Each rule of issue 22 against a real database (SQLite, and PostgreSQL when
ABLT_TEST_PG_URL is set): link by (iss, sub) once; the first login links by
a verified email only; an unknown identity is refused and nothing but an
audit entry is written; a domain's self-join; disabled, removed and
logged-out members refused whatever the provider's cookie says; the groups
claim reaches the hook, capped; the admin group promotes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.pg import BACKENDS, db_url_on
from webapp.audit import AuditLog
from webapp.audit.log import SINGLE_SIGN_ON
from webapp.auth import passwords, sso
from webapp.auth.sso_config import DEFAULT_DISPLAY_NAME, Provider, SsoConfig, read_config
from webapp.auth.sso_store import DomainError, SsoStore, parse_domains
from webapp.conversations.store import ConversationStore
from webapp.db import schema
from webapp.team import Member, MemberStore

ISS = "https://idp.example.com"
CONFIG = SsoConfig((Provider("default", "Example"),), admin_group="chat-admins")


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    # Refusals are audited once per process; each test starts with none seen.
    monkeypatch.setattr(sso, "_reported", {})


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationStore]:
    with db_url_on(request.param, tmp_path, "sso") as url, ConversationStore(url) as opened:
        yield opened


@pytest.fixture
def team(store: ConversationStore) -> MemberStore:
    members = MemberStore(store.engine)
    members.add("ann", name="Ann", email="Ann@Example.com", password="pw-ann-123", role="admin")
    members.add("bob", name="Bob", email="bob@example.com", password="pw-bob-123")
    return members


@pytest.fixture
def hook_calls() -> Iterator[list[tuple[str, list[str]]]]:
    calls: list[tuple[str, list[str]]] = []

    def hook(engine: sa.Engine, member: Member, names: list[str]) -> list[str]:
        calls.append((member.username, names))
        return [f"placed in {name}" for name in names[:1]]

    sso.set_groups_hook(hook)
    try:
        yield calls
    finally:
        sso.set_groups_hook(None)


def claims(sub: str, email: str = "", verified: bool = True, **more: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"iss": ISS, "sub": sub, "iat": int(time.time()) + 1}
    if email:
        found.update(email=email, email_verified=verified)
    found.update(more)
    return found


def admit(store: ConversationStore, team: MemberStore, c: dict[str, Any]) -> sso.Admission:
    return sso.admit(
        c, team=team, store=SsoStore(store.engine), audit=AuditLog(store.engine), config=CONFIG
    )


def sso_log(store: ConversationStore) -> list[tuple[str, str]]:
    return [
        (e.action, e.detail) for e in AuditLog(store.engine).entries(kinds=[SINGLE_SIGN_ON])[::-1]
    ]


def test_first_login_links_by_verified_email_then_by_iss_and_sub(
    store: ConversationStore, team: MemberStore
) -> None:
    first = admit(store, team, claims("s-1", "ann@example.com"))
    assert first.member is not None and first.member.username == "ann"
    assert SsoStore(store.engine).identity(ISS, "s-1") is not None
    # Later the provider says another email: the link (iss + sub) still decides.
    again = admit(store, team, claims("s-1", "someone@else.org"))
    assert again.member is not None and again.member.username == "ann"
    actions = [action for action, _ in sso_log(store)]
    assert actions[:2] == ["identity linked", "logged in"]


def test_unverified_email_is_refused_and_links_nothing(
    store: ConversationStore, team: MemberStore
) -> None:
    result = admit(store, team, claims("s-2", "bob@example.com", verified=False))
    assert result.member is None and result.reason == sso.UNVERIFIED
    assert "not verified" in result.problem
    assert SsoStore(store.engine).identity(ISS, "s-2") is None
    assert ("login refused", sso.UNVERIFIED) in sso_log(store)
    # The string "true" some providers send counts as verified.
    ok = admit(store, team, claims("s-2", "bob@example.com", verified="true"))  # type: ignore[arg-type]
    assert ok.member is not None and ok.member.username == "bob"


def test_trust_email_counts_only_when_the_provider_says_nothing(
    store: ConversationStore, team: MemberStore
) -> None:
    trusting = SsoConfig((Provider("entra", "Entra"),), trusted_email=frozenset({"entra"}))

    def admit_with(c: dict[str, Any]) -> sso.Admission:
        s = SsoStore(store.engine)
        return sso.admit(c, team=team, store=s, audit=AuditLog(store.engine), config=trusting)

    silent = {"iss": ISS, "sub": "e-1", "iat": int(time.time()) + 1, "email": "bob@example.com"}
    refused = admit_with(dict(silent, email_verified=False, provider="entra"))
    assert refused.reason == sso.UNVERIFIED
    other = admit_with(dict(silent, provider="google"))
    assert other.reason == sso.UNVERIFIED
    linked = admit_with(dict(silent, provider="entra"))
    assert linked.member is not None and linked.member.username == "bob"


def test_unknown_identity_refused_nothing_written_but_audit(
    store: ConversationStore, team: MemberStore
) -> None:
    def counts() -> dict[str, int]:
        with store.engine.connect() as conn:
            return {
                t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() or 0)
                for t in (schema.members, schema.sso_identities, schema.sso_settings)
            }

    before = counts()
    result = admit(store, team, claims("s-3", "alice@other.org"))
    assert result.member is None and result.reason == sso.UNKNOWN
    assert result.problem == "No member of this team uses alice@other.org; ask an admin."
    assert counts() == before
    assert sso_log(store) == [("login refused", sso.UNKNOWN)]
    # The same login seen again (a reload) is not audited twice.
    admit(store, team, claims("s-3", "alice@other.org"))
    assert len(sso_log(store)) == 1


def test_domain_self_join_makes_a_member_without_password(
    store: ConversationStore, team: MemberStore
) -> None:
    SsoStore(store.engine).set_self_join_domains(["other.org"], actor="ann")
    unverified = admit(store, team, claims("s-4", "alice@other.org", verified=False))
    assert unverified.member is None and unverified.reason == sso.UNVERIFIED
    assert team.get("alice@other.org") is None
    joined = admit(store, team, claims("s-4", "alice@other.org", name="Alice"))
    assert joined.member is not None
    assert (joined.member.username, joined.member.role) == ("alice@other.org", "member")
    assert joined.member.name == "Alice"
    assert team.password_hashes()["alice@other.org"] is None  # no password login
    assert "joined by email domain" in [a for a, _ in sso_log(store)]


def test_disabled_removed_and_logged_out_members_are_refused(
    store: ConversationStore, team: MemberStore
) -> None:
    now = [team.now()]
    team = MemberStore(store.engine, clock=lambda: now[0])  # a clock the test moves

    def at(seconds: int) -> dict[str, Any]:
        return claims("s-5", "bob@example.com", iat=int(now[0].timestamp()) + seconds)

    assert admit(store, team, at(1)).member is not None
    now[0] += timedelta(seconds=10)
    team.set_disabled("bob", True)
    assert admit(store, team, at(1)).reason == sso.DISABLED
    team.set_disabled("bob", False)
    # The cookie's login predates the disable: it no longer logs in.
    assert admit(store, team, at(-5)).reason == sso.ENDED
    # A new login at the provider (a later iat) does.
    assert admit(store, team, at(2)).member is not None
    fresh = at(2)
    now[0] += timedelta(seconds=10)
    team.revoke_logins("bob")  # Log out
    assert admit(store, team, fresh).reason == sso.ENDED
    team.remove("bob")
    removed = admit(store, team, at(5))
    assert removed.reason == sso.REMOVED and removed.member is None
    reasons = [d for a, d in sso_log(store) if a == "login refused"]
    assert reasons == [sso.DISABLED, sso.ENDED, sso.ENDED, sso.REMOVED]


def test_groups_claim_reaches_the_hook_capped_and_admin_group_promotes(
    store: ConversationStore, team: MemberStore, hook_calls: list[tuple[str, list[str]]]
) -> None:
    names = ["chat-admins", "<b>Sales</b>", "x" * 5000, 7, "Sales"] + [
        f"g{i}" for i in range(10_000)
    ]
    result = admit(store, team, claims("s-6", "bob@example.com", groups=names))
    assert result.member is not None and result.member.role == "admin"
    assert team.get("bob") is not None and team.get("bob").role == "admin"  # type: ignore[union-attr]
    ((who, received),) = hook_calls
    assert who == "bob"
    assert received[:3] == ["chat-admins", "<b>Sales</b>", "Sales"]  # as text, long one dropped
    assert len(received) == sso.MAX_GROUPS
    actions = [a for a, _ in sso_log(store)]
    assert {"groups claim", "group change", "role from provider"} <= set(actions)
    # A token without the claim says nothing about groups: the hook is not called.
    admit(store, team, claims("s-6b", "ann@example.com"))
    assert len(hook_calls) == 1
    # A reload of the same login does not call the hook again.
    admit(store, team, claims("s-6", "bob@example.com", groups=names, iat=result_iat(store)))
    assert len(hook_calls) == 1


def result_iat(store: ConversationStore) -> int:
    identity = SsoStore(store.engine).identity(ISS, "s-6")
    assert identity is not None and identity.last_login_iat is not None
    return identity.last_login_iat


def test_incomplete_identity_refused(store: ConversationStore, team: MemberStore) -> None:
    result = admit(store, team, {"email": "ann@example.com", "email_verified": True})
    assert result.member is None and result.reason == sso.INCOMPLETE


def test_password_login_setting_and_domains(store: ConversationStore) -> None:
    settings = SsoStore(store.engine)
    assert settings.settings().password_login is True
    settings.set_password_login(False, actor="ann")
    assert settings.settings().password_login is False
    settings.set_self_join_domains(["Example.COM", "@other.org"], actor="ann")
    assert settings.settings().self_join_domains == ("example.com", "other.org")
    assert settings.settings().password_login is False


def test_parse_domains() -> None:
    assert parse_domains(" a.com, b.org\nc.net ; a.com") == ("a.com", "b.org", "c.net")
    assert parse_domains("") == ()
    assert parse_domains("a.com،b.org؛ @C.net，d.io") == ("a.com", "b.org", "c.net", "d.io")
    assert parse_domains(" ,; \n") == ()
    for bad in ("gmail", "a b@c.com", "<b>x</b>.com", "x" * 300 + ".com"):
        with pytest.raises(DomainError):
            parse_domains(bad)


def test_read_config() -> None:
    assert not read_config(None).enabled
    base = {"redirect_uri": "https://c.example.com/oauth2callback", "cookie_secret": "s" * 32}
    one = read_config(
        base | {"client_id": "i", "client_secret": "s", "server_metadata_url": "https://x/m"}
    )
    assert one.providers == (Provider("default", DEFAULT_DISPLAY_NAME),) and not one.problem
    named = read_config(
        base
        | {
            "google": {
                "client_id": "i",
                "client_secret": "s",
                "server_metadata_url": "https://x/m",
                "display_name": "Google",
            },
            "groups_claim": "roles",
            "admin_group": "admins",
        }
    )
    assert named.providers == (Provider("google", "Google"),)
    assert named.trusted_email == frozenset()
    entra = read_config(
        base
        | {
            "entra": {
                "client_id": "i",
                "client_secret": "s",
                "server_metadata_url": "https://x/m",
                "trust_email": True,
            }
        }
    )
    assert entra.trusted_email == frozenset({"entra"})
    assert (named.groups_claim, named.admin_group) == ("roles", "admins")
    wrong = read_config(base | {"redirect_uri": "https://c/", "client_id": "i"})
    assert not wrong.enabled and "oauth2callback" in wrong.problem
    missing = read_config(base | {"client_id": "i", "server_metadata_url": "https://x/m"})
    assert not missing.enabled and "client_secret" in missing.problem
    assert "s" * 32 not in missing.problem
