from __future__ import annotations

import stat
from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings


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
