"""The ASGI app: auth, errors, rate limit, faults, pagination, determinism."""

from __future__ import annotations

import json
import time

import httpx
import numpy as np
import pytest
from demo_league_helpers import AUTH, BASE_URL, client, reference

from core.demo_league import Faults, League, create_app, demo_transport, generate_league


def _busy(league: League) -> int:
    return int(np.argmax(np.diff(league.pm_offsets)))


def _sample_urls(league: League) -> list[str]:
    p = league.player_ids[_busy(league)]
    m = league.match_ids[league.n_matches // 2]
    return [
        f"/data/v4/players?nickname={league.nicknames[4]}",
        f"/data/v4/players/{p}",
        f"/data/v4/players/{p}/stats/cs2",
        f"/data/v4/players/{p}/history?game=cs2&offset=3&limit=50",
        f"/data/v4/players/{p}/games/cs2/stats?limit=100",
        f"/data/v4/matches/{m}",
        f"/data/v4/matches/{m}/stats",
        f"/data/v4/search/players?nickname={league.nicknames[4][:1]}",
    ]


async def _bodies(league: League, urls: list[str]) -> list[bytes]:
    async with client(league) as c:
        out = []
        for url in urls:
            r = await c.get(url)
            assert r.status_code == 200, (url, r.text)
            out.append(r.content)
        return out


# --- determinism ---------------------------------------------------------------------------
async def test_same_seed_identical_bytes_different_seed_differs() -> None:
    a = generate_league(120, 600, seed=21)
    b = generate_league(120, 600, seed=21)
    c = generate_league(120, 600, seed=22)
    body_a = await _bodies(a, _sample_urls(a))
    body_b = await _bodies(b, _sample_urls(b))
    assert body_a == body_b
    body_c = await _bodies(c, _sample_urls(c))
    assert all(x != y for x, y in zip(body_a, body_c, strict=True))


# --- auth and errors -----------------------------------------------------------------------
async def test_401_without_or_with_a_wrong_key(league: League) -> None:
    app = create_app(league)
    url = f"/data/v4/players/{league.player_ids[0]}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "demo-league"}):
            r = await c.get(url, headers=headers)
            assert r.status_code == 401
            body = r.json()
            assert set(body) == {"errors"} and set(body["errors"][0]) == {"message", "code"}
        assert (await c.get(url, headers=AUTH)).status_code == 200


async def test_custom_keys_and_auth_disabled(league: League) -> None:
    url = f"/data/v4/players/{league.player_ids[0]}"
    async with client(league, api_keys={"k1"}) as c:
        assert (await c.get(url)).status_code == 401
        assert (await c.get(url, headers={"Authorization": "Bearer k1"})).status_code == 200
    async with client(league, api_keys=None) as c:
        assert (await c.get(url, headers={"Authorization": ""})).status_code == 200


async def test_404_nickname_is_case_sensitive(league: League) -> None:
    nick = league.nicknames[10]
    async with client(league) as c:
        assert (await c.get("/data/v4/players", params={"nickname": nick})).status_code == 200
        for other in (nick.swapcase(), nick.upper() if nick != nick.upper() else nick.lower()):
            r = await c.get("/data/v4/players", params={"nickname": other})
            assert r.status_code == 404
            assert r.json() == reference("error_404.json")


@pytest.mark.parametrize(
    "query",
    ["limit=101", "limit=0", "limit=abc", "offset=-1", "offset=1001", "from=x"],
)
async def test_400_on_bad_paging(league: League, query: str) -> None:
    async with client(league) as c:
        r = await c.get(f"/data/v4/players/{league.player_ids[0]}/history?game=cs2&{query}")
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert isinstance(err["message"], str) and isinstance(err["code"], str)


async def test_400_on_bad_games_stats_and_search_limit(league: League) -> None:
    async with client(league) as c:
        r1 = await c.get(f"/data/v4/players/{league.player_ids[0]}/games/cs2/stats?limit=500")
        r2 = await c.get("/data/v4/search/players?nickname=a&limit=101")
        r3 = await c.get("/data/v4/players")
    assert r1.status_code == r2.status_code == r3.status_code == 400


# --- rate limit and faults -----------------------------------------------------------------
async def test_rate_limit_token_bucket(league: League) -> None:
    now = [1000.0]
    url = f"/data/v4/players/{league.player_ids[0]}"
    async with client(league, rate_limit=2.0, clock=lambda: now[0]) as c:
        r1, r2, r3 = [await c.get(url) for _ in range(3)]
        assert r1.status_code == r2.status_code == 200
        assert r1.headers["ratelimit-limit"] == "2, 2;w=1"
        assert r1.headers["ratelimit-remaining"] == "1"
        assert r2.headers["ratelimit-remaining"] == "0"
        assert int(r2.headers["ratelimit-reset"]) >= 1
        assert r3.status_code == 429
        assert int(r3.headers["retry-after"]) >= 1
        assert "errors" in r3.json()
        now[0] += 0.5
        assert (await c.get(url)).status_code == 200
        assert (await c.get(url)).status_code == 429
        # buckets are per key: another key is not throttled
    async with client(league, api_keys={"a", "b"}, rate_limit=1.0, clock=lambda: now[0]) as c:
        ra = await c.get(url, headers={"Authorization": "Bearer a"})
        ra2 = await c.get(url, headers={"Authorization": "Bearer a"})
        rb = await c.get(url, headers={"Authorization": "Bearer b"})
        assert (ra.status_code, ra2.status_code, rb.status_code) == (200, 429, 200)


async def test_forced_429_storm(league: League) -> None:
    faults = Faults(storm=3, storm_retry_after=2)
    url = f"/data/v4/players/{league.player_ids[0]}"
    async with client(league, faults=faults) as c:
        codes = []
        for _ in range(3):
            r = await c.get(url)
            codes.append(r.status_code)
            assert r.headers["retry-after"] == "2"
        assert codes == [429, 429, 429]
        assert (await c.get(url)).status_code == 200
        faults.storm = 1  # mutable at runtime
        assert (await c.get(url)).status_code == 429
        assert (await c.get(url)).status_code == 200


async def test_5xx_injection(league: League) -> None:
    faults = Faults(error_rate=1.0, seed=3)
    url = f"/data/v4/players/{league.player_ids[0]}"
    async with client(league, faults=faults) as c:
        codes = {(await c.get(url)).status_code for _ in range(30)}
        assert codes <= {500, 502, 503} and len(codes) > 1
        faults.error_rate = 0.3
        codes2 = [(await c.get(url)).status_code for _ in range(200)]
        share = sum(code >= 500 for code in codes2) / 200
        assert 0.15 < share < 0.45
        faults.reset()
        assert (await c.get(url)).status_code == 200


async def test_truncated_and_malformed_bodies(league: League) -> None:
    faults = Faults(truncate_rate=1.0)
    urls = _sample_urls(league)
    async with client(league, faults=faults) as c:
        for url in urls:
            r = await c.get(url)
            assert r.status_code == 200
            with pytest.raises(json.JSONDecodeError):
                json.loads(r.content)
        faults.truncate_rate = 0.0
        faults.malformed_rate = 1.0
        good = await _bodies(league, urls)
        for url, ok in zip(urls, good, strict=True):
            r = await c.get(url)
            assert r.status_code == 200
            bad = r.json()  # valid JSON ...
            assert bad != json.loads(ok)  # ... of the wrong shape


async def test_latency(league: League) -> None:
    faults = Faults(latency=0.05)
    async with client(league, faults=faults) as c:
        t0 = time.perf_counter()
        r = await c.get(f"/data/v4/players/{league.player_ids[0]}")
        assert r.status_code == 200
        assert time.perf_counter() - t0 >= 0.05


# --- pagination ----------------------------------------------------------------------------
async def _walk(
    c: httpx.AsyncClient, url: str, limit: int, params: dict[str, int | str] | None = None
) -> list[dict]:
    items: list[dict] = []
    offset = 0
    while True:
        r = await c.get(url, params={**(params or {}), "offset": offset, "limit": limit})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["start"] == offset and body["end"] == offset + len(body["items"])
        if not body["items"]:
            return items
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        offset += limit


@pytest.mark.parametrize("limit", [100, 7, 33])
async def test_history_walk_every_match_once_newest_first(league: League, limit: int) -> None:
    p = _busy(league)
    ms, _ = league.player_matches(p)
    assert len(ms) > 100
    async with client(league) as c:
        url = f"/data/v4/players/{league.player_ids[p]}/history"
        items = await _walk(c, url, limit, {"game": "cs2"})
    ids = [i["match_id"] for i in items]
    assert ids == [league.match_ids[int(m)] for m in ms[::-1]]
    starts = [i["started_at"] for i in items]
    assert starts == sorted(starts, reverse=True)


@pytest.mark.parametrize("limit", [100, 13])
async def test_games_stats_walk_every_match_once(league: League, limit: int) -> None:
    p = _busy(league)
    ms, _ = league.player_matches(p)
    async with client(league) as c:
        url = f"/data/v4/players/{league.player_ids[p]}/games/cs2/stats"
        items = await _walk(c, url, limit)
    ids = [i["stats"]["Match Id"] for i in items]
    assert ids == [league.match_ids[int(m)] for m in ms[::-1]]
    finished = [i["stats"]["Match Finished At"] for i in items]
    assert finished == sorted(finished, reverse=True)


async def test_history_time_windows(league: League) -> None:
    p = _busy(league)
    ms, _ = league.player_matches(p)
    t = league.started_at[ms]
    lo, hi = int(t[len(t) // 4]), int(t[3 * len(t) // 4])
    url = f"/data/v4/players/{league.player_ids[p]}/history"
    async with client(league) as c:
        r = await c.get(url, params={"game": "cs2", "from": lo, "to": hi, "limit": 100})
        body = r.json()
        assert body["from"] == lo and body["to"] == hi
        window = {"game": "cs2", "from": lo, "to": hi}
        got = [i["match_id"] for i in await _walk(c, url, 100, window)]
        want = [league.match_ids[int(m)] for m in ms[::-1] if lo <= league.started_at[m] < hi]
        assert got == want and len(want) > 10
        # paging deeper by window: to = oldest started_at seen, never repeats a match
        seen: list[str] = []
        to = league.end_ts
        while True:
            r = await c.get(url, params={"game": "cs2", "to": to, "limit": 100})
            items = r.json()["items"]
            if not items:
                break
            seen += [i["match_id"] for i in items]
            to = items[-1]["started_at"]
        assert seen == [league.match_ids[int(m)] for m in ms[::-1]]


async def test_demo_transport_and_defaults(league: League) -> None:
    async with httpx.AsyncClient(
        transport=demo_transport(league), base_url=BASE_URL, headers=AUTH
    ) as c:
        r = await c.get(f"/data/v4/matches/{league.match_ids[0]}/stats")
        assert r.status_code == 200
        assert r.json()["rounds"][0]["match_id"] == league.match_ids[0]
