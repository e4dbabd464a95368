"""Single sign-on's configuration, read from the `[auth]` section of
`.streamlit/secrets.toml` the way Streamlit's `st.login` reads it.

    [auth]                                # one provider ("default")
    redirect_uri = "https://chat.example.com/oauth2callback"
    cookie_secret = "..."                 # long and random; the same in every process
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"
    display_name = "Example SSO"          # ours: "Continue with Example SSO"
    groups_claim = "groups"               # ours: the claim naming the member's groups
    admin_group = "chat-admins"           # ours: its members become admins
    trust_email = false                   # ours: see below

or named providers, each in `[auth.<name>]` (client_id, client_secret,
server_metadata_url, display_name), beside `redirect_uri` and
`cookie_secret` in `[auth]` (Streamlit: st.login(name)). The keys marked
"ours" are read by this app only; Streamlit and Authlib ignore them.
`trust_email = true` (in `[auth]` for the default provider, or in a
provider's table) says the provider's email addresses are verified although
its tokens carry no `email_verified` claim (Microsoft Entra ID); an explicit
`email_verified = false` is still refused.

No Streamlit here: `read_config` takes the section as a plain mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from webapp.ui.i18n import N_

DEFAULT_PROVIDER: Final = "default"
DEFAULT_DISPLAY_NAME: Final = N_("single sign-on")
DEFAULT_GROUPS_CLAIM: Final = "groups"
CALLBACK_PATH: Final = "/oauth2callback"
MAX_DISPLAY_NAME: Final = 60
# Keys that make a table a provider (Streamlit's own test is alike).
_PROVIDER_KEYS: Final = ("client_id", "server_metadata_url")
_REQUIRED: Final = ("client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True, slots=True)
class Provider:
    """One identity provider: `key` is what `st.login(key)` takes ("default"
    for the unnamed one), `label` its display name."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class SsoConfig:
    """What the login page and the admission rules need.

    `providers`: in the order of the file (empty: single sign-on is off).
    `groups_claim`: the ID token claim listing the member's groups.
    `admin_group`: members of this group become admins ('' : none).
    `trusted_email`: the keys of providers whose emails count as verified
    when their tokens do not say (`trust_email`).
    `problem`: why the section cannot work as written (shown to admins on
    the login page instead of a traceback), or ''.
    """

    providers: tuple[Provider, ...] = ()
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    admin_group: str = ""
    problem: str = ""
    trusted_email: frozenset[str] = frozenset()  # providers with `trust_email = true`

    @property
    def enabled(self) -> bool:
        """Whether any provider is configured."""
        return bool(self.providers)


def _text(value: Any, default: str = "", limit: int = 200) -> str:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else default


def _is_provider(table: Mapping[str, Any]) -> bool:
    return any(key in table for key in _PROVIDER_KEYS)


def read_config(section: Mapping[str, Any] | None) -> SsoConfig:
    """The configuration in an `[auth]` section (a mapping; None or empty: off).

    Never raises: a section that cannot work (no redirect_uri ending in
    /oauth2callback, no cookie_secret, a provider missing a key, a name with
    an underscore, which Streamlit refuses) keeps single sign-on off and
    says why in `problem` (never echoing a secret).
    """
    if not section:
        return SsoConfig()
    providers: list[Provider] = []
    missing: list[str] = []
    trusted: set[str] = set()
    if _is_provider(section):
        if section.get("trust_email") is True:
            trusted.add(DEFAULT_PROVIDER)
        providers.append(
            Provider(
                DEFAULT_PROVIDER,
                _text(section.get("display_name"), DEFAULT_DISPLAY_NAME, MAX_DISPLAY_NAME),
            )
        )
        missing += [key for key in _REQUIRED if not section.get(key)]
    for name, table in section.items():
        if isinstance(table, Mapping) and _is_provider(table):
            if "_" in name:
                return SsoConfig(problem=f"[auth.{name}]: a provider's name cannot contain '_'.")
            label = _text(table.get("display_name"), name, MAX_DISPLAY_NAME)
            if table.get("trust_email") is True:
                trusted.add(str(name))
            providers.append(Provider(str(name), label))
            missing += [f"{name}.{key}" for key in _REQUIRED if not table.get(key)]
    groups_claim = _text(section.get("groups_claim"), DEFAULT_GROUPS_CLAIM, 100)
    admin_group = _text(section.get("admin_group"))
    redirect = _text(section.get("redirect_uri"), limit=2000)
    problem = ""
    if not providers:
        problem = "[auth] names no identity provider (client_id, server_metadata_url)."
    elif not redirect.endswith(CALLBACK_PATH):
        problem = f"[auth] redirect_uri must be set and end in {CALLBACK_PATH}."
    elif not section.get("cookie_secret"):
        problem = "[auth] cookie_secret must be set (a long random string)."
    elif missing:
        problem = f"[auth] is missing: {', '.join(missing)}."
    if problem:
        return SsoConfig(groups_claim=groups_claim, admin_group=admin_group, problem=problem)
    return SsoConfig(tuple(providers), groups_claim, admin_group, "", frozenset(trusted))
