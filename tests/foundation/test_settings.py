from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.settings import RESPONSE_TIMEOUT_MARGIN_SECONDS, SettingsError, load_settings


def test_defaults_use_embedded_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "FACEIT_API_KEY", "STRIPE_SECRET_KEY", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(data_dir=tmp_path, _env_file=None)
    assert settings.effective_database_url == f"sqlite:///{tmp_path.as_posix()}/faceit.db"
    assert settings.database_kind == "SQLite"
    assert settings.redis_url is None
    assert settings.uses_demo_league
    assert not settings.payments_enabled
    assert settings.payments_missing == [
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_PRICE_ID",
    ]


def test_development_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, secret_key=None, _env_file=None)
    first = settings.resolved_secret_key()
    assert len(first) >= 32
    assert settings.resolved_secret_key() == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "DATABASE_URL",
            "mysql://root@localhost/x",
            "DATABASE_URL: expected a sqlite:/// or postgresql://",
        ),
        ("DATABASE_URL", "not a url", "DATABASE_URL: expected an SQLAlchemy URL"),
        ("REDIS_URL", "http://localhost:6379", "REDIS_URL: expected a redis://"),
        ("FACEIT_RATE_LIMIT", "-3", "FACEIT_RATE_LIMIT:"),
        ("ENVIRONMENT", "staging", "ENVIRONMENT:"),
    ],
)
def test_wrong_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    assert expected in str(error.value)


def test_production_refuses_missing_or_placeholder_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="SECRET_KEY is required"):
        load_settings(_env_file=None)
    monkeypatch.setenv("SECRET_KEY", "changethis")
    with pytest.raises(SettingsError, match="at least 32 characters"):
        load_settings(_env_file=None)


def test_database_response_timeout_follows_the_statement_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The client's deadline on a silent database (core.db.deadline) comes after the server's
    own statement cancel: by default the statement timeout plus a margin; a shorter explicit
    one is refused; 0 (either when not set explicitly) means no deadline."""
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "8")
    settings = load_settings(_env_file=None)
    assert settings.effective_database_response_timeout == 8 + RESPONSE_TIMEOUT_MARGIN_SECONDS
    monkeypatch.setenv("DATABASE_RESPONSE_TIMEOUT_SECONDS", "9.5")
    assert load_settings(_env_file=None).effective_database_response_timeout == 9.5
    monkeypatch.setenv("DATABASE_RESPONSE_TIMEOUT_SECONDS", "8")
    with pytest.raises(SettingsError, match="DATABASE_RESPONSE_TIMEOUT_SECONDS must exceed"):
        load_settings(_env_file=None)
    monkeypatch.setenv("DATABASE_RESPONSE_TIMEOUT_SECONDS", "0")
    assert load_settings(_env_file=None).effective_database_response_timeout is None
    monkeypatch.delenv("DATABASE_RESPONSE_TIMEOUT_SECONDS")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_SECONDS", "0")
    assert load_settings(_env_file=None).effective_database_response_timeout is None


def test_plain_postgresql_url_uses_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:s3cret@db:5432/faceit")
    settings = load_settings(_env_file=None)
    assert settings.effective_database_url.startswith("postgresql+psycopg://")
    assert settings.database_kind == "PostgreSQL"


def test_blank_optional_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("FACEIT_API_KEY", "  ")
    settings = load_settings(_env_file=None)
    assert settings.redis_url is None and settings.uses_demo_league


# A value for every API_* setting and the other front-door settings, each different from its
# default, as a user would write them in .env.
DOTENV_VALUES = {
    "API_ACCESS_TOKEN_TTL_SECONDS": ("access_token_ttl_seconds", "600", 600),
    "API_REFRESH_TOKEN_TTL_SECONDS": ("refresh_token_ttl_seconds", "3600", 3600),
    "API_RATE_LIMIT_USER": ("rate_limit_user", "7/minute", "7/minute"),
    "API_RATE_LIMIT_IP": ("rate_limit_ip", "9 per second", "9 per second"),
    "API_RATE_LIMIT_ENABLED": ("rate_limit_enabled", "false", False),
    "API_RATE_LIMIT_STRATEGY": ("rate_limit_strategy", "moving-window", "moving-window"),
    "API_MAX_BODY_BYTES": ("max_body_bytes", "1234", 1234),
    "API_WEBHOOK_MAX_BODY_BYTES": ("webhook_max_body_bytes", "4321", 4321),
    "API_PLAYER_CACHE_SECONDS": ("player_cache_seconds", "0", 0.0),
    "API_ANALYSIS_CACHE_SECONDS": ("analysis_cache_seconds", "1.5", 1.5),
    "API_ANALYSIS_CONCURRENCY": ("analysis_concurrency", "3", 3),
    "API_LOG_JSON": ("log_json", "0", False),
    "API_GC_FREEZE": ("gc_freeze", "false", False),
    "API_OTEL_TELEMETRY": ("otel_telemetry", "true", True),
    "API_LOG_REQUESTS": ("log_requests", "false", False),
    "API_DEBUG_ERROR_ROUTE": ("debug_error_route", "true", True),
}
TOP_LEVEL_VALUES = {
    "AUTH_COOKIE_DAYS": ("auth_cookie_days", "2.5", 2.5),
    "TRAIN_CRON": ("train_cron", "15 4 * * 1", "15 4 * * 1"),
    "SYNC_CRON": ("sync_cron", "*/5 * * * *", "*/5 * * * *"),
}


@pytest.fixture
def in_empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory is an empty folder and no front-door variable is set."""
    for name in (*DOTENV_VALUES, *TOP_LEVEL_VALUES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_api_setting_is_read_from_dotenv(in_empty_dir: Path) -> None:
    lines = [f"{name}={raw}" for name, (_, raw, _) in DOTENV_VALUES.items()]
    (in_empty_dir / ".env").write_text("\n".join(lines) + "\n")
    api = load_settings().api
    assert set(DOTENV_VALUES.values()) and {f for f, _, _ in DOTENV_VALUES.values()} == set(
        type(api).model_fields
    ), "every API_* setting is covered here"
    for name, (field, _, expected) in DOTENV_VALUES.items():
        assert getattr(api, field) == expected, name
        assert getattr(api, field) != type(api).model_fields[field].default, name


def test_cookie_and_schedule_settings_are_read_from_dotenv(in_empty_dir: Path) -> None:
    lines = [f"{name}={raw}" for name, (_, raw, _) in TOP_LEVEL_VALUES.items()]
    (in_empty_dir / ".env").write_text("\n".join(lines) + "\n")
    settings = load_settings()
    for name, (field, _, expected) in TOP_LEVEL_VALUES.items():
        assert getattr(settings, field) == expected, name


def test_the_environment_wins_over_dotenv(
    in_empty_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_empty_dir / ".env").write_text("API_RATE_LIMIT_USER=7/minute\nTRAIN_CRON=1 1 * * *\n")
    monkeypatch.setenv("API_RATE_LIMIT_USER", "8/minute")
    monkeypatch.setenv("TRAIN_CRON", "2 2 * * *")
    settings = load_settings()
    assert settings.api.rate_limit_user == "8/minute"
    assert settings.train_cron == "2 2 * * *"


def test_defaults_without_dotenv(in_empty_dir: Path) -> None:
    settings = load_settings()
    assert settings.auth_cookie_days == 7
    assert settings.train_cron == "0 3 * * *" and settings.sync_cron == "*/30 * * * *"
    assert settings.api.rate_limit_user == "120/minute"
    assert settings.api.access_token_ttl_seconds == 15 * 60


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("API_RATE_LIMIT_USER=lots", "API_RATE_LIMIT_USER: expected a rate"),
        ("API_RATE_LIMIT_STRATEGY=sliding", "API_RATE_LIMIT_STRATEGY:"),
        ("API_ACCESS_TOKEN_TTL_SECONDS=1", "API_ACCESS_TOKEN_TTL_SECONDS:"),
        ("AUTH_COOKIE_DAYS=-1", "AUTH_COOKIE_DAYS:"),
        ("AUTH_COOKIE_DAYS=a week", "AUTH_COOKIE_DAYS:"),
        ("TRAIN_CRON=@daily", "TRAIN_CRON: expected a five-field cron"),
        ("SYNC_CRON=* * * * * *", "SYNC_CRON: expected a five-field cron"),
    ],
)
def test_wrong_dotenv_values_name_the_variable(
    in_empty_dir: Path, line: str, expected: str
) -> None:
    (in_empty_dir / ".env").write_text(line + "\n")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert expected in str(error.value)


def test_unrelated_api_prefixed_variables_are_ignored(
    in_empty_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_SOMETHING_ELSE", "x")
    monkeypatch.setenv("API", "")
    assert load_settings().api.rate_limit_ip == "300/minute"


def test_a_group_variable_that_is_not_json_is_explained(
    in_empty_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API", "yes please")
    with pytest.raises(SettingsError, match='field "api"'):
        load_settings()
