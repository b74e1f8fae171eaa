"""One truth about a player: a player whose history mixes matches with FACEIT's extended stats
and older ones without them (recorded only since August 2024) gets the same ADR, K/D and HS%
on every page and in every API response that shows them.

The player: three extended matches (2,000 damage in 20 rounds, 20-10, 8 headshots) and three
legacy ones (20 rounds, 10-10, 4 headshots, no damage recorded). ADR is 100.0 (the legacy
matches are left out of damage AND rounds), K/D 90/60 = 1.5, HS% 36/90 = 40%. Before the one
history, the improvement plan and playstyle said ADR 50.0 (a missing damage counted as 0).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apitest_helpers import Seeded, bearer, build_app, client, login, seed
from sqlalchemy import func, select, text

from core.cache import FeatureCache
from core.db.engine import make_engine
from core.db.schema import Match, MatchPlayer, Player
from core.demo_league import generate_league
from models.analysis import AnalysisModels, improvement_for, playstyle_for, scouting_report
from models.dashboard import compare_players, player_overview
from pipelines.train import run_training

MIXED = "MixedEra"
ADR, KD, HS_PCT = 100.0, 1.5, 40.0
START = datetime(2024, 7, 1, 18, 0, tzinfo=UTC)


def add_mixed_player(seeded: Seeded) -> str:
    """The player above, at the most common level of the league (so the plan has peers),
    then the models retrained so playstyle profiles them too."""
    with seeded.sessions.begin() as session:
        level, elo = session.execute(
            select(Player.skill_level, func.max(Player.faceit_elo))
            .group_by(Player.skill_level)
            .order_by(func.count().desc(), Player.skill_level)
            .limit(1)
        ).one()
        player = Player(
            id=f"mixed-{uuid.uuid4().hex[:8]}", nickname=MIXED, skill_level=level, faceit_elo=elo
        )
        session.add(player)
        for i in range(6):
            extended = i % 2 == 1  # legacy, extended, legacy, ...
            when = START + timedelta(days=40 * i)  # the era boundary falls in the middle
            match = Match(
                id=f"{player.id}-m{i}",
                map="de_mirage",
                rounds=20,
                started_at=when,
                finished_at=when + timedelta(minutes=40),
                score="11 / 9",
                faction1_score=11,
                faction2_score=9,
                winner_faction="faction1" if i % 3 else "faction2",
            )
            session.add(match)
            session.flush()
            kills, headshots = (20, 8) if extended else (10, 4)
            stats: dict[str, Any] = {"damage": 2000, "adr": 100.0} if extended else {}
            if extended:
                stats |= {"entry_count": 4, "entry_wins": 2, "utility_damage": 100}
                stats |= {"flash_count": 5, "enemies_flashed": 3, "sniper_kills": 0}
                stats |= {"one_v_one_count": 1, "one_v_one_wins": 0}
                stats |= {"one_v_two_count": 0, "one_v_two_wins": 0}
            session.add(
                MatchPlayer(
                    match_id=match.id,
                    player_id=player.id,
                    nickname=MIXED,
                    faction="faction1",
                    result=match.winner_faction == "faction1",
                    kills=kills,
                    deaths=10,
                    assists=3,
                    headshots=headshots,
                    headshots_pct=40.0,
                    mvps=1,
                    kd_ratio=kills / 10,
                    kr_ratio=kills / 20,
                    **stats,
                )
            )
        player_id = player.id
    run_training(seeded.sessions)
    return player_id


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def mixed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Seeded, str]]:
    """A small league of its own (this test adds a player), on each backend."""
    league = generate_league(20, 120, seed=8)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('one-truth') / 'db.sqlite'}"
        engine = make_engine(url)
        try:
            seeded = seed("sqlite", url, engine, league)
            yield seeded, add_mixed_player(seeded)
        finally:
            engine.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"truth_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        seeded = seed("postgresql", url, engine, league)
        yield seeded, add_mixed_player(seeded)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_every_service_shows_the_same_stats(
    mixed: tuple[Seeded, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from models import peers

    monkeypatch.setattr(peers, "MIN_PEERS", 3)  # the small league's level groups have ~6
    seeded, player_id = mixed
    sessions = seeded.sessions
    cache = FeatureCache(None, ttl_seconds=60)
    models = AnalysisModels.for_sessions(sessions, ttl=0)

    summary = player_overview(sessions, cache, player_id).summary
    assert (summary["adr_lifetime"], summary["kd_lifetime"], summary["hs_pct_lifetime"]) == (
        pytest.approx(ADR),
        pytest.approx(KD),
        pytest.approx(HS_PCT),
    )
    row = compare_players(sessions, cache, [player_id]).row(0, named=True)
    assert (row["ADR"], row["K/D"], row["HS %"]) == (
        pytest.approx(ADR),
        pytest.approx(KD),
        pytest.approx(HS_PCT),
    )
    plan = improvement_for(sessions, models, player_id)
    stats = plan.percentiles.stats
    assert stats["adr"].value == pytest.approx(ADR)
    assert stats["kd"].value == pytest.approx(KD)
    assert stats["hs_pct"].value == pytest.approx(HS_PCT)
    assert plan.percentiles.peers > 0
    profile = playstyle_for(sessions, models, player_id)
    assert profile.rates["adr"] == pytest.approx(ADR)
    assert profile.rates["hs_pct"] == pytest.approx(HS_PCT)
    assert profile.rates["kpr"] == pytest.approx(90 / 120)
    scouted = scouting_report(sessions, cache, models, [MIXED]).players[0]
    assert scouted.kd_last10 == pytest.approx(KD)


async def test_every_api_response_shows_the_same_stats(
    mixed: tuple[Seeded, str], tmp_path: Path
) -> None:
    seeded, _ = mixed
    async with client(build_app(seeded, tmp_path)) as http:
        token = (await login(http, seeded.users["subscriber"]))["access_token"]
        profile = await http.get(f"/api/players/{MIXED}", headers=bearer(token))
        assert profile.status_code == 200, profile.text
        headline = profile.json()["headline"]
        assert (headline["adr"], headline["kd"], headline["hs_pct"]) == (
            pytest.approx(ADR),
            pytest.approx(KD),
            pytest.approx(HS_PCT),
        )
        plan = await http.get(f"/api/players/{MIXED}/improvement", headers=bearer(token))
        assert plan.status_code == 200, plan.text
        stats = plan.json()["percentiles"]["stats"]
        assert stats["adr"]["value"] == pytest.approx(ADR)
        assert stats["kd"]["value"] == pytest.approx(KD)
        style = await http.get(f"/api/players/{MIXED}/playstyle", headers=bearer(token))
        assert style.status_code == 200, style.text
        assert style.json()["rates"]["adr"] == pytest.approx(ADR)
