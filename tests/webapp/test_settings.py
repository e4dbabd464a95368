"""webapp.settings: environment first, then st.secrets; secrets never in a repr."""

from __future__ import annotations

import pytest

from webapp.conversations.context import ContextLimits
from webapp.settings import (
    DEFAULT_AUTH_FILE,
    DEFAULT_BASE_URL,
    MIN_COOKIE_KEY_LENGTH,
    Settings,
    SettingsError,
    load_settings,
)

TOKEN = "tok-very-secret-123"
COOKIE_KEY = "k" * MIN_COOKIE_KEY_LENGTH


def test_nothing_set_means_demo_mode_with_defaults() -> None:
    settings = load_settings({}, {})
    assert settings.demo_mode
    assert settings.bearer_token is None
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.auth_file == DEFAULT_AUTH_FILE
    assert settings.cookie_key is None
    assert settings.emulator_delay is None


def test_environment_wins_over_secrets_and_secrets_fill_the_gaps() -> None:
    env = {"ABLT_BEARER_TOKEN": TOKEN, "ABLT_AUTH_FILE": "/srv/team.yaml"}
    secrets = {
        "ABLT_BEARER_TOKEN": "from-secrets",
        "ABLT_BASE_URL": "https://proxy.example.com/",
        "ABLT_COOKIE_KEY": COOKIE_KEY,
        "ABLT_EMULATOR_DELAY": 0,
    }
    settings = load_settings(env, secrets)
    assert settings.bearer_token == TOKEN
    assert not settings.demo_mode
    assert settings.base_url == "https://proxy.example.com"  # trailing slash dropped
    assert settings.auth_file == "/srv/team.yaml"
    assert settings.cookie_key == COOKIE_KEY
    assert settings.emulator_delay == 0.0


def test_an_empty_environment_variable_falls_back_to_secrets() -> None:
    settings = load_settings({"ABLT_BEARER_TOKEN": "  "}, {"ABLT_BEARER_TOKEN": TOKEN})
    assert settings.bearer_token == TOKEN


def test_repr_never_shows_the_token_or_the_cookie_key() -> None:
    settings = load_settings({"ABLT_BEARER_TOKEN": TOKEN, "ABLT_COOKIE_KEY": COOKIE_KEY})
    text = repr(settings) + str(settings)
    assert TOKEN not in text
    assert COOKIE_KEY not in text
    assert "base_url" in text


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.bearer_token = TOKEN  # type: ignore[misc]


@pytest.mark.parametrize("value", ["fast", "-1"])
def test_a_bad_emulator_delay_names_the_setting(value: str) -> None:
    with pytest.raises(SettingsError, match="ABLT_EMULATOR_DELAY"):
        load_settings({"ABLT_EMULATOR_DELAY": value})


def test_cookie_key_rules_apply_only_with_a_real_token() -> None:
    assert load_settings({}).cookie_key_problem is None
    assert load_settings({"ABLT_COOKIE_KEY": "short"}).cookie_key_problem is None

    missing = load_settings({"ABLT_BEARER_TOKEN": TOKEN}).cookie_key_problem
    assert missing is not None and "ABLT_COOKIE_KEY is not set" in missing

    short = load_settings({"ABLT_BEARER_TOKEN": TOKEN, "ABLT_COOKIE_KEY": "k" * 31})
    assert short.cookie_key_problem is not None
    assert "too short" in short.cookie_key_problem
    assert "k" * 31 not in short.cookie_key_problem  # the message never echoes the key

    good = load_settings({"ABLT_BEARER_TOKEN": TOKEN, "ABLT_COOKIE_KEY": COOKIE_KEY})
    assert good.cookie_key_problem is None


def test_database_url_and_context_caps_come_from_env_or_secrets() -> None:
    default = load_settings({}, {})
    assert default.db_url is None
    assert default.context_limits == ContextLimits()

    settings = load_settings(
        {"ABLT_CONTEXT_MAX_MESSAGES": "12"},
        {"ABLT_DB_URL": "postgresql+psycopg://u:pw@db/chat", "ABLT_CONTEXT_MAX_WORDS": 0},
    )
    assert settings.db_url == "postgresql+psycopg://u:pw@db/chat"
    assert settings.context_limits == ContextLimits(max_messages=12, max_words=None)
    assert "pw" not in repr(settings)  # the URL may carry the database password


def test_a_bad_context_cap_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="ABLT_CONTEXT_MAX_WORDS"):
        load_settings({"ABLT_CONTEXT_MAX_WORDS": "lots"}, {})


def test_the_worker_cap_comes_from_env_or_secrets_and_a_bad_one_names_the_setting() -> None:
    from webapp.settings import DEFAULT_MAX_WORKERS, ENV_MAX_WORKERS

    assert load_settings({}).max_workers == DEFAULT_MAX_WORKERS
    assert load_settings({ENV_MAX_WORKERS: "3"}).max_workers == 3
    assert load_settings({}, {ENV_MAX_WORKERS: 5}).max_workers == 5
    for bad in ("0", "-2", "many", "2.5"):
        with pytest.raises(SettingsError, match=ENV_MAX_WORKERS):
            load_settings({ENV_MAX_WORKERS: bad})


def test_the_team_limit_on_simultaneous_answers_comes_from_env_or_secrets() -> None:
    from webapp.settings import ENV_MAX_CONCURRENT_ANSWERS, ENV_SLOT_STALE_SECONDS

    assert load_settings({}).max_concurrent_answers is None  # none set: no limit
    assert load_settings({ENV_MAX_CONCURRENT_ANSWERS: "2"}).max_concurrent_answers == 2
    assert load_settings({}, {ENV_MAX_CONCURRENT_ANSWERS: 3}).max_concurrent_answers == 3
    for bad in ("0", "-1", "two", "1.5"):
        with pytest.raises(SettingsError, match=ENV_MAX_CONCURRENT_ANSWERS):
            load_settings({ENV_MAX_CONCURRENT_ANSWERS: bad})
    assert load_settings({}).slot_stale_seconds == 30.0
    assert load_settings({ENV_SLOT_STALE_SECONDS: "1.5"}).slot_stale_seconds == 1.5
    for bad in ("0", "soon"):
        with pytest.raises(SettingsError, match=ENV_SLOT_STALE_SECONDS):
            load_settings({ENV_SLOT_STALE_SECONDS: bad})


def test_the_metrics_token_is_read_and_never_shown() -> None:
    settings = load_settings({}, {"ABLT_METRICS_TOKEN": " scrape-token-42 "})
    assert settings.metrics_token == "scrape-token-42"
    assert "scrape-token-42" not in repr(settings) + str(settings)
    assert load_settings({}).metrics_token is None
