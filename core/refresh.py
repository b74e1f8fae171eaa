"""The "refresh from FACEIT" action on a player: rate-limited per user, then an incremental sync.

Limits (moving windows, shared through Redis when REDIS_URL is set, else per process): one
refresh of the same player per user every 2 minutes and 10 refreshes per user per hour, so a
user cannot spend the FACEIT API budget of everyone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

PER_PLAYER = parse("1/2 minutes")
PER_USER = parse("10/hour")


@dataclass(frozen=True)
class RefreshDecision:
    allowed: bool
    retry_after: int = 0  # seconds until the next refresh is allowed

    @property
    def wait_text(self) -> str:
        minutes, seconds = divmod(max(self.retry_after, 1), 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class RefreshLimiter:
    def __init__(self, redis_url: str | None = None) -> None:
        self.fallback: Storage = MemoryStorage()
        storage: Storage = self.fallback
        if redis_url:
            try:
                storage = storage_from_string(redis_url)  # type: ignore[assignment]
            except Exception as exc:  # a bad or unreachable Redis: limit per process
                log.warning("refresh limiter falls back to memory: %s", type(exc).__name__)
        self.limiter = MovingWindowRateLimiter(storage)
        self.memory = MovingWindowRateLimiter(self.fallback)

    def _hit(self, item: RateLimitItem, *keys: str) -> tuple[bool, int]:
        for limiter in (self.limiter, self.memory):
            try:
                if limiter.hit(item, "refresh", *keys):
                    return True, 0
                reset = limiter.get_window_stats(item, "refresh", *keys).reset_time
                return False, max(1, round(reset - time.time()))
            except Exception as exc:  # Redis went away mid-run: the in-process limit applies
                log.warning("refresh limiter storage failed: %s", type(exc).__name__)
        return True, 0

    def check(self, user: str, player_id: str) -> RefreshDecision:
        """Count one refresh of ``player_id`` by ``user`` if both limits allow it."""
        ok, wait = self._hit(PER_PLAYER, user, player_id)
        if not ok:
            return RefreshDecision(False, wait)
        ok, wait = self._hit(PER_USER, user)
        return RefreshDecision(ok, wait)
