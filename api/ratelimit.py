"""Rate limits per user and per client IP.

Redis (``settings.redis_url``) shares the counters between API processes; without Redis each
process counts in memory (the ``limits`` library's storage). A storage outage never takes the API
down, nor the limits off: while Redis fails, each process counts in its in-process fallback
(the same limits, per process: with N API processes a client gets at most N times the limit),
Redis is not tried again for ``OUTAGE_BACKOFF_SECONDS`` after a failure (a dead Redis does not
cost every request a timeout), and one warning is logged; counting moves back to Redis when it
answers again.

The fixed-window strategy on Redis (the default, production) does not go through ``limits``: the
hot path counts with one Lua script, and every hit queued while the previous script call is in
flight goes into the next call (one round trip per *batch* of requests, not two per request).
The counting is exact: a request is answered only after Redis has counted it, with the same keys,
expiry and semantics as ``limits``' fixed window (INCR, EXPIRE on the first hit of a window,
allowed while the count <= the limit; several limits of one scope are checked in order and the
first one exceeded stops the check). Cross-process correctness is therefore unchanged; a batch
only adds the wait for the call in flight (a round trip on the local network) to a request's
latency. The keys of one batch may belong to different hash slots, so a Redis *Cluster* needs the
``moving-window`` strategy (which still uses ``limits``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    RateLimiter,
)

log = logging.getLogger("api.ratelimit")

OUTAGE_BACKOFF_SECONDS = 1.0
MAX_BATCH = 256  # requests per script call (bounds the time Redis spends in one call)

# KEYS: every counter of every request of the batch, in order.
# ARGV[1]: the number of requests; then per request its number of counters, then per counter
# (limit, window seconds). Returns two integers per request: the 1-based position of the first
# limit exceeded (0: allowed) and the milliseconds until that window resets.
# Each counter is ``limits``' fixed window: INCRBY 1, EXPIRE when the window starts.
_HIT_SCRIPT = """
local out = {}
local k = 1
local a = 2
for r = 1, tonumber(ARGV[1]) do
  local n = tonumber(ARGV[a])
  a = a + 1
  local refused = 0
  local wait = 0
  for i = 1, n do
    if refused == 0 then
      local current = redis.call("incrby", KEYS[k], 1)
      if current == 1 then
        redis.call("expire", KEYS[k], ARGV[a + 1])
      end
      if current > tonumber(ARGV[a]) then
        refused = i
        wait = redis.call("pttl", KEYS[k])
      end
    end
    k = k + 1
    a = a + 2
  end
  out[#out + 1] = refused
  out[#out + 1] = wait
end
return out
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    limit: str = ""
    scope: str = ""


ALLOWED = Verdict(True)


class _StorageDown(Exception):
    """Redis failed recently: skip the limits without trying (see OUTAGE_BACKOFF_SECONDS)."""


class _BatchedFixedWindow:
    """Fixed-window counters in Redis, every queued hit counted by one script call."""

    def __init__(
        self,
        redis_url: str,
        key_prefix: str,
        socket_timeout: float = 0.5,
        connect_timeout: float = 0.5,
    ) -> None:
        self.redis_url = redis_url
        self.key_prefix = key_prefix
        self.socket_timeout = socket_timeout
        self.connect_timeout = connect_timeout
        self._client: Any = None
        self._script: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: list[tuple[list[str], list[Any], asyncio.Future[tuple[int, int]]]] = []
        self._task: asyncio.Task[None] | None = None
        self._down_until = 0.0

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """A client per event loop (redis.asyncio connections belong to the loop they use)."""
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._loop = loop
        self._queue = []
        self._task = None
        self._client = Redis.from_url(
            self.redis_url,
            socket_timeout=self.socket_timeout,
            socket_connect_timeout=self.connect_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._script = self._client.register_script(_HIT_SCRIPT)

    async def hit(self, keys: list[str], args: list[Any]) -> tuple[int, int]:
        """Count one request on ``keys`` (its counters, with ``args``: limit and window of each);
        (position of the first limit exceeded or 0, milliseconds until it resets)."""
        if self._down_until and time.monotonic() < self._down_until:
            raise _StorageDown
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._bind(loop)
        future: asyncio.Future[tuple[int, int]] = loop.create_future()
        self._queue.append((keys, args, future))
        if self._task is None:
            self._task = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                keys: list[str] = []
                argv: list[Any] = [len(batch)]
                for hit_keys, hit_args, _ in batch:
                    keys.extend(hit_keys)
                    argv.append(len(hit_keys))
                    argv.extend(hit_args)
                try:
                    answer = await self._script(keys=keys, args=argv)
                except asyncio.CancelledError:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(_StorageDown())
                    raise
                except Exception as exc:
                    # this batch fails with the error, the queued ones at once (back-off)
                    self._down_until = time.monotonic() + OUTAGE_BACKOFF_SECONDS
                    failed, self._queue = batch + self._queue, []
                    for _, _, future in failed:
                        if not future.done():
                            future.set_exception(exc)
                    break
                self._down_until = 0.0
                for i, (_, _, future) in enumerate(batch):
                    if not future.done():
                        future.set_result((int(answer[2 * i]), int(answer[2 * i + 1])))
        finally:
            self._task = None
            if self._queue:  # only after a cancellation: nobody may wait forever
                stranded, self._queue = self._queue, []
                for _, _, future in stranded:
                    if not future.done():
                        future.set_exception(_StorageDown())

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None
        self._loop = None


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
        socket_timeout: float = 0.5,
        connect_timeout: float = 0.5,
    ) -> None:
        self.enabled = enabled
        self.user_items: list[RateLimitItem] = parse_many(user_limit)
        self.ip_items: list[RateLimitItem] = parse_many(ip_limit)
        self.storage: Storage
        self._batched: _BatchedFixedWindow | None = None
        if redis_url:
            if strategy != "moving-window":
                self._batched = _BatchedFixedWindow(
                    redis_url.removeprefix("async+"), key_prefix, socket_timeout, connect_timeout
                )
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            self.storage = RedisStorage(
                uri,
                implementation="redispy",
                key_prefix=key_prefix,
                socket_timeout=socket_timeout,
                socket_connect_timeout=connect_timeout,
            )
        else:
            self.storage = MemoryStorage()
        cls = MovingWindowRateLimiter if strategy == "moving-window" else FixedWindowRateLimiter
        self.limiter: RateLimiter = cls(self.storage)
        # counts while the shared storage is down (the same limits, in this process)
        self.fallback: RateLimiter = cls(MemoryStorage())
        self._warned = False
        # per scope, per item: the Redis key around the identity (the key ``limits`` uses:
        # "<prefix>:LIMITER/<scope>/<identity>/<amount>/<multiples>/<granularity>") and the
        # script arguments (limit, window seconds)
        self._layout: dict[str, list[tuple[RateLimitItem, str, str, int, int]]] = {
            scope: [
                (
                    item,
                    f"{key_prefix}:{item.namespace}/{scope}/",
                    f"/{item.amount}/{item.multiples}/{item.GRANULARITY.name}",
                    item.amount,
                    item.get_expiry(),
                )
                for item in items
            ]
            for scope, items in (("user", self.user_items), ("ip", self.ip_items))
        }

    @property
    def backend(self) -> str:
        return "redis" if isinstance(self.storage, RedisStorage) else "memory"

    def redis_key(self, scope: str, identity: str, index: int = 0) -> str:
        """The storage key of the ``index``-th limit of ``scope`` for ``identity``."""
        _, head, tail, _, _ = self._layout[scope][index]
        return head + identity + tail

    async def hit(self, scope: str, identity: str) -> Verdict:
        """Count one request of ``identity`` in ``scope`` ("user" or "ip")."""
        return await self.hit_many(((scope, identity),))

    async def hit_many(self, hits: Sequence[tuple[str, str]]) -> Verdict:
        """Count one request against several (scope, identity) limits, in order, as one step:
        the first limit exceeded refuses the request and the later ones are not counted (as if
        ``hit`` were called for each in turn, stopping at the first refusal)."""
        if not self.enabled:
            return ALLOWED
        try:
            if self._batched is not None:
                verdict = await self._hit_batched(hits)
            else:
                verdict = await self._hit_limits(hits)
        except Exception as exc:  # storage down: count in process instead
            if not self._warned:
                self._warned = True
                log.warning(
                    "rate limit storage unavailable; counting in process",
                    extra={"event": "ratelimit_storage_down", "error": repr(exc)},
                )
            if isinstance(self.storage, MemoryStorage):
                return ALLOWED  # the in-process storage itself failed: nothing to fall back on
            return await self._hit_limits(hits, self.fallback)
        if self._warned:
            self._warned = False
            log.info("rate limit storage is back", extra={"event": "ratelimit_storage_up"})
        return verdict

    async def _hit_batched(self, hits: Sequence[tuple[str, str]]) -> Verdict:
        assert self._batched is not None
        keys: list[str] = []
        args: list[int] = []
        order: list[tuple[str, RateLimitItem]] = []
        for scope, identity in hits:
            for item, head, tail, amount, expiry in self._layout[scope]:
                keys.append(head + identity + tail)
                args.append(amount)
                args.append(expiry)
                order.append((scope, item))
        refused, wait_ms = await self._batched.hit(keys, args)
        if not refused:
            return ALLOWED
        scope, item = order[refused - 1]
        retry = max(1, math.ceil(wait_ms / 1000)) if wait_ms > 0 else 1
        return Verdict(False, retry, str(item), scope)

    async def _hit_limits(
        self, hits: Sequence[tuple[str, str]], limiter: RateLimiter | None = None
    ) -> Verdict:
        limiter = limiter or self.limiter
        for scope, identity in hits:
            for item in self.user_items if scope == "user" else self.ip_items:
                if not await limiter.hit(item, scope, identity):
                    stats = await limiter.get_window_stats(item, scope, identity)
                    retry = max(1, math.ceil(stats.reset_time - time.time()))
                    return Verdict(False, retry, str(item), scope)
        return ALLOWED

    async def reset(self) -> None:
        await self.storage.reset()
        await self.fallback.storage.reset()

    async def aclose(self) -> None:
        if self._batched is not None:
            await self._batched.aclose()
