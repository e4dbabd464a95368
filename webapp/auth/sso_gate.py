"""Single sign-on on the login page, through Streamlit's `st.login` / `st.user` / `st.logout`.

`webapp.auth.gate` calls these every run:

- `sso_config()`: the `[auth]` section of the secrets (`webapp.auth.sso_config`);
  without one nothing here draws or does anything.
- `render_buttons(engine)`: "Continue with <provider>" above the password
  form, the outcome of a failed round trip to the provider (`sso_routes`
  sends the browser back with `?sso=...`), and the password form's switch.
- `log_in_from_provider(...)`: when `st.user` holds an identity (Streamlit's
  signed cookie, set at /oauth2callback) and nobody is logged in, the rules
  of `webapp.auth.sso.admit` decide; a member admitted is logged in through
  the authenticator's token path (as the password form does), with the
  session's login time now, so Log out, a disable or a removal end it like
  any other (`gate.session_ended`, `webapp.auth.guard`).
- `end_provider_session()`: Log out's part: `st.logout()` drops Streamlit's
  cookie and sends the browser to the provider's end-session endpoint when
  its metadata publishes one (Streamlit's /auth/logout does that).

Nothing of the provider's tokens or the client secret is shown or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from webapp.audit.log import AuditLog
from webapp.auth import sso
from webapp.auth.sso_config import SsoConfig, read_config
from webapp.auth.sso_routes import OUTCOME_PARAM, outcome_message
from webapp.auth.sso_store import SsoStore
from webapp.team.members import MemberStore
from webapp.team.model import TeamError
from webapp.text.literal import escape
from webapp.ui.i18n import N_, _
from webapp.ui.state import Keys

log = logging.getLogger(__name__)
_warned: set[str] = set()

BUTTON_KEY: Final = "sso_continue_"
PASSWORD_LOGIN_OFF: Final = N_(
    "Password login is switched off for this team: use single sign-on. "
    "(An admin can switch it back on, on the Team page or with `python "
    "-m webapp.team password-login on`.)"
)
NOT_AVAILABLE: Final = N_(
    "Single sign-on cannot start: its settings in "
    ".streamlit/secrets.toml are not complete. Ask the person who runs "
    "this app."
)
DATABASE_DOWN: Final = N_(
    "Logging in is not possible right now: the app's database is not "
    "answering. Try again in a moment."
)


def _plain(value: Any) -> Any:
    """A secrets section (Streamlit's read-only mapping) as plain dicts."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def sso_config() -> SsoConfig:
    """The `[auth]` section of the app's secrets, read now (off without one)."""
    try:
        section = st.secrets.get("auth")
    except Exception:  # no secrets file at all, or one that is not TOML
        return SsoConfig()
    return read_config(_plain(section) if isinstance(section, Mapping) else None)


def provider_identity() -> dict[str, Any] | None:
    """The claims of the identity in `st.user`, or None when it holds none."""
    try:
        if not st.user.get("is_logged_in"):
            return None
        return dict(st.user.to_dict())
    except Exception:  # st.user depends on the host; never let it stop the login page
        log.debug("st.user could not be read", exc_info=True)
        return None


def password_login_enabled(engine: Engine) -> bool:
    """Whether the password form is offered (the Team page's switch; on when
    the setting cannot be read, so a database hiccup locks nobody out)."""
    try:
        return SsoStore(engine).settings().password_login
    except SQLAlchemyError:
        log.warning("The single sign-on settings could not be read", exc_info=True)
        return True


def _start(provider: str) -> None:
    st.session_state.pop(Keys.SSO_OUTCOME, None)
    st.session_state.pop(Keys.LOGIN_PROBLEM, None)
    try:
        st.login(provider)
    except Exception:  # StreamlitAuthError: the section is incomplete
        log.warning("st.login could not start", exc_info=True)
        st.session_state[Keys.LOGIN_PROBLEM] = NOT_AVAILABLE


def render_buttons(engine: Engine) -> bool:
    """Draw "Continue with <provider>" for each configured provider, and say
    why the last round trip to the provider failed, if it did. Returns
    whether the password form may be drawn below."""
    config = sso_config()
    password_on = password_login_enabled(engine) or not config.enabled
    outcome = st.query_params.get(OUTCOME_PARAM)
    if outcome:
        # Kept until the next attempt: the runs that follow the page's first
        # (the cookie component reporting back) must still show it.
        del st.query_params[OUTCOME_PARAM]
        st.session_state[Keys.SSO_OUTCOME] = outcome_message(str(outcome), password_on)
    if st.session_state.get(Keys.SSO_OUTCOME):
        st.error(st.session_state[Keys.SSO_OUTCOME], icon=":material/error:")
    if not config.enabled:
        if config.problem and config.problem not in _warned:
            _warned.add(config.problem)  # once per process, not at every run
            log.warning("Single sign-on is off: %s", config.problem)
        return True
    for provider in config.providers:
        if st.button(
            _("Continue with {label}").format(label=escape(provider.label)),
            key=BUTTON_KEY + provider.key,
            type="primary",
            icon=":material/login:",
            width="stretch",
        ):
            _start(provider.key)
    if st.session_state.get(Keys.SSO_REFUSED) and st.button(
        _("Use another account"), key="sso_other_account", icon=":material/switch_account:"
    ):
        st.logout()  # drops the refused identity's cookie; back to this page
    if password_on:
        st.caption(_("or log in with a password:"))
    return password_on


def log_in_from_provider(login: Any, team: MemberStore, engine: Engine) -> tuple[str, Any] | None:
    """Admit the identity in `st.user`, if any and nobody is logged in yet.

    `login(username)` logs the member in (the gate's token path). Returns
    None when there was nothing to do, or (username, login time) after a
    login; a refusal leaves its plain message in `Keys.LOGIN_PROBLEM`.
    """
    claims = provider_identity()
    if claims is None:
        return None
    config = sso_config()
    if not config.enabled:
        return None
    try:
        admission = sso.admit(
            claims, team=team, store=SsoStore(engine), audit=AuditLog(engine), config=config
        )
    except (SQLAlchemyError, TeamError):
        log.warning("Single sign-on could not be checked", exc_info=True)
        st.session_state[Keys.LOGIN_PROBLEM] = DATABASE_DOWN
        return None
    if admission.member is None:
        # It may quote the email address the provider sent: shown as text.
        st.session_state[Keys.LOGIN_PROBLEM] = escape(admission.problem)
        st.session_state[Keys.SSO_REFUSED] = True
        return None
    login(admission.member.username)
    st.session_state.pop(Keys.SSO_REFUSED, None)
    st.session_state[Keys.SSO_LOGIN] = True
    return admission.member.username, team.now()


def end_provider_session() -> bool:
    """Log out of the provider's cookie (st.logout: Streamlit's /auth/logout,
    then the provider's end-session endpoint when it publishes one).
    Returns whether the browser is being sent away."""
    if provider_identity() is None:
        return False
    try:
        st.logout()
    except Exception:
        log.warning("st.logout failed", exc_info=True)
        return False
    return True


def refuse_password_attempt(engine: Engine, username: str) -> str:
    """A password login while password login is off (a crafted widget event
    or a form drawn before the switch): refused and audited. Returns the message."""
    try:
        AuditLog(engine).record_sso(
            username[:128] or None, "password login refused", None, "password login is off"
        )
    except SQLAlchemyError:
        log.warning("A refused password login could not be audited", exc_info=True)
    return PASSWORD_LOGIN_OFF
