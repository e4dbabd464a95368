"""The app's configuration, read from environment variables or `st.secrets`.

An environment variable wins over a secret of the same name, so a deployment
can override `.streamlit/secrets.toml` without editing it. Settings are read
fresh on every script run (it is a handful of dictionary lookups), which keeps
tests that change the environment between runs honest.

The bearer token and the cookie key are secrets: they are excluded from the
dataclass repr, so printing or logging a `Settings` never shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ablt_core import DEFAULT_BASE_URL, ENV_BASE_URL, ENV_BEARER_TOKEN
from webapp.conversations.context import (
    ENV_CONTEXT_MAX_MESSAGES,
    ENV_CONTEXT_MAX_WORDS,
    ContextLimits,
)
from webapp.ui.i18n import _

DEFAULT_AUTH_FILE = ".streamlit/auth.yaml"
# streamlit-authenticator signs its login cookie (a JWT, HS256) with this key;
# 32 characters is the least that resists guessing.
MIN_COOKIE_KEY_LENGTH = 32
# Answers one app process generates at once; more prompts wait for a free slot.
# An answer is an asyncio task and one pooled HTTP connection (a few tens of KB),
# so the default is what a process carries, not a cap of its own: the real bound
# is the team's simultaneous-answer limit (`ENV_MAX_CONCURRENT_ANSWERS`).
ENV_MAX_WORKERS = "ABLT_MAX_WORKERS"
DEFAULT_MAX_WORKERS = 256
# The most answers the whole team may have streaming at once, across every app
# process (the aBLT plan's limit); unset: no limit (a 429 still backs off).
ENV_MAX_CONCURRENT_ANSWERS = "ABLT_MAX_CONCURRENT_ANSWERS"
# Seconds a silent app process keeps its answer slots (tests shorten it).
ENV_SLOT_STALE_SECONDS = "ABLT_SLOT_STALE_SECONDS"
DEFAULT_SLOT_STALE_SECONDS = 30.0
# The bearer token a non-loopback scraper of /metrics must send (unset: loopback only).
ENV_METRICS_TOKEN = "ABLT_METRICS_TOKEN"

ENV_NAMES = (
    ENV_BEARER_TOKEN,
    ENV_BASE_URL,
    "ABLT_AUTH_FILE",
    "ABLT_COOKIE_KEY",
    "ABLT_EMULATOR_DELAY",
    "ABLT_DB_URL",
    "ABLT_TRUSTED_PROXY_HOPS",
    ENV_CONTEXT_MAX_MESSAGES,
    ENV_CONTEXT_MAX_WORDS,
    ENV_MAX_WORKERS,
    ENV_MAX_CONCURRENT_ANSWERS,
    ENV_SLOT_STALE_SECONDS,
    ENV_METRICS_TOKEN,
)


class SettingsError(ValueError):
    """A setting has a value the app cannot use (the message names the setting)."""


@dataclass(frozen=True)
class Settings:
    bearer_token: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    auth_file: str = DEFAULT_AUTH_FILE
    cookie_key: str | None = field(default=None, repr=False)
    # Seconds between streamed pieces of the embedded emulator; None = its default.
    emulator_delay: float | None = None
    # The conversation store's SQLAlchemy URL; None = the SQLite file under data/.
    # Excluded from the repr: a PostgreSQL URL carries a password.
    db_url: str | None = field(default=None, repr=False)
    # How much history each request carries (ABLT_CONTEXT_MAX_MESSAGES / _WORDS).
    context_limits: ContextLimits = field(default_factory=ContextLimits)
    # Answers generated at once by one app process (more wait for a free slot).
    max_workers: int = DEFAULT_MAX_WORKERS
    # The team's limit on simultaneous answers across processes (None: none set;
    # an admin's limit stored in the database wins, see webapp.answers.slots_store).
    max_concurrent_answers: int | None = None
    slot_stale_seconds: float = DEFAULT_SLOT_STALE_SECONDS
    # How many reverse proxies in front of the app append to X-Forwarded-For
    # (and set X-Forwarded-Proto): 0 trusts no such header. See docs/deploy.md.
    trusted_proxy_hops: int = 0
    # `Authorization: Bearer <token>` lets a non-loopback client read /metrics
    # (webapp.operations.routes); None: loopback clients only. A secret.
    metrics_token: str | None = field(default=None, repr=False)

    @property
    def demo_mode(self) -> bool:
        """No token configured: the app runs against its built-in emulator."""
        return not self.bearer_token

    @property
    def cookie_key_problem(self) -> str | None:
        """Why the cookie key is unusable with a real token, or None when it is fine."""
        if self.demo_mode:
            return None
        if not self.cookie_key:
            return "ABLT_COOKIE_KEY is not set."
        if len(self.cookie_key) < MIN_COOKIE_KEY_LENGTH:
            return (
                f"ABLT_COOKIE_KEY is too short ({len(self.cookie_key)} characters; "
                f"at least {MIN_COOKIE_KEY_LENGTH} are needed)."
            )
        return None


def load_settings(
    env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> Settings:
    """Build Settings from `env` (default `os.environ`), falling back to `secrets`."""
    env = os.environ if env is None else env
    secrets = secrets or {}

    def get(name: str) -> str | None:
        value = env.get(name)
        if value is None or not str(value).strip():
            value = secrets.get(name)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    delay_text = get("ABLT_EMULATOR_DELAY")
    delay: float | None = None
    if delay_text is not None:
        try:
            delay = float(delay_text)
        except ValueError:
            raise SettingsError(
                _("ABLT_EMULATOR_DELAY must be a number of seconds, not {delay_text!r}.").format(
                    delay_text=delay_text
                )
            ) from None
        if delay < 0:
            raise SettingsError(_("ABLT_EMULATOR_DELAY cannot be negative."))

    caps = {
        name: text
        for name in (ENV_CONTEXT_MAX_MESSAGES, ENV_CONTEXT_MAX_WORDS)
        if (text := get(name)) is not None
    }
    try:
        limits = ContextLimits.from_env(caps)
    except ValueError as err:
        raise SettingsError(str(err)) from None

    workers_text = get(ENV_MAX_WORKERS)
    max_workers = DEFAULT_MAX_WORKERS
    if workers_text is not None:
        try:
            max_workers = int(workers_text)
        except ValueError:
            raise SettingsError(
                _(
                    "{env_max_workers} must be a whole number of answers, not {workers_text!r}."
                ).format(env_max_workers=ENV_MAX_WORKERS, workers_text=workers_text)
            ) from None
        if max_workers < 1:
            raise SettingsError(
                _("{env_max_workers} must be at least 1.").format(env_max_workers=ENV_MAX_WORKERS)
            )
    concurrent_text = get(ENV_MAX_CONCURRENT_ANSWERS)
    max_concurrent: int | None = None
    if concurrent_text is not None:
        try:
            max_concurrent = int(concurrent_text)
        except ValueError:
            raise SettingsError(
                _(
                    "{env_max_concurrent_answers} must be a whole number of answers, "
                    "not {concurrent_text!r}."
                ).format(
                    env_max_concurrent_answers=ENV_MAX_CONCURRENT_ANSWERS,
                    concurrent_text=concurrent_text,
                )
            ) from None
        if max_concurrent < 1:
            raise SettingsError(
                _("{env_max_concurrent_answers} must be at least 1.").format(
                    env_max_concurrent_answers=ENV_MAX_CONCURRENT_ANSWERS
                )
            )
    stale_text = get(ENV_SLOT_STALE_SECONDS)
    stale = DEFAULT_SLOT_STALE_SECONDS
    if stale_text is not None:
        try:
            stale = float(stale_text)
        except ValueError:
            stale = -1.0
        if not stale > 0:
            raise SettingsError(
                _(
                    "{env_slot_stale_seconds} must be a number of seconds above 0, not "
                    "{stale_text!r}."
                ).format(env_slot_stale_seconds=ENV_SLOT_STALE_SECONDS, stale_text=stale_text)
            )
    hops_text = get("ABLT_TRUSTED_PROXY_HOPS") or "0"
    if not hops_text.isdigit():
        raise SettingsError(
            _(
                "ABLT_TRUSTED_PROXY_HOPS must be a whole number of proxies (0, 1, "
                "...), not {hops_text!r}."
            ).format(hops_text=hops_text)
        )

    return Settings(
        bearer_token=get(ENV_BEARER_TOKEN),
        base_url=(get(ENV_BASE_URL) or DEFAULT_BASE_URL).rstrip("/"),
        auth_file=get("ABLT_AUTH_FILE") or DEFAULT_AUTH_FILE,
        cookie_key=get("ABLT_COOKIE_KEY"),
        emulator_delay=delay,
        db_url=get("ABLT_DB_URL"),
        context_limits=limits,
        max_workers=max_workers,
        max_concurrent_answers=max_concurrent,
        slot_stale_seconds=stale,
        trusted_proxy_hops=int(hops_text),
        metrics_token=get(ENV_METRICS_TOKEN),
    )


def streamlit_secrets() -> Mapping[str, Any]:
    """`st.secrets` as a plain mapping, or {} when there is no secrets file."""
    import streamlit as st

    try:
        return {name: st.secrets[name] for name in ENV_NAMES if name in st.secrets}
    except (FileNotFoundError, KeyError):
        # No secrets.toml anywhere: perfectly normal, env vars or demo mode.
        return {}


def get_settings() -> Settings:
    """The settings for this script run: environment first, then `st.secrets`."""
    return load_settings(os.environ, streamlit_secrets())
