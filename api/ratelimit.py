"""Rate limits per user and per client IP with the ``limits`` library (async storages).

Redis (``settings.redis_url``) shares the counters between API processes; without Redis each
process counts in memory. A storage outage never takes the API down: the limit is skipped and
one warning is logged.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
)

log = logging.getLogger("api.ratelimit")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    limit: str = ""


class ApiRateLimiter:
    def __init__(
        self,
        *,
        user_limit: str,
        ip_limit: str,
        redis_url: str | None = None,
        strategy: str = "fixed-window",
        enabled: bool = True,
        key_prefix: str = "faceit-ai-api",
    ) -> None:
        self.enabled = enabled
        self.user_items: list[RateLimitItem] = parse_many(user_limit)
        self.ip_items: list[RateLimitItem] = parse_many(ip_limit)
        self.storage: Storage
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self.storage = RedisStorage(
                uri, implementation="redispy", key_prefix=key_prefix, socket_timeout=0.5
            )
        else:
            self.storage = MemoryStorage()
        cls = MovingWindowRateLimiter if strategy == "moving-window" else FixedWindowRateLimiter
        self.limiter: RateLimiter = cls(self.storage)
        self._warned = False

    @property
    def backend(self) -> str:
        return "redis" if isinstance(self.storage, RedisStorage) else "memory"

    async def hit(self, scope: str, identity: str) -> Verdict:
        """Count one request of ``identity`` in ``scope`` ("user" or "ip")."""
        if not self.enabled:
            return Verdict(True)
        items = self.user_items if scope == "user" else self.ip_items
        try:
            for item in items:
                if not await self.limiter.hit(item, scope, identity):
                    stats = await self.limiter.get_window_stats(item, scope, identity)
                    retry = max(1, math.ceil(stats.reset_time - time.time()))
                    return Verdict(False, retry, str(item))
        except Exception as exc:  # storage down: serve rather than refuse everyone
            if not self._warned:
                self._warned = True
                log.warning(
                    "rate limit storage unavailable; limits skipped",
                    extra={"event": "ratelimit_storage_down", "error": repr(exc)},
                )
            return Verdict(True)
        if self._warned:
            self._warned = False
            log.info("rate limit storage is back", extra={"event": "ratelimit_storage_up"})
        return Verdict(True)

    async def reset(self) -> None:
        await self.storage.reset()
