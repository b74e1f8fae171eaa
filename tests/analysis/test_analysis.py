"""The premium analyses as services, on a seeded demo league with trained models."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.cache import FeatureCache
from core.cs2 import MAP_POOL
from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.db.schema import Match, MatchPlayer, Player, ServedPrediction
from models.analysis import (
    AnalysisError,
    AnalysisModels,
    analyze_lineups,
    analyze_match,
    improvement_for,
    playstyle_for,
    scouting_report,
)
from models.model_report import match_outcome_report
from tests.utils.trained_db import trained_sqlite


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """40 players and 800 matches ingested, the models trained (built once, copied here)."""
    path = trained_sqlite(tmp_path_factory.mktemp("analysis"), 40, 800, seed=21)
    engine = make_engine(f"sqlite:///{path}")
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def models(trained: sessionmaker[Session]) -> AnalysisModels:
    return AnalysisModels.for_sessions(trained)


def nicknames(sessions: sessionmaker[Session], n: int = 10) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(Player.nickname).order_by(Player.nickname).limit(n)))


def test_lineup_analysis_is_a_probability_with_reasons_and_veto(
    trained: sessionmaker[Session], models: AnalysisModels
) -> None:
    names = nicknames(trained)
    result = analyze_lineups(trained, models, names[:5], names[5:])
    assert 0 < result.probability < 1 and 0 < result.elo_probability < 1
    assert set(result.per_map) == set(MAP_POOL)
    assert result.veto["pick"] == max(result.per_map, key=result.per_map.__getitem__)
    assert result.map == result.veto["pick"]
    assert len(result.veto["bans"]) == 2 and result.veto["pick"] not in result.veto["bans"]
    assert result.factors and all(isinstance(s, str) for s in result.factors)
    assert result.model_version == 1


def test_swapping_the_lineups_gives_the_complement(
    trained: sessionmaker[Session], models: AnalysisModels
) -> None:
    names = nicknames(trained)
    ab = analyze_lineups(trained, models, names[:5], names[5:], "de_mirage")
    ba = analyze_lineups(trained, models, names[5:], names[:5], "de_mirage")
    assert ab.probability + ba.probability == pytest.approx(1.0, abs=1e-9)


def test_stored_match_uses_only_what_was_known_before_it(
    trained: sessionmaker[Session], models: AnalysisModels
) -> None:
    with trained() as session:
        match = session.scalars(select(Match).order_by(Match.finished_at.desc())).first()
        assert match is not None
        roster = session.scalars(select(MatchPlayer).where(MatchPlayer.match_id == match.id)).all()
    result = analyze_match(trained, models, match.id)
    assert sorted(result.lineup_a + result.lineup_b) == sorted(p.nickname for p in roster)
    assert result.map == match.map and result.actual_winner == match.winner_faction
    assert 0 < result.probability < 1


@pytest.mark.parametrize(
    ("lineup_a", "lineup_b", "message"),
    [
        (["<script>x</script>"], None, "Unknown player"),
        (["'; DROP TABLE players;--"], None, "Unknown player"),
        ([], None, "at least one player"),
        (None, None, "cannot play on both teams"),
    ],
)
def test_bad_lineups_get_clear_messages(
    trained: sessionmaker[Session],
    models: AnalysisModels,
    lineup_a: list[str] | None,
    lineup_b: list[str] | None,
    message: str,
) -> None:
    names = nicknames(trained)
    a = names[:2] if lineup_a is None else lineup_a
    b = names[1:3] if lineup_b is None and lineup_a is None else names[5:7]
    with pytest.raises(AnalysisError, match=message):
        analyze_lineups(trained, models, a, b)


def test_unknown_map_and_match_are_refused(
    trained: sessionmaker[Session], models: AnalysisModels
) -> None:
    names = nicknames(trained)
    with pytest.raises(AnalysisError, match="Unknown map"):
        analyze_lineups(trained, models, names[:5], names[5:], "de_cache")
    with pytest.raises(AnalysisError, match="No stored match"):
        analyze_match(trained, models, "1-not-a-match")


def test_no_trained_model_is_explained(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    with pytest.raises(AnalysisError, match="faceit-ai train"):
        analyze_lineups(sessions, AnalysisModels.for_sessions(sessions), ["a"], ["b"])
    engine.dispose()


def test_playstyle_improvement_and_scouting(
    trained: sessionmaker[Session], models: AnalysisModels
) -> None:
    names = nicknames(trained)
    with trained() as session:
        player = session.scalars(select(Player).where(Player.nickname == names[0])).one()
    profile = playstyle_for(trained, models, player.id)
    assert profile.role in {"AWPer", "Entry", "Support", "Anchor", "Rifler"}
    assert sum(profile.affinity.values()) == pytest.approx(1.0)
    assert profile.similar and names[0] not in [s.nickname for s in profile.similar]

    plan = improvement_for(trained, models, player.id)
    assert plan.nickname == names[0] and plan.elo == player.faceit_elo
    forecast = plan.forecast
    # the forecast starts from the Elo the plan (and the dashboards) show
    assert forecast.start == plan.elo
    assert len(forecast.p50) == forecast.matches == 20
    assert all(
        lo <= mid <= hi
        for lo, mid, hi in zip(forecast.p10, forecast.p50, forecast.p90, strict=True)
    )

    report = scouting_report(trained, FeatureCache(None), models, names[:5])
    assert [p.nickname for p in report.players] == names[:5]
    played = {m.map: m.matches for m in report.maps}
    with trained() as session:
        ids = session.scalars(select(Player.id).where(Player.nickname.in_(names[:5]))).all()
        rows = session.scalars(select(MatchPlayer).where(MatchPlayer.player_id.in_(ids))).all()
    assert sum(played.values()) == len(rows)


def test_lineups_of_unequal_size_are_refused(
    trained: sessionmaker[Session], models: AnalysisModels
) -> None:
    names = nicknames(trained)
    with pytest.raises(AnalysisError, match=r"same number of players .*got 3 against 5"):
        analyze_lineups(trained, models, names[:3], names[5:10])


def test_a_forecast_is_recorded_once_and_scored_when_the_match_finishes(
    trained: sessionmaker[Session], models: AnalysisModels
) -> None:
    with trained() as session:
        match = session.scalars(select(Match).order_by(Match.finished_at.desc())).first()
        assert match is not None
        match_id, winner = match.id, match.winner_faction
    # the match is still to be played: its result is not stored yet
    with trained.begin() as session:
        session.get(Match, match_id).winner_faction = None  # type: ignore[union-attr]
    try:
        first = analyze_match(trained, models, match_id)
        analyze_match(trained, models, match_id)  # asked again: stored once
        with trained() as session:
            served = session.scalars(
                select(ServedPrediction).where(ServedPrediction.match_id == match_id)
            ).all()
            pending = match_outcome_report(session)
        assert [(s.model_version, s.p_faction1) for s in served] == [(1, first.probability)]
        assert pending is not None
        assert (pending["live"]["served"], pending["live"]["finished"]) == (1, 0)
        assert pending["live"]["logloss"] is None
    finally:
        with trained.begin() as session:
            session.get(Match, match_id).winner_faction = winner  # type: ignore[union-attr]
    with trained() as session:
        report = match_outcome_report(session)
    assert report is not None and report["live"]["finished"] == 1
    won = winner == "faction1"
    expected = -math.log(first.probability if won else 1 - first.probability)
    assert report["live"]["logloss"] == pytest.approx(expected)
    assert report["live"]["recent"][0]["faction1_won"] is won


def test_the_model_report_has_the_champion_its_windows_and_its_calibration(
    trained: sessionmaker[Session],
) -> None:
    with trained() as session:
        report = match_outcome_report(session)
    assert report is not None
    assert report["version"] == 1 and report["learner"] == "symmetric logistic regression"
    assert {"model", "xgboost", "elo"} <= set(report["metrics"])
    assert report["training_window"]["end"] <= report["selection_window"]["start"]
    assert report["selection_window"]["end"] <= report["evaluation_window"]["start"]
    bins = report["reliability"]
    assert len(bins) == 10
    assert sum(b["n"] for b in bins) == report["metrics"]["model"]["n"]
    for b in bins:
        if b["n"]:
            assert b["low"] <= b["mean_p"] <= b["high"]


def test_lineup_names_are_found_as_one_by_one_lookups_would(
    sessions: sessionmaker[Session],
) -> None:
    """crud.players_by_names (one query for a lineup) finds what session.get then
    crud.find_player find name by name: an id, an exact nickname, a unique case-insensitive
    one; an ambiguous case-insensitive name and an unknown one find nobody."""
    from core import crud

    with sessions() as session:
        session.add_all(
            [
                Player(id="p-1", nickname="Alpha"),
                Player(id="p-2", nickname="bravo"),
                Player(id="p-3", nickname="BRAVO"),
                Player(id="p-4", nickname="Charlie"),
                Player(id="Charlie", nickname="delta"),  # an id that is another's nickname
                Player(id="p-6", nickname="Echo"),
            ]
        )
        session.commit()
        names = ["p-1", "Alpha", "alpha", "bravo", "Bravo", "CHARLIE", "Charlie", "echo", "x"]
        one_by_one = {
            n: p.id
            for n in names
            if (p := session.get(Player, n) or crud.find_player(session, n)) is not None
        }
        batched = {n: p.id for n, p in crud.players_by_names(session, names).items()}
    assert batched == one_by_one
    assert batched == {
        "p-1": "p-1",
        "Alpha": "p-1",
        "alpha": "p-1",
        "bravo": "p-2",
        "CHARLIE": "p-4",
        "Charlie": "Charlie",
        "echo": "p-6",
    }
