"""One FACEIT request budget shared by every process that holds the same API key (Redis).

Each worker process has its own FaceitClient; with one in-process limiter each, two workers
would send twice the key's rate. ``SharedRateLimiter`` keeps the schedule in Redis instead: a
GCRA ("virtual scheduling") reservation done atomically by one Lua script on Redis' own clock.
Every request reserves the next free slot ``max(now, tat - burst interval)``, moves the key's
theoretical arrival time one interval on, and sleeps until its slot. One round trip per
request, no polling, no clock skew between hosts, and requests go out evenly spaced across all
processes (as the in-process aiolimiter spaces them within one).

When Redis cannot be reached the limiter falls back to an in-process aiolimiter at the same rate
(logged once per outage): a stopped Redis slows nobody down to zero, and the client's 429 /
Retry-After handling still protects the key.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Protocol

from aiolimiter import AsyncLimiter
from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "faceit-ai:faceit-rate:"

# KEYS[1]: the schedule key; ARGV[1]: seconds between requests; ARGV[2]: burst (requests)
# returns the seconds (as a string) the caller waits before sending
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local slot = tat - (burst - 1) * interval
if slot < now then slot = now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new_tat), 'PX',
  math.ceil((new_tat - now) * 1000) + 1000)
return string.format('%.6f', slot - now)
"""


class RateLimiter(Protocol):
    async def acquire(self) -> None: ...


def budget_key(api_key: str | None, base_url: str) -> str:
    """The Redis key of one API key's budget (a hash: the API key never lands in Redis)."""
    digest = hashlib.sha256(f"{base_url}\0{api_key or ''}".encode()).hexdigest()[:32]
    return KEY_PREFIX + digest


class SharedRateLimiter:
    """``rate`` requests per second across every process using the same Redis and ``key``."""

    def __init__(
        self,
        redis_url: str,
        key: str,
        *,
        rate: float,
        burst: float = 1.0,
        socket_timeout: float = 1.0,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.key = key
        self.rate = float(rate)
        self.burst = float(burst)
        self._redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
        )
        self._script = self._redis.register_script(_RESERVE)
        self._fallback = AsyncLimiter(max_rate=self.burst, time_period=self.burst / self.rate)
        self._degraded = False

    async def acquire(self) -> None:
        try:
            wait = float(await self._script(keys=[self.key], args=[1 / self.rate, self.burst]))
        except (RedisError, OSError) as exc:
            if not self._degraded:
                logger.warning(
                    "shared FACEIT rate limit unavailable (%s): limiting in this process only",
                    exc,
                    extra={"event": "faceit_rate_limit_degraded"},
                )
                self._degraded = True
            await self._fallback.acquire()
            return
        if self._degraded:
            logger.info("shared FACEIT rate limit back", extra={"event": "faceit_rate_limit_ok"})
            self._degraded = False
        if wait > 0:
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        await self._redis.aclose()  # type: ignore[attr-defined]  # (types-redis is older)
