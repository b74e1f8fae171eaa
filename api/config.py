"""API-only settings (``API_*`` environment variables), next to the shared core settings.

Token lifetimes, rate limits, the request-body limit and the player micro-cache live here
because only the API uses them; everything else (database, Redis, SECRET_KEY, CORS origins,
lockout rules) comes from ``core.settings.Settings``.
"""

from __future__ import annotations

from limits import parse
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore")

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
