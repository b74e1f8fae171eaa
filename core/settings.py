"""Settings from the environment (and an optional .env), validated once at start-up.

Every setting is optional in the default set-up, which runs on embedded parts: a SQLite file under
data/, an in-process cache, the demo league instead of the FACEIT API, the demo checkout instead
of Stripe (nothing is charged). Setting
DATABASE_URL, REDIS_URL, FACEIT_API_KEY or the STRIPE_* variables switches each part to production.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", "dev"}
SECRETS_DIR_ENV = "SECRETS_DIR"


class SettingsError(RuntimeError):
    """A setting has a wrong value; the message names the variable and what it expects."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")

    database_url: str = Field(default="", description="SQLAlchemy URL; default SQLite under data/")
    redis_url: str | None = None

    faceit_api_key: SecretStr | None = None
    faceit_api_base: str = "https://open.faceit.com/data/v4"
    faceit_rate_limit: float = Field(default=10.0, gt=0)
    demo_players: int = Field(default=300, ge=20, le=20_000)
    demo_seed: int = 7

    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_price_id: str | None = None
    stripe_api_base: str | None = None

    secret_key: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8501"
    cors_origins: list[str] = Field(default_factory=list)
    login_max_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    cache_ttl_seconds: int = Field(default=24 * 3600, ge=1)

    # errors to Sentry when set (core.sentry); the release defaults to faceit-ai@<version>
    sentry_dsn: SecretStr | None = None
    sentry_release: str | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # the Streamlit app serves no /metrics of its own: a Prometheus endpoint on this port
    app_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    app_metrics_host: str = "127.0.0.1"

    @field_validator(
        "redis_url", "stripe_price_id", "stripe_api_base", "sentry_release", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "faceit_api_key", "stripe_secret_key", "stripe_webhook_secret", "sentry_dsn", mode="before"
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                f"expected an SQLAlchemy URL such as postgresql://user@host/db ({exc})"
            ) from exc
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("expected a sqlite:/// or postgresql:// URL")
        if url.get_backend_name() == "postgresql" and url.drivername in {"postgresql", "postgres"}:
            value = url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected a redis://host:port/db URL")
        return value

    @model_validator(mode="after")
    def _check_production_secrets(self) -> Settings:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if not key:
                raise ValueError("SECRET_KEY is required when ENVIRONMENT=production")
            if key.lower() in PLACEHOLDER_SECRETS or len(key) < 32:
                raise ValueError("SECRET_KEY must be a random string of at least 32 characters")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'faceit.db').as_posix()}"

    @property
    def database_kind(self) -> str:
        return "PostgreSQL" if self.effective_database_url.startswith("postgresql") else "SQLite"

    @property
    def uses_demo_league(self) -> bool:
        return self.faceit_api_key is None

    @property
    def data_source(self) -> str:
        return "demo league (simulated FACEIT data)" if self.uses_demo_league else "FACEIT Data API"

    @property
    def payments_enabled(self) -> bool:
        return bool(self.stripe_secret_key and self.stripe_webhook_secret and self.stripe_price_id)

    @property
    def uses_demo_checkout(self) -> bool:
        """No Stripe key outside production: upgrades go through the labelled demo checkout."""
        return self.stripe_secret_key is None and self.environment != "production"

    @property
    def payments_missing(self) -> list[str]:
        names = {
            "STRIPE_SECRET_KEY": self.stripe_secret_key,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "STRIPE_PRICE_ID": self.stripe_price_id,
        }
        return [name for name, value in names.items() if not value]

    def resolved_secret_key(self) -> str:
        """SECRET_KEY, or in development a random key generated once and kept under data/ (0600)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_KEY_FILE
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


def describe_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        variable = field.upper() if item["loc"] else "settings"
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{variable}: {message}")
    return "Invalid configuration:\n  " + "\n  ".join(lines)


def secrets_dir() -> Path | None:
    """SECRETS_DIR: a folder of one file per setting (compose / Kubernetes secrets), or None."""
    raw = os.environ.get(SECRETS_DIR_ENV, "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_dir():
        raise SettingsError(f"{SECRETS_DIR_ENV}: {raw!r} is not a directory")
    return path


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, .env and SECRETS_DIR (in that order of precedence).

    Under SECRETS_DIR each file is one setting, named like the variable in any case
    (``secret_key``, ``STRIPE_WEBHOOK_SECRET``), its content the value (a trailing newline is
    ignored). A wrong value raises SettingsError naming the variable.
    """
    folder = secrets_dir()
    try:
        if folder is not None:
            return Settings(_secrets_dir=folder, **overrides)  # type: ignore[arg-type]
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
