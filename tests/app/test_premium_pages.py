"""Premium pages show the analyses to a premium user (AppTest, trained demo models)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from core import auth
from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.resources import Resources
from core.settings import get_settings
from core.sources import demo_league, run_ingest
from pipelines.ingest import ingest_nicknames
from pipelines.train import run_training
from tests.app.conftest import APP, shown
from tests.utils.trained_db import cached_sqlite


@pytest.fixture
def premium(app_settings: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The whole 30-player demo league ingested, models trained, a premium demo account; peer
    groups of 3 players are enough (the league's levels hold ~3 players, the product wants 20)."""
    from models import peers

    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setattr(peers, "MIN_PEERS", 3)
    settings = get_settings()
    league = demo_league(settings)
    nicknames = list(league.players_frame()["nickname"])

    def build(path: Path) -> None:  # once per tree (tests.utils.trained_db), copied per test
        at = settings.model_copy(update={"database_url": f"sqlite:///{path}"})
        with Resources.open(at) as resources:
            upgrade(resources.engine)
            job = lambda i: ingest_nicknames(i, nicknames)  # noqa: E731
            asyncio.run(run_ingest(resources, job, roster_depth=0))
            run_training(resources.sessions)

    name = f"app-premium-{settings.demo_players}-{settings.demo_seed}-peers-{peers.MIN_PEERS}"
    cached_sqlite(name, build, app_settings)
    engine = make_engine(f"sqlite:///{app_settings}")
    sessions = make_session_factory(engine)
    with sessions() as session:
        users = {u.username: u.id for u in auth.seed_demo_accounts(session)}
    engine.dispose()
    first = league.players_frame().row(0, named=True)
    return {
        "user_id": users["demo-premium"],
        "player": first,
        "nicknames": nicknames,
        "app": APP,
        "db": app_settings,
    }


def open_as_premium(premium: dict[str, Any], page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["auth_user_id"] = premium["user_id"]
    at.session_state["player_id"] = premium["player"]["player_id"]
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_predictor_shows_a_probability_and_the_elo_estimate(premium: dict[str, Any]) -> None:
    at = open_as_premium(premium, "views/predictor.py")
    at.button(key="predict_lineups").click().run()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    label = next(k for k in shown if k.startswith("Win probability on"))
    assert shown[label].endswith("%") and 0 <= int(shown[label].rstrip("%")) <= 100
    assert "Elo-only estimate" in shown


def test_predictor_refuses_an_unknown_match_id(premium: dict[str, Any]) -> None:
    at = open_as_premium(premium, "views/predictor.py")
    at.text_input[0].input("1-not-a-real-match")
    at.button(key="predict_match").click().run()
    assert "No stored match" in at.error[0].value


def test_veto_names_a_pick_and_two_bans(premium: dict[str, Any]) -> None:
    at = open_as_premium(premium, "views/veto.py")
    at.button[0].click().run()
    shown = {m.label: m.value for m in at.metric}
    assert shown["Pick"] and len(shown["Ban first"].split(", ")) == 2
    pick = next(m for m in at.metric if m.label == "Pick")
    # "52% to win" is a chance, not a rise: drawn without an arrow or a colour
    assert pick.proto.delta.endswith("% to win")
    assert pick.proto.direction == Metric.MetricDirection.NONE
    assert pick.proto.color == Metric.MetricColor.GRAY


def test_playstyle_improvement_and_scouting_render(premium: dict[str, Any]) -> None:
    nickname = premium["player"]["nickname"]
    at = open_as_premium(premium, "views/playstyle.py")
    assert shown(at.title[0].value).startswith(f"{nickname} plays like an")
    at = open_as_premium(premium, "views/improvement.py")
    assert shown(at.title[0].value) == f"Improvement plan for {nickname}"
    assert at.markdown, "focus points are listed"
    at = open_as_premium(premium, "views/scouting.py")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert {m.label for m in at.metric} == {"Expect them to pick", "Their weakest maps"}


def test_playstyle_shows_the_ratings_of_the_service(premium: dict[str, Any]) -> None:
    from models.ratings import ratings_for

    at = open_as_premium(premium, "views/playstyle.py")
    shown_ratings = {m.label: m.value for m in at.metric}
    engine = make_engine(f"sqlite:///{premium['db']}")
    try:
        expected = ratings_for(make_session_factory(engine), premium["player"]["player_id"])
    finally:
        engine.dispose()
    assert shown_ratings == {
        r.label: "not rated" if r.rating is None else f"{r.rating}/100" for r in expected.ratings
    }
    assert any(r.rating is not None for r in expected.ratings)
    text = "\n".join(m.value for m in at.markdown)
    for r in expected.ratings:
        assert shown(r.explanation) in shown(text)


def test_peer_pages_show_the_group_its_count_and_the_tables_numbers(
    premium: dict[str, Any],
) -> None:
    from core.db.schema import Player
    from models import peers
    from models.analysis import AnalysisModels, improvement_for

    engine = make_engine(f"sqlite:///{premium['db']}")
    try:
        sessions = make_session_factory(engine)
        with sessions() as session:
            # a player whose group is there, so the numbers are shown
            player_id = next(
                p.id
                for p in session.query(Player).order_by(Player.nickname)
                if peers.peer_benchmarks(sessions, p.id).group is not None
            )
        marks = peers.peer_benchmarks(sessions, player_id)
        plan = improvement_for(sessions, AnalysisModels.for_sessions(sessions), player_id)
    finally:
        engine.dispose()
    premium = {**premium, "player": {"player_id": player_id, "nickname": marks.nickname}}
    at = open_as_premium(premium, "views/improvement.py")
    assert f"Against {marks.peers} {marks.group} players" in [h.value for h in at.subheader]
    assert plan.percentiles.group == marks.group and plan.percentiles.peers == marks.peers
    for key, row in plan.percentiles.stats.items():
        assert row.percentile == marks.stats[key].percentile  # the table's number, as is
    at = open_as_premium(premium, "views/playstyle.py")
    assert f"Ratings against {marks.peers} {marks.group} players" in [h.value for h in at.subheader]
    rates = at.dataframe[0].value
    for _, row in rates.iterrows():
        key = next(k for k in marks.stats if shown(row["Stat"]) == shown(_label(k)))
        pct = marks.stats[key].percentile
        assert row["Percentile (last 50)"] == ("–" if pct is None else f"{pct:.0f}")
        assert row["Peers"] == marks.stats[key].peers
    assert marks.versus in shown("\n".join(c.value for c in at.caption))


def _label(key: str) -> str:
    from app import present

    return present.stat_label(key)


def test_compare_shows_the_head_to_head_and_teammates_of_the_services(
    premium: dict[str, Any],
) -> None:
    from models.head_to_head import head_to_head_for, synergy_for

    player = premium["player"]
    engine = make_engine(f"sqlite:///{premium['db']}")
    try:
        sessions = make_session_factory(engine)
        mates = synergy_for(sessions, player["player_id"])
        mate = mates.teammates[0].nickname
        pair = head_to_head_for(sessions, player["nickname"], mate)
    finally:
        engine.dispose()
    at = open_as_premium(premium, "views/compare.py")
    at.multiselect[0].set_value([player["nickname"], mate]).run()
    assert not at.exception, at.exception
    text = shown("\n".join(m.value for m in at.markdown))
    t = pair.together
    assert f"On the same team: {t.matches} matches, {t.wins} won, {t.losses} lost" in text
    assert t.matches == mates.teammates[0].matches > 0
    frames = [df.value for df in at.dataframe]
    together = next(f for f in frames if "Map" in f.columns)
    assert int(together["Matches"].sum()) == t.matches
    listed = next(f for f in frames if "Teammate" in f.columns)
    assert list(listed["Teammate"]) == [m.nickname for m in mates.teammates]
    assert list(listed["Matches together"]) == [m.matches for m in mates.teammates]


def test_compare_keeps_head_to_head_for_premium(premium: dict[str, Any]) -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["player_id"] = premium["player"]["player_id"]
    at.run()
    at.switch_page("views/compare.py").run()
    at.multiselect[0].set_value(premium["nicknames"][:2]).run()
    assert not at.exception, at.exception
    assert any("premium analyses" in i.value for i in at.info)
    assert not any("On the same team" in m.value for m in at.markdown)
