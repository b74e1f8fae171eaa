"""POST /webhooks/faceit and the live worker: FACEIT match events in, predictions and results.

Runs on the API tests' seeded databases (demo league ingested, models trained), both backends.
The worker's FACEIT source is the same demo league, in process.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from apitest_helpers import Seeded, assert_problem, client, make_config, make_settings
from sqlalchemy import Engine, delete, func, select

from api.main import create_app
from core import notify
from core.cache import FeatureCache
from core.cs2 import MAP_POOL
from core.db.schema import (
    FaceitEvent,
    LiveMatch,
    Match,
    MatchPlayer,
    Player,
    ServedPrediction,
    User,
)
from core.demo_league import League, payloads
from core.demo_league import create_app as demo_app
from core.demo_league.live import LiveClock, LiveGames, http_delivery
from core.demo_league.webhooks import webhook_event
from core.faceit import FaceitClient, NotFound
from core.resources import Resources
from core.sources import DEMO_API_KEY, DEMO_BASE_URL
from models import registry
from models.live import drain
from tests.utils.channel_stand_ins import DISCORD_ID, DISCORD_TOKEN, StandIn

SECRET = "faceit-webhook-secret-for-tests"
HEADER = "X-Faceit-Webhook-Secret"


def live_resources(
    url: str,
    engine: Engine,
    tmp_path: Path,
    league: League,
    live: LiveGames | None = None,
    **settings: Any,
) -> Resources:
    """Resources whose FACEIT source is ``league`` (in process) and that accept SECRET."""
    res = Resources(
        settings=make_settings(
            url,
            tmp_path,
            api=make_config(),
            faceit_webhook_secret=SECRET,
            live_retry_seconds=0,
            **settings,
        ),
        engine=engine,
        cache=FeatureCache(None, ttl_seconds=600),
    )

    def demo_client(**options: Any) -> FaceitClient:
        return FaceitClient(
            api_key=DEMO_API_KEY,
            base_url=DEMO_BASE_URL,
            transport=httpx.ASGITransport(app=demo_app(league, live=live)),
            rate_limit=5000.0,
        )

    res.faceit_client = demo_client  # type: ignore[method-assign]
    return res


@pytest.fixture
def resources(seeded: Seeded, tmp_path: Path, api_league: League) -> Resources:
    return live_resources(seeded.url, seeded.engine, tmp_path, api_league)


@pytest.fixture
async def hook(resources: Resources) -> Any:
    async with client(create_app(resources)) as http:
        yield http


def league_match(league: League, match_id: str) -> dict[str, Any]:
    return payloads.match(league, league.match_index[match_id])


def event_rows(seeded: Seeded, match_id: str) -> list[FaceitEvent]:
    with seeded.sessions() as session:
        return list(session.scalars(select(FaceitEvent).where(FaceitEvent.match_id == match_id)))


async def post(http: httpx.AsyncClient, body: dict[str, Any], secret: str | None = SECRET) -> Any:
    headers = {HEADER: secret} if secret is not None else {}
    return await http.post("/webhooks/faceit", json=body, headers=headers)


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_queued(
    hook: httpx.AsyncClient, seeded: Seeded, api_league: League
) -> None:
    body = webhook_event(
        "match_object_created", league_match(api_league, seeded.match_ids[-1]), at=datetime.now(UTC)
    )
    body["payload"]["id"] = f"live-{uuid.uuid4()}"
    for secret in (None, "", "faceit-webhook-secret-for-test", SECRET + "x"):
        assert_problem(await post(hook, body, secret), 401)
    assert event_rows(seeded, body["payload"]["id"]) == []
    bad = await hook.post("/webhooks/faceit", content=b"{not json", headers={HEADER: SECRET})
    assert_problem(bad, 400)
    assert_problem(await post(hook, {"event": "match_status_ready"}), 400)


async def test_without_a_configured_secret_every_delivery_is_refused(
    seeded: Seeded, tmp_path: Path, api_league: League
) -> None:
    resources = Resources(
        settings=make_settings(seeded.url, tmp_path, api=make_config()),
        engine=seeded.engine,
        cache=FeatureCache(None, ttl_seconds=600),
    )
    body = webhook_event(
        "match_object_created", league_match(api_league, seeded.match_ids[0]), at=datetime.now(UTC)
    )
    body["payload"]["id"] = f"live-{uuid.uuid4()}"
    async with client(create_app(resources)) as http:
        assert_problem(await post(http, body), 503)
    assert event_rows(seeded, body["payload"]["id"]) == []


async def test_three_concurrent_deliveries_are_queued_and_handled_once(
    hook: httpx.AsyncClient, seeded: Seeded, api_league: League, resources: Resources
) -> None:
    """A match of the league announced as new: its lineups are known, so the worker stores
    the prediction for every map of the pool with the veto advice, once, however often the
    event came and however many workers drain at once."""
    match = league_match(api_league, seeded.match_ids[-1])
    match["match_id"] = f"live-{uuid.uuid4()}"
    body = webhook_event("match_object_created", match, at=datetime.now(UTC))
    answers = await asyncio.gather(*(post(hook, body) for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True]
    assert len(event_rows(seeded, match["match_id"])) == 1

    def work() -> list[Any]:
        return asyncio.run(drain(resources))

    with ThreadPoolExecutor(3) as pool:
        outcomes = [o for batch in pool.map(lambda _: work(), range(3)) for o in batch]
    mine = [o for o in outcomes if o.match_id == match["match_id"]]
    assert len(mine) == 1 and mine[0].predicted, mine
    (row,) = event_rows(seeded, match["match_id"])
    assert (row.status, row.attempts) == ("done", 1)
    with seeded.sessions() as session:
        live = session.get(LiveMatch, match["match_id"])
        served = session.scalars(
            select(ServedPrediction).where(ServedPrediction.match_id == match["match_id"])
        ).all()
    assert live is not None and live.prediction is not None
    assert set(live.prediction["per_map"]) == set(MAP_POOL)
    assert all(0 < p < 1 for p in live.prediction["per_map"].values())
    assert live.prediction["veto"]["pick"] in MAP_POOL
    assert len(served) == 1 and served[0].map == live.prediction["veto"]["pick"]
    assert served[0].p_faction1 == pytest.approx(
        live.prediction["per_map"][served[0].map], abs=1e-4
    )
    # delivered again later (FACEIT retries): still one prediction
    again = await post(hook, {**body, "retry_count": 1})
    assert again.json()["duplicate"] is True
    assert [o for o in await drain(resources) if o.match_id == match["match_id"]] == []
    with seeded.sessions() as session:
        count = session.scalar(
            select(func.count())
            .select_from(ServedPrediction)
            .where(ServedPrediction.match_id == match["match_id"])
        )
    assert count == 1


async def test_finished_scores_the_prediction_on_the_map_played(
    hook: httpx.AsyncClient, seeded: Seeded, api_league: League, resources: Resources
) -> None:
    match_id = seeded.match_ids[-2]
    match = league_match(api_league, match_id)
    now = datetime.now(UTC)
    for event in ("match_object_created", "match_status_ready", "match_status_finished"):
        assert (await post(hook, webhook_event(event, match, at=now))).status_code == 200
    outcomes = [o for o in await drain(resources) if o.match_id == match_id]
    assert [o.state for o in outcomes] == ["created", "ready", "finished"]
    assert outcomes[0].predicted and outcomes[2].ingested and outcomes[2].scored
    with seeded.sessions() as session:
        live = session.get(LiveMatch, match_id)
        stored = session.get(Match, match_id)
    assert live is not None and stored is not None and live.prediction is not None
    assert live.status == "finished"
    assert live.winner_faction == stored.winner_faction == match["results"]["winner"]
    assert live.map == stored.map
    assert live.p_played == pytest.approx(live.prediction["per_map"][stored.map])


async def test_an_unknown_match_and_its_unknown_players_are_ingested(
    engine: Engine, tmp_path: Path, api_league: League
) -> None:
    """On an empty database: the announced match's players are fetched (history and profile)
    so it can be predicted (here no model is trained yet: the live match says so), and the
    finished match is ingested at once."""
    resources = live_resources(str(engine.url), engine, tmp_path, api_league)
    match_id = api_league.match_ids[-1]
    match = league_match(api_league, match_id)
    players = [p["player_id"] for team in match["teams"].values() for p in team["roster"]]
    now = datetime.now(UTC)
    async with client(create_app(resources)) as http:
        await post(http, webhook_event("match_object_created", match, at=now))
        created = await drain(resources)
        with resources.sessions() as session:
            known = set(session.scalars(select(MatchPlayer.player_id).distinct()))
            live = session.get(LiveMatch, match_id)
            assert session.get(Match, match_id) is not None  # its players' histories include it
            session.execute(delete(Match).where(Match.id == match_id))
            session.commit()
        assert set(players) <= known
        assert live is not None and live.prediction is None and "trained" in (live.note or "")
        assert not created[0].predicted
        await post(http, webhook_event("match_status_finished", match, at=now))
        (finished,) = await drain(resources)
    assert finished.ingested and finished.scored
    with resources.sessions() as session:
        stored = session.get(Match, match_id)
        rows = session.scalar(
            select(func.count()).select_from(MatchPlayer).where(MatchPlayer.match_id == match_id)
        )
        elos = session.scalars(select(Player.faceit_elo).where(Player.id.in_(players))).all()
        live = session.get(LiveMatch, match_id)
    assert stored is not None and stored.winner_faction == match["results"]["winner"]
    assert rows == 10 and len(elos) == 10 and all(e for e in elos)
    assert live is not None and live.winner_faction == stored.winner_faction
    assert live.p_played is None  # nothing was predicted


async def test_the_demo_clock_plays_a_match_predicted_before_it_starts_and_scored_after(
    seeded: Seeded, tmp_path: Path, api_league: League
) -> None:
    """End to end: the demo league's live clock schedules a match of a followed player and
    POSTs FACEIT's events to the API; the worker stores the prediction before the start and
    scores it after the end, and the follower hears of both on their Discord channel."""
    followed = api_league.player_ids[0]
    discord = StandIn()
    games = LiveGames(api_league)
    resources = live_resources(
        seeded.url,
        seeded.engine,
        tmp_path,
        api_league,
        live=games,
        notify_discord_api=discord.url,
    )
    with seeded.sessions() as session:
        fan = session.scalar(select(User).where(User.username == seeded.users["free"]))
        assert fan is not None
        notify.follow(session, fan.id, followed)
        hook = f"https://discord.com/api/webhooks/{DISCORD_ID}/{DISCORD_TOKEN}"
        notify.add_channel(session, resources.settings, fan.id, "discord", {"webhook_url": hook})
    api = httpx.ASGITransport(app=create_app(resources))
    clock = LiveClock(
        games,
        http_delivery("http://testserver/webhooks/faceit", HEADER, SECRET, transport=api),
        every=3600,
        stage_seconds=60,
        seed=3,
        players=[followed],
    )
    start = datetime.now(UTC)
    timeline: list[tuple[str, datetime]] = []

    async def at(minutes: int) -> LiveMatch | None:
        sent = await clock.tick(start + timedelta(minutes=minutes))
        timeline.extend((e["event"], datetime.fromisoformat(e["timestamp"])) for e in sent)
        await drain(resources)
        with resources.sessions() as session:
            return session.get(LiveMatch, game.match_id)

    sent = await clock.tick(start)
    (game,) = games.all()
    assert followed in [api_league.player_ids[p] for p in game.players]
    assert [e["event"] for e in sent] == ["match_object_created"]
    await drain(resources)
    with resources.sessions() as session:
        created = session.get(LiveMatch, game.match_id)
    assert created is not None and created.status == "created" and created.prediction
    assert set(created.prediction["per_map"]) == set(MAP_POOL)
    # before the start FACEIT has no scoreboard, and neither has the demo league
    async with resources.faceit_client() as faceit:
        with pytest.raises(NotFound):
            await faceit.get_match_stats(game.match_id)
    ready = await at(2)
    assert ready is not None and ready.status == "ready" and ready.started_at is not None
    assert created.predicted_at is not None and created.predicted_at <= ready.started_at
    assert ready.prediction == created.prediction and ready.scored_at is None
    done = await at(3)
    assert done is not None and done.status == "finished" and done.scored_at is not None
    assert done.winner_faction == f"faction{game.winner + 1}" and done.map == game.map
    assert done.p_played == pytest.approx(created.prediction["per_map"][game.map])
    with resources.sessions() as session:
        stored = session.get(Match, game.match_id)
        record = [
            r
            for r in registry.track_record(session, registry.MATCH_OUTCOME)
            if r.match_id == game.match_id
        ]
    assert stored is not None and stored.winner_faction == done.winner_faction
    assert len(record) == 1 and record[0].faction1_won == (game.winner == 0)
    try:
        assert notify.send_due(resources.sessions, resources.settings) == 4  # Discord, inbox
        notified = datetime.now(UTC)
        assert notify.send_due(resources.sessions, resources.settings) == 0
    finally:
        discord.close()
    with resources.sessions() as session:
        in_app = [m.title for m in notify.inbox(session, fan.id)]
    prediction_note, result_note = (m["content"] for m in discord.of("discord"))
    assert sorted(in_app) == sorted(n.splitlines()[0] for n in (prediction_note, result_note))
    assert prediction_note.startswith("Prediction:") and "Veto advice" in prediction_note
    assert result_note.startswith("Result:") and (
        "called it" in result_note or "missed" in result_note
    )
    assert [name for name, _ in timeline] == [
        "match_status_configuring",
        "match_status_ready",
        "match_status_finished",
    ]
    print(
        f"timeline of {game.match_id}: created {start:%H:%M:%S}, predicted "
        f"{created.predicted_at:%H:%M:%S.%f}, started {ready.started_at:%H:%M:%S}, finished "
        f"{done.finished_at:%H:%M:%S}, scored {done.scored_at:%H:%M:%S.%f}, notified "
        f"{notified:%H:%M:%S.%f} "
        f"(p_faction1 on {game.map} {done.p_played:.3f}, winner {done.winner_faction})"
    )
