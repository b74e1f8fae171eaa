"""Feature-frame cache: Redis when configured, otherwise a bounded in-process TTL cache.

Keys carry the feature set, the feature-code version, the player and the player's data
watermark::

    {prefix}:features:{feature_set}:v{version}:{player_id}:{watermark_iso}

so new data (a later watermark) or changed feature code (a bumped version) never serve a stale
frame; old entries simply expire. Frames are stored as zstd-compressed Arrow IPC bytes.

Redis outages never break a page: the first failure logs ONE warning, the frame is computed
directly, and Redis is left alone for ``retry_after_seconds`` before it is tried again (no
further warnings while it stays down; an info line when it comes back). Socket timeouts are
short so an unreachable server costs at most about ``socket_timeout`` per attempt. Nothing
connects at import time or in the constructor.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import polars as pl

logger = logging.getLogger(__name__)

_METRICS_LOCK = threading.Lock()
_METRICS: weakref.WeakKeyDictionary[Any, tuple[Any, Any, Any]] = weakref.WeakKeyDictionary()


def _counter(reg: Any, name: str, doc: str, label: str) -> Any:
    from prometheus_client import Counter

    try:
        return Counter(name, doc, (label,), registry=reg)
    except ValueError:  # already registered on this registry by someone else: reuse it
        existing = getattr(reg, "_names_to_collectors", {}).get(name)
        if existing is None:
            raise
        return existing


def _counters(registry: Any | None) -> tuple[Any, Any, Any]:
    """(hits, misses, errors) Prometheus counters, created once per registry."""
    from prometheus_client import REGISTRY

    reg = REGISTRY if registry is None else registry
    with _METRICS_LOCK:
        found = _METRICS.get(reg)
        if found is None:
            found = (
                _counter(reg, "faceit_ai_cache_hits", "Feature cache hits", "feature_set"),
                _counter(reg, "faceit_ai_cache_misses", "Feature cache misses", "feature_set"),
                _counter(reg, "faceit_ai_cache_errors", "Feature cache backend errors", "backend"),
            )
            _METRICS[reg] = found
        return found


def serialize_frame(frame: pl.DataFrame) -> bytes:
    """Compact bytes for a frame (Arrow IPC, zstd); dtypes survive the round trip."""
    buf = io.BytesIO()
    frame.write_ipc(buf, compression="zstd")
    return buf.getvalue()


def deserialize_frame(data: bytes) -> pl.DataFrame:
    return pl.read_ipc(io.BytesIO(data))


def watermark_token(watermark: datetime | date | str | int | float | None) -> str:
    """The watermark as it appears in keys: ISO-8601 UTC for datetimes, ``none`` if unknown."""
    if watermark is None:
        return "none"
    if isinstance(watermark, datetime):
        if watermark.tzinfo is None:
            watermark = watermark.replace(tzinfo=UTC)
        return watermark.astimezone(UTC).isoformat()
    if isinstance(watermark, date):
        return watermark.isoformat()
    return str(watermark)


class _LocalTTLCache:
    """A thread-safe LRU dict with per-entry expiry."""

    def __init__(self, max_entries: int, clock: Callable[[], float]) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, frame = item
            if expires <= self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return frame.clone() if isinstance(frame, pl.DataFrame) else frame

    def set(self, key: str, frame: Any, ttl: float) -> None:
        """Store a frame (a copy) or immutable bytes under ``key`` for ``ttl`` seconds."""
        with self._lock:
            kept = frame.clone() if isinstance(frame, pl.DataFrame) else frame
            self._data[key] = (self._clock() + ttl, kept)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self, prefix: str) -> int:
        with self._lock:
            keys = [k for k in self._data if k.startswith(prefix)]
            for k in keys:
                del self._data[k]
            return len(keys)

    def __len__(self) -> int:
        return len(self._data)


class FeatureCache:
    """Cache of computed feature frames, keyed by set, code version, player and watermark.

    ``redis_url=None`` selects the in-process cache (bounded to ``max_entries``, LRU).
    Counters: ``hits``, ``misses`` (each computation), ``errors`` (backend failures), also
    exported as ``faceit_ai_cache_{hits,misses,errors}_total`` on ``registry`` (the default
    Prometheus registry when None).
    """

    def __init__(
        self,
        redis_url: str | None,
        ttl_seconds: float = 86400,
        prefix: str = "faceit-ai",
        *,
        max_entries: int = 1024,
        socket_timeout: float = 0.25,
        connect_timeout: float | None = None,
        retry_after_seconds: float = 5.0,
        registry: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self.redis_url = redis_url
        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self.socket_timeout = socket_timeout
        self.connect_timeout = socket_timeout if connect_timeout is None else connect_timeout
        self.retry_after_seconds = retry_after_seconds
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self._clock = clock
        self._local = _LocalTTLCache(max_entries, clock) if redis_url is None else None
        self._client: Any | None = None
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._hits_c, self._misses_c, self._errors_c = _counters(registry)

    # -- keys ----------------------------------------------------------------------------------
    @property
    def backend(self) -> str:
        return "memory" if self._local is not None else "redis"

    def key(
        self,
        feature_set: str,
        version: str | int,
        player_id: str,
        watermark: datetime | date | str | int | float | None,
    ) -> str:
        return (
            f"{self.prefix}:features:{feature_set}:v{version}:{player_id}:"
            f"{watermark_token(watermark)}"
        )

    # -- public API ----------------------------------------------------------------------------
    def get_or_compute(
        self,
        feature_set: str,
        version: str | int,
        player_id: str,
        watermark: datetime | date | str | int | float | None,
        compute: Callable[[], pl.DataFrame],
    ) -> pl.DataFrame:
        """The cached frame for this key, or ``compute()`` (then stored). Never raises for
        cache trouble: a failing backend only means computing directly."""
        key = self.key(feature_set, version, player_id, watermark)
        cached = self._get(key)
        if cached is not None:
            self.hits += 1
            self._hits_c.labels(feature_set).inc()
            return cached
        self.misses += 1
        self._misses_c.labels(feature_set).inc()
        frame = compute()
        self._set(key, frame)
        return frame

    def get_blobs(self, keys: list[str]) -> list[bytes | None]:
        """The stored bytes of each key (None where missing), in one round trip to Redis. Never
        raises for cache trouble: a failing backend answers None for every key."""
        if not keys:
            return []
        if self._local is not None:
            found = [self._local.get(k) for k in keys]
            return [v if isinstance(v, bytes) else None for v in found]
        client = self._available_client()
        if client is None:
            return [None] * len(keys)
        try:
            values = client.mget(keys)
        except Exception as exc:
            self._failed(exc)
            return [None] * len(keys)
        self._recovered()
        return [v if isinstance(v, bytes) else None for v in values]

    def set_blobs(
        self, items: dict[str, bytes], *, ttl: float | None = None, only_new: bool = False
    ) -> bool:
        """Store bytes under each key (one pipelined round trip to Redis) for ``ttl`` seconds
        (default ``ttl_seconds``); ``only_new`` keeps a key's present value (SET NX). False
        when the backend failed (nothing is raised)."""
        if not items:
            return True
        seconds = self.ttl_seconds if ttl is None else ttl
        if self._local is not None:
            for key, value in items.items():
                if not (only_new and self._local.get(key) is not None):
                    self._local.set(key, value, seconds)
            return True
        client = self._available_client()
        if client is None:
            return False
        try:
            pipe = client.pipeline(transaction=False)
            for key, value in items.items():
                pipe.set(key, value, px=max(1, int(seconds * 1000)), nx=only_new)
            pipe.execute()
        except Exception as exc:
            self._failed(exc)
            return False
        self._recovered()
        return True

    def clear(self) -> int:
        """Delete every entry under this cache's prefix (tests, admin). Returns the count."""
        pattern = f"{self.prefix}:features:"
        if self._local is not None:
            return self._local.clear(pattern)
        client = self._available_client()
        if client is None:
            return 0
        try:
            keys = list(client.scan_iter(match=pattern + "*", count=500))
            if keys:
                client.delete(*keys)
        except Exception as exc:
            self._failed(exc)
            return 0
        self._recovered()
        return len(keys)

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- backends ------------------------------------------------------------------------------
    def _get(self, key: str) -> pl.DataFrame | None:
        if self._local is not None:
            return self._local.get(key)
        client = self._available_client()
        if client is None:
            return None
        try:
            data = client.get(key)
        except Exception as exc:
            self._failed(exc)
            return None
        self._recovered()
        if data is None:
            return None
        try:
            return deserialize_frame(data)
        except Exception as exc:  # a corrupt entry: recompute and overwrite it
            self.errors += 1
            self._errors_c.labels("decode").inc()
            logger.warning(
                "feature cache entry undecodable",
                extra={"event": "cache_decode_error", "key": key, "error": repr(exc)},
            )
            return None

    def _set(self, key: str, frame: pl.DataFrame) -> None:
        if self._local is not None:
            self._local.set(key, frame, self.ttl_seconds)
            return
        client = self._available_client()
        if client is None:
            return
        try:
            client.set(key, serialize_frame(frame), px=max(1, int(self.ttl_seconds * 1000)))
        except Exception as exc:
            self._failed(exc)
            return
        self._recovered()

    def _available_client(self) -> Any | None:
        """The Redis client, or None while backing off after a failure."""
        with self._lock:
            if self._down_since is not None and self._clock() < self._retry_at:
                return None
            if self._client is None:
                import redis
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                self._client = redis.Redis.from_url(
                    str(self.redis_url),
                    socket_timeout=self.socket_timeout,
                    socket_connect_timeout=self.connect_timeout,
                    retry=Retry(NoBackoff(), 0),
                    retry_on_timeout=False,
                    health_check_interval=0,
                )
            return self._client

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        self._errors_c.labels("redis").inc()
        with self._lock:
            first = self._down_since is None
            now = self._clock()
            if first:
                self._down_since = now
            self._retry_at = now + self.retry_after_seconds
        if first:
            logger.warning(
                "feature cache: redis unavailable, computing directly",
                extra={
                    "event": "cache_backend_down",
                    "backend": "redis",
                    "error": repr(exc),
                    "retry_after_s": self.retry_after_seconds,
                },
            )

    def _recovered(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            down_since, self._down_since = self._down_since, None
        if down_since is not None:
            logger.info(
                "feature cache: redis is back",
                extra={
                    "event": "cache_backend_up",
                    "backend": "redis",
                    "down_for_s": round(self._clock() - down_since, 3),
                },
            )
