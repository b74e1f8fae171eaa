"""FeatureCache: in-process and real Redis, keys, TTL, serialisation and Redis outages."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
import redis
from polars.testing import assert_frame_equal
from prometheus_client import CollectorRegistry

from core.cache import FeatureCache, deserialize_frame, serialize_frame
from tests.utils.ports import free_port
from tests.utils.redis_server import start_redis, stop_redis

WM = datetime(2025, 5, 1, 12, tzinfo=UTC)


def sample_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "player_id": ["a", "b", None],
            "kd": [1.25, None, 0.5],
            "matches": pl.Series([3, 4, 5], dtype=pl.Int64),
            "small": pl.Series([1, None, 3], dtype=pl.Int16),
            "won": [True, False, None],
            "at": pl.Series([WM, None, WM], dtype=pl.Datetime("us", "UTC")),
            "map": pl.Series(["de_nuke", "de_nuke", "de_mirage"], dtype=pl.Categorical),
            "tags": [["x"], [], None],
        }
    )


class Counting:
    """A compute function that counts its calls."""

    def __init__(self, frame: pl.DataFrame | None = None) -> None:
        self.calls = 0
        self.frame = sample_frame() if frame is None else frame

    def __call__(self) -> pl.DataFrame:
        self.calls += 1
        return self.frame


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def redis_cache_factory(
    redis_url: str, registry: CollectorRegistry
) -> Iterator[Callable[..., FeatureCache]]:
    made: list[FeatureCache] = []

    def make(**kw: object) -> FeatureCache:
        kw.setdefault("prefix", f"test-{uuid.uuid4().hex[:10]}")
        cache = FeatureCache(redis_url, registry=registry, **kw)  # type: ignore[arg-type]
        made.append(cache)
        return cache

    yield make
    for cache in made:
        cache.retry_after_seconds = 0
        cache.clear()
        cache.close()


def test_serialisation_round_trip() -> None:
    frame = sample_frame()
    data = serialize_frame(frame)
    assert isinstance(data, bytes)
    back = deserialize_frame(data)
    assert back.schema == frame.schema
    assert_frame_equal(back, frame)


def test_key_layout() -> None:
    cache = FeatureCache(None, registry=CollectorRegistry())
    key = cache.key("summary", "3", "p1", WM)
    assert key == "faceit-ai:features:summary:v3:p1:2025-05-01T12:00:00+00:00"
    assert cache.key("summary", 3, "p1", None).endswith(":p1:none")


def test_memory_hit_miss_and_invalidation(registry: CollectorRegistry) -> None:
    cache = FeatureCache(None, registry=registry)
    compute = Counting()
    first = cache.get_or_compute("summary", "1", "p1", WM, compute)
    second = cache.get_or_compute("summary", "1", "p1", WM, compute)
    assert compute.calls == 1 and (cache.hits, cache.misses) == (1, 1)
    assert_frame_equal(first, second)
    # new data: the watermark moves
    cache.get_or_compute("summary", "1", "p1", WM + timedelta(seconds=1), compute)
    # changed feature code: the version moves
    cache.get_or_compute("summary", "2", "p1", WM, compute)
    # other player, other set
    cache.get_or_compute("summary", "1", "p2", WM, compute)
    cache.get_or_compute("maps", "1", "p1", WM, compute)
    assert compute.calls == 5 and cache.misses == 5
    assert registry.get_sample_value("faceit_ai_cache_hits_total", {"feature_set": "summary"}) == 1
    assert (
        registry.get_sample_value("faceit_ai_cache_misses_total", {"feature_set": "summary"}) == 4
    )


def test_memory_ttl_and_bound() -> None:
    now = [1000.0]
    cache = FeatureCache(
        None, ttl_seconds=60, max_entries=2, registry=CollectorRegistry(), clock=lambda: now[0]
    )
    compute = Counting()
    cache.get_or_compute("s", "1", "p1", WM, compute)
    now[0] += 59
    cache.get_or_compute("s", "1", "p1", WM, compute)
    assert compute.calls == 1
    now[0] += 2  # expired
    cache.get_or_compute("s", "1", "p1", WM, compute)
    assert compute.calls == 2
    cache.get_or_compute("s", "1", "p2", WM, compute)
    cache.get_or_compute("s", "1", "p3", WM, compute)  # evicts p1 (least recently used)
    cache.get_or_compute("s", "1", "p1", WM, compute)
    assert compute.calls == 5


def test_memory_cache_returns_independent_frames() -> None:
    cache = FeatureCache(None, registry=CollectorRegistry())
    out = cache.get_or_compute("s", "1", "p1", WM, Counting())
    out.insert_column(0, pl.Series("extra", [1, 2, 3]))  # in-place mutation by a caller
    again = cache.get_or_compute("s", "1", "p1", WM, Counting())
    assert "extra" not in again.columns


def test_many_caches_share_counters() -> None:
    # several instances on the default registry must not raise duplicate-registration errors
    a = FeatureCache(None)
    b = FeatureCache(None)
    a.get_or_compute("dup", "1", "p", None, Counting())
    b.get_or_compute("dup", "1", "p", None, Counting())
    assert a.misses == b.misses == 1


@pytest.mark.redis
def test_redis_hit_miss_invalidation(
    redis_cache_factory: Callable[..., FeatureCache], redis_url: str
) -> None:
    cache = redis_cache_factory()
    compute = Counting()
    first = cache.get_or_compute("summary", "1", "p1", WM, compute)
    second = cache.get_or_compute("summary", "1", "p1", WM, compute)
    assert compute.calls == 1 and (cache.hits, cache.misses, cache.errors) == (1, 1, 0)
    assert_frame_equal(second, first)
    assert second.schema == sample_frame().schema  # dtypes survive Redis
    client = redis.Redis.from_url(redis_url)
    try:
        stored = client.get(cache.key("summary", "1", "p1", WM))
        assert stored is not None and isinstance(stored, bytes)
        ttl = client.pttl(cache.key("summary", "1", "p1", WM))
        assert 0 < ttl <= 86400 * 1000
    finally:
        client.close()
    cache.get_or_compute("summary", "1", "p1", WM + timedelta(minutes=5), compute)
    cache.get_or_compute("summary", "2", "p1", WM, compute)
    assert compute.calls == 3
    # another cache object (another process, say) sees the same entries
    other = FeatureCache(redis_url, prefix=cache.prefix, registry=CollectorRegistry())
    other.get_or_compute("summary", "2", "p1", WM, compute)
    other.close()
    assert compute.calls == 3
    assert cache.clear() == 3


@pytest.mark.redis
def test_redis_ttl_expiry(redis_cache_factory: Callable[..., FeatureCache]) -> None:
    cache = redis_cache_factory(ttl_seconds=0.3)
    compute = Counting()
    cache.get_or_compute("s", "1", "p1", WM, compute)
    cache.get_or_compute("s", "1", "p1", WM, compute)
    assert compute.calls == 1
    time.sleep(0.45)
    cache.get_or_compute("s", "1", "p1", WM, compute)
    assert compute.calls == 2


@pytest.mark.redis
def test_redis_corrupt_entry_recomputed(
    redis_cache_factory: Callable[..., FeatureCache], redis_url: str
) -> None:
    cache = redis_cache_factory()
    client = redis.Redis.from_url(redis_url)
    try:
        client.set(cache.key("s", "1", "p1", WM), b"not arrow", ex=60)
    finally:
        client.close()
    compute = Counting()
    out = cache.get_or_compute("s", "1", "p1", WM, compute)
    assert compute.calls == 1 and cache.errors == 1
    assert_frame_equal(out, sample_frame())
    cache.get_or_compute("s", "1", "p1", WM, compute)  # overwritten with a good entry
    assert compute.calls == 1


@pytest.mark.redis
def test_redis_outage_and_recovery(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    proc = start_redis(port)
    try:
        cache = FeatureCache(
            f"redis://127.0.0.1:{port}/0",
            retry_after_seconds=0.2,
            socket_timeout=0.1,
            registry=CollectorRegistry(),
        )
        expected = sample_frame()
        compute = Counting(expected)
        cache.get_or_compute("s", "1", "p1", WM, compute)
        cache.get_or_compute("s", "1", "p1", WM, compute)
        assert (cache.hits, cache.misses, cache.errors) == (1, 1, 0)

        stop_redis(proc)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="core.cache"):
            started = time.monotonic()
            for _ in range(20):
                out = cache.get_or_compute("s", "1", "p1", WM, compute)
                assert_frame_equal(out, expected)
            # keep failing across several back-off periods: still only one warning
            for _ in range(3):
                time.sleep(0.25)
                assert_frame_equal(cache.get_or_compute("s", "1", "p1", WM, compute), expected)
            elapsed = time.monotonic() - started
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert getattr(warnings[0], "event", None) == "cache_backend_down"
        assert cache.errors >= 1
        assert compute.calls == 1 + 23  # computed directly during the outage
        assert elapsed < 0.75 + 1.5  # no stalls: failures are fast and mostly skipped
        hits_during_outage = cache.hits
        assert hits_during_outage == 1

        proc = start_redis(port)
        time.sleep(0.25)  # the back-off elapses
        with caplog.at_level(logging.INFO, logger="core.cache"):
            cache.get_or_compute("s", "1", "p1", WM, compute)  # miss: fresh server, stores
            cache.get_or_compute("s", "1", "p1", WM, compute)  # hit again
        assert cache.hits == hits_during_outage + 1
        assert any(getattr(r, "event", None) == "cache_backend_up" for r in caplog.records)
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
        cache.close()
    finally:
        stop_redis(proc)
