"""Settings from the environment (and an optional .env), validated once at start-up.

Every setting of every front door lives here (the app, the API's ``API_*`` variables, the Prefect
schedules), read the same way: environment variables first, then a ``.env`` file in the working
directory. Every setting is optional in the default set-up, which runs on embedded parts: a SQLite
file under data/, an in-process cache, the demo league instead of the FACEIT API, the demo
checkout instead of Stripe (nothing is charged). Setting DATABASE_URL, REDIS_URL, FACEIT_API_KEY
or the STRIPE_* variables switches each part to production.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse
from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", "dev"}
SECRETS_DIR_ENV = "SECRETS_DIR"
# what the client adds to the statement timeout before it gives a silent database up
RESPONSE_TIMEOUT_MARGIN_SECONDS = 5.0


# "Log in with FACEIT": FACEIT's OpenID Connect discovery document (FACEIT Connect; it names
# https://accounts.faceit.com as the authorization endpoint and api.faceit.com/auth/v1 for the
# token and userinfo endpoints), the app's callback route, and the demo league's stand-in
# provider (its path on the app and its one client)
FACEIT_DISCOVERY_URL = "https://api.faceit.com/auth/v1/openid_configuration"
FACEIT_CALLBACK_PATH = "/auth/faceit/callback"
DEMO_OIDC_PATH = "/demo-faceit"
DEMO_OIDC_CLIENT_ID = "faceit-ai-demo"
DEMO_OIDC_SECRET = "demo-client-secret"  # noqa: S105 (the documented demo client's secret)


class FaceitOAuth(BaseModel):
    """The resolved OAuth2 client of "Log in with FACEIT" (``Settings.faceit_oauth``)."""

    client_id: str
    client_secret: str = Field(repr=False)
    discovery_url: str
    redirect_url: str
    demo: bool


class SettingsError(RuntimeError):
    """A setting has a wrong value; the message names the variable and what it expects."""


class ApiSettings(BaseModel):
    """The JSON API's own settings: ``API_<FIELD>`` variables (``API_RATE_LIMIT_USER``, ...)."""

    access_token_ttl_seconds: int = Field(default=15 * 60, ge=10)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    # ``limits`` notation: "120/minute", "10 per second", "1000/hour;60/minute"
    rate_limit_user: str = "120/minute"
    rate_limit_ip: str = "300/minute"
    rate_limit_enabled: bool = True
    rate_limit_strategy: str = Field(default="fixed-window", pattern="^(fixed|moving)-window$")
    max_body_bytes: int = Field(default=64 * 1024, ge=1)
    webhook_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # seconds a player's profile/maps answer is reused in process (0 disables it)
    player_cache_seconds: float = Field(default=5.0, ge=0)
    # seconds an identical POST /api/analysis/analyze question (same lineups in the same order,
    # same map; or the same match) is answered from the process cache (0 disables it); the
    # premium check still runs on every call
    analysis_cache_seconds: float = Field(default=30.0, ge=0)
    # analyses computed at once per process (more would oversubscribe the CPU: XGBoost and
    # polars are multi-threaded); the rest wait their turn on an asyncio semaphore
    analysis_concurrency: int = Field(default=2, ge=1, le=64)
    log_json: bool = True
    # gc.freeze() the heap built at start-up, so that full garbage collections skip it (see
    # api.main); 0/false keeps the default collector behaviour
    gc_freeze: bool = True
    # FastAPI's native OpenTelemetry hooks (spans, metrics, logs to an OTel provider). The API
    # exports Prometheus metrics and JSON logs instead; with the hooks on, every request pays
    # for looking the (unconfigured) OTel providers up
    otel_telemetry: bool = False
    log_requests: bool = True
    # POST /api/debug/error raises on purpose (api.routes.debug): proves Sentry end to end
    debug_error_route: bool = False

    @field_validator("rate_limit_user", "rate_limit_ip")
    @classmethod
    def _check_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"expected a rate such as '120/minute' ({exc})") from exc
        return value


class Settings(BaseSettings):
    # ``API_RATE_LIMIT_USER`` fills ``api.rate_limit_user``: a variable is split at its first "_"
    # only when the part before it names a nested group (just ``api``); every other variable
    # keeps its flat name
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        env_ignore_empty=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")

    database_url: str = Field(default="", description="SQLAlchemy URL; default SQLite under data/")
    redis_url: str | None = None
    # A sick database or cache must cost a request seconds, not minutes: connecting, each SQL
    # statement (PostgreSQL's statement_timeout; 0 disables it) and waiting for a pooled
    # connection are bounded; so is any wait for an answer on an open connection, by the client
    # (a frozen server enforces no statement_timeout; core.db.deadline): by default the statement
    # timeout plus a margin, so a live server's own cancel comes first (0 disables it). Redis
    # connects and answers within its socket timeouts.
    database_connect_timeout_seconds: int = Field(default=5, ge=1, le=300)
    database_statement_timeout_seconds: float = Field(default=30.0, ge=0)
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    database_response_timeout_seconds: float | None = Field(default=None, ge=0)
    redis_connect_timeout_seconds: float = Field(default=0.5, gt=0)
    redis_socket_timeout_seconds: float = Field(default=0.5, gt=0)

    faceit_api_key: SecretStr | None = None
    faceit_api_base: str = "https://open.faceit.com/data/v4"
    faceit_rate_limit: float = Field(default=10.0, gt=0)
    demo_players: int = Field(default=300, ge=20, le=20_000)
    demo_seed: int = 7
    # the embedded demo league plays live (faceit-ai run without FACEIT_API_KEY): a new match
    # every DEMO_LIVE_EVERY_SECONDS, one state (created, configuring, ready, finished) per
    # DEMO_LIVE_STAGE_SECONDS, its webhook events handled by an in-process live worker
    demo_live: bool = True
    demo_live_every_seconds: float = Field(default=120.0, ge=1)
    demo_live_stage_seconds: float = Field(default=30.0, gt=0)

    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_price_id: str | None = None
    stripe_api_base: str | None = None

    # FACEIT webhooks (POST /webhooks/faceit): the value FACEIT's App Studio sends in the
    # subscription's security header; unset: the endpoint refuses every delivery
    faceit_webhook_secret: SecretStr | None = None
    faceit_webhook_header: str = Field(
        default="X-Faceit-Webhook-Secret", pattern=r"^[A-Za-z0-9-]{1,64}$"
    )
    # notifications (core.notify): Fernet keys of the channel credentials (a JSON list, the
    # first encrypts, all decrypt: put a new key first to rotate; empty: one derived from
    # SECRET_KEY), the SMTP server of email channels, the Discord and Telegram API bases (a
    # relay or a stand-in), per-user sends per hour, attempts and first retry delay
    notify_keys: list[SecretStr] = Field(default_factory=list)
    notify_smtp_host: str | None = None
    notify_smtp_port: int = Field(default=587, ge=1, le=65535)
    notify_smtp_user: str | None = None
    notify_smtp_password: SecretStr | None = None
    notify_smtp_mode: Literal["starttls", "ssl", "insecure"] = "starttls"
    notify_email_from: str = "Faceit AI <notifications@faceit-ai.invalid>"
    notify_discord_api: str = "https://discord.com"
    notify_telegram_api: str = "https://api.telegram.org"
    notify_per_user_per_hour: int = Field(default=30, ge=1)
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    notify_retry_seconds: float = Field(default=10.0, ge=0)
    # the live worker: seconds between polls of the event queue, attempts before an event
    # is given up (failed), first retry delay (doubles per attempt)
    live_poll_seconds: float = Field(default=2.0, gt=0)
    live_max_attempts: int = Field(default=5, ge=1, le=50)
    live_retry_seconds: float = Field(default=5.0, ge=0)
    # the live worker's /metrics and /healthz (pipelines.live.serve_health); unset: none
    live_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    live_metrics_host: str = "127.0.0.1"

    # "Log in with FACEIT" (OpenID Connect, core.faceit_login): the App Studio OAuth2 client,
    # FACEIT's discovery document and the callback URL registered with the client. Unset with
    # the demo league: the demo league's stand-in provider served by the app itself
    # (/demo-faceit/...) with the demo client below; with FACEIT_API_KEY: FACEIT's own endpoints
    # (the login is offered once the client id and secret are set)
    faceit_oauth_client_id: str | None = None
    faceit_oauth_client_secret: SecretStr | None = None
    faceit_oauth_discovery_url: str | None = None
    faceit_oauth_redirect_url: str | None = None

    secret_key: SecretStr | None = None
    public_url: str = "http://127.0.0.1:8501"
    cors_origins: list[str] = Field(default_factory=list)
    # proxies (IPs or CIDR networks, e.g. ["10.0.0.0/8"]) whose X-Forwarded-For/-Proto the API
    # believes; empty: nobody's, the TCP peer is the client (loopback is not trusted by default)
    trusted_proxies: list[str] = Field(default_factory=list)
    login_max_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(
        default=15, ge=1, description="longest delay of the login throttle, in minutes"
    )
    login_backoff_seconds: int = Field(
        default=60, ge=1, description="first delay of the login throttle; doubles per failure"
    )
    cache_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    # lifetime of the app's signed re-login cookie, in days (0: no cookie, log in every visit)
    auth_cookie_days: float = Field(default=7.0, ge=0)

    # Prefect schedules of ``python -m pipelines.deployments`` (five-field cron, UTC)
    train_cron: str = "0 3 * * *"
    sync_cron: str = "*/30 * * * *"
    weekly_report_cron: str = "0 8 * * 1"
    """When the weekly report of followed players is queued (default: Mondays 08:00 UTC)."""

    api: ApiSettings = Field(default_factory=ApiSettings)

    # errors to Sentry when set (core.sentry); the release defaults to faceit-ai@<version>
    sentry_dsn: SecretStr | None = None
    sentry_release: str | None = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    # the Streamlit app serves no /metrics of its own: a Prometheus endpoint on this port
    app_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    app_metrics_host: str = "127.0.0.1"

    @field_validator(
        "redis_url",
        "stripe_price_id",
        "stripe_api_base",
        "sentry_release",
        "notify_smtp_host",
        "notify_smtp_user",
        "faceit_oauth_client_id",
        "faceit_oauth_discovery_url",
        "faceit_oauth_redirect_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "faceit_api_key",
        "stripe_secret_key",
        "stripe_webhook_secret",
        "faceit_webhook_secret",
        "notify_smtp_password",
        "sentry_dsn",
        "faceit_oauth_client_secret",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("notify_keys")
    @classmethod
    def _check_notify_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        from cryptography.fernet import Fernet

        for key in value:
            try:
                Fernet(key.get_secret_value())
            except ValueError:
                raise ValueError(
                    "expected Fernet keys (Fernet.generate_key(): 32 url-safe base64 bytes)"
                ) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"expected IP addresses or networks ({exc})") from exc
        return [item.strip() for item in value]

    @field_validator("faceit_oauth_discovery_url", "faceit_oauth_redirect_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

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

    @field_validator("train_cron", "sync_cron", "weekly_report_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        # Prefect validates the expression itself when the deployments are built; this catches
        # the common mistakes (a blank value, a six-field or shorthand form) at start-up
        if len(value.split()) != 5:
            raise ValueError("expected a five-field cron expression such as '0 3 * * *'")
        return value.strip()

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

    @model_validator(mode="after")
    def _check_response_timeout(self) -> Settings:
        statement, response = (
            self.database_statement_timeout_seconds,
            self.database_response_timeout_seconds,
        )
        if response and statement and response <= statement:
            raise ValueError(
                "DATABASE_RESPONSE_TIMEOUT_SECONDS must exceed DATABASE_STATEMENT_TIMEOUT_SECONDS"
                " (the server's own cancel comes first)"
            )
        return self

    @property
    def effective_database_response_timeout(self) -> float | None:
        """Seconds the client waits for any answer on an open PostgreSQL connection (None:
        forever): DATABASE_RESPONSE_TIMEOUT_SECONDS, by default the statement timeout plus
        RESPONSE_TIMEOUT_MARGIN_SECONDS."""
        if self.database_response_timeout_seconds is not None:
            return self.database_response_timeout_seconds or None
        if not self.database_statement_timeout_seconds:
            return None
        return self.database_statement_timeout_seconds + RESPONSE_TIMEOUT_MARGIN_SECONDS

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
    def uses_demo_oidc(self) -> bool:
        """ "Log in with FACEIT" goes to the demo league's stand-in provider (served in-process
        by the app) rather than to FACEIT."""
        return self.uses_demo_league and self.faceit_oauth_discovery_url is None

    @property
    def faceit_oauth(self) -> FaceitOAuth | None:
        """The OAuth2 client of "Log in with FACEIT", or None when it is not configured (a
        FACEIT_API_KEY set-up without FACEIT_OAUTH_CLIENT_ID and _SECRET)."""
        public = self.public_url.rstrip("/")
        demo = self.uses_demo_oidc
        client_id = self.faceit_oauth_client_id or (DEMO_OIDC_CLIENT_ID if demo else None)
        secret = self.faceit_oauth_client_secret
        client_secret = secret.get_secret_value() if secret else (DEMO_OIDC_SECRET if demo else "")
        if not client_id or not client_secret:
            return None
        discovery = self.faceit_oauth_discovery_url or (
            f"{public}{DEMO_OIDC_PATH}/.well-known/openid-configuration"
            if demo
            else FACEIT_DISCOVERY_URL
        )
        return FaceitOAuth(
            client_id=client_id,
            client_secret=client_secret,
            discovery_url=discovery,
            redirect_url=self.faceit_oauth_redirect_url or f"{public}{FACEIT_CALLBACK_PATH}",
            demo=demo,
        )

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
        field = "_".join(str(part) for part in item["loc"])
        variable = field.upper() if field else "settings"
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
    except SourceError as exc:  # a value that is not even parseable (e.g. API=junk, not JSON)
        raise SettingsError(f"Invalid configuration:\n  {exc}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
