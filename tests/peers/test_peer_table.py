"""The peer table (models/peers.py) against brute force on a small stored league, its refresh,
its fallbacks at the boundary, and that a stale row is never read as current."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.db.schema import PeerGroup, PeerMember, Player
from core.demo_league import League
from models import features, peers
from models.history import HISTORY_SCHEMA
from tests.peers.conftest import LEGACY_ONLY, add_match, brute_force, store_league


@pytest.fixture
def league_db(sessions: sessionmaker[Session], peer_league: League) -> sessionmaker[Session]:
    store_league(peer_league, sessions)
    return sessions


def group_rows(sessions: sessionmaker[Session]) -> dict[tuple[int, str], dict[str, Any]]:
    with sessions() as session:
        return {
            (g.level, g.region): {
                "values": g.values,
                "built_at": g.built_at,
                "watermark": g.watermark,
                "members": g.members,
            }
            for g in session.scalars(select(PeerGroup))
        }


def place_of(sessions: sessionmaker[Session], player_id: str) -> tuple[int, str | None]:
    with sessions() as session:
        player = session.get(Player, player_id)
        assert player is not None
        return int(player.skill_level or 0), player.region


def test_the_table_equals_brute_force_with_legacy_matches(
    league_db: sessionmaker[Session], peer_league: League
) -> None:
    summary = peers.refresh(league_db)
    assert summary["rebuilt"] and len(summary["rebuilt"]) == summary["groups"]
    seen_groups: set[str | None] = set()
    mixed = 0
    for min_peers in (5, peers.MIN_PEERS):
        brute = brute_force(league_db, min_peers)
        for player_id in peer_league.player_ids:
            marks = peers.peer_benchmarks(league_db, player_id, min_peers=min_peers)
            group, size, want = brute[player_id]
            assert marks.group == group, player_id
            assert marks.peers == size
            seen_groups.add(None if group is None else ("region" if " " in group else "level"))
            for stat, (pct, n) in want.items():
                got = marks.stats[stat]
                assert got.peers == n, (player_id, stat)
                if pct is None:
                    assert got.percentile is None
                else:
                    assert got.percentile == pytest.approx(pct, abs=1e-9), (player_id, stat)
            # players with legacy matches only have no ADR: fewer ADR peers than K/D ones
            if group is not None and marks.stats["adr"].peers < marks.stats["kd"].peers:
                mixed += 1
        for player_id in peer_league.player_ids[:LEGACY_ONLY]:
            marks = peers.peer_benchmarks(league_db, player_id, min_peers=min_peers)
            assert marks.stats["adr"].value is None and marks.stats["adr"].percentile is None
            assert marks.stats["kd"].value is not None
    # every branch of the fallback was taken on this league
    assert seen_groups == {"region", "level", None}
    assert mixed > 0


def test_a_fresh_table_is_read_not_recomputed(
    league_db: sessionmaker[Session], peer_league: League
) -> None:
    peers.refresh(league_db)
    player_id = peer_league.player_ids[0]
    level, region = place_of(league_db, player_id)
    before = peers.peer_benchmarks(league_db, player_id, min_peers=5)
    key = (level, region if before.group_region else "")
    # scale the stored values of the player's group: a lookup shows it, a scan would not
    with transaction(league_db) as session:
        row = session.get(PeerGroup, (peers.table_version(), *key))
        assert row is not None
        row.values = {s: [v * 0 - 1.0 for v in vals] for s, vals in row.values.items()}
    after = peers.peer_benchmarks(league_db, player_id, min_peers=5)
    valued = [s for s, b in after.stats.items() if b.value is not None and b.value > 0]
    assert valued and all(after.stats[s].percentile == 100.0 for s in valued)
    assert after.stats["kd"].peer_median == -1.0
    assert before.stats["kd"].peer_median != -1.0


def test_a_new_match_makes_only_the_affected_groups_stale(
    league_db: sessionmaker[Session], peer_league: League
) -> None:
    peers.refresh(league_db)
    before = group_rows(league_db)
    assert peers.refresh(league_db)["rebuilt"] == []  # nothing new: nothing rebuilt
    player_id = next(p for p in peer_league.player_ids if place_of(league_db, p)[1] == "EU")
    level, _region = place_of(league_db, player_id)
    add_match(league_db, player_id)
    summary = peers.refresh(league_db)
    assert sorted(summary["rebuilt"]) == sorted([f"level-{level} EU", f"level-{level}"])
    after = group_rows(league_db)
    assert set(after) == set(before)
    for key, row in after.items():
        if key in {(level, "EU"), (level, "")}:
            assert row["values"] != before[key]["values"]
            assert row["watermark"] > before[key]["watermark"]
        else:
            assert row == before[key], key  # untouched, not even rewritten
    marks = peers.peer_benchmarks(league_db, player_id, min_peers=5)
    group, _size, want = brute_force(league_db, 5)[player_id]
    assert marks.group == group
    for stat, (pct, _n) in want.items():
        assert marks.stats[stat].percentile == pytest.approx(pct, abs=1e-9)


def test_an_older_watermark_is_never_read_as_current(
    league_db: sessionmaker[Session], peer_league: League
) -> None:
    peers.refresh(league_db)
    player_id = peer_league.player_ids[5]
    level, _region = place_of(league_db, player_id)
    # poison every stored row of the level, then add a match: the rows are now stale
    with transaction(league_db) as session:
        session.execute(
            update(PeerGroup)
            .where(PeerGroup.level == level)
            .values(values={s: [] for s in features.PEER_STATS})
        )
    add_match(league_db, player_id)
    marks = peers.peer_benchmarks(league_db, player_id, min_peers=5)
    group, size, want = brute_force(league_db, 5)[player_id]
    assert (marks.group, marks.peers) == (group, size)
    for stat, (pct, n) in want.items():
        assert marks.stats[stat].peers == n
        assert marks.stats[stat].percentile == pytest.approx(pct, abs=1e-9)
    # and the lookup stored what it rebuilt: the level's rows are current again
    assert peers.refresh(league_db)["rebuilt"] == []


def test_another_feature_version_is_never_read_as_current(
    league_db: sessionmaker[Session], peer_league: League, monkeypatch: pytest.MonkeyPatch
) -> None:
    peers.refresh(league_db)
    player_id = peer_league.player_ids[7]
    with transaction(league_db) as session:  # the old version's rows: poisoned
        session.execute(update(PeerGroup).values(values={s: [] for s in features.PEER_STATS}))
    monkeypatch.setattr(features, "FEATURE_VERSION", "new-code")
    marks = peers.peer_benchmarks(league_db, player_id, min_peers=5)
    group, _size, want = brute_force(league_db, 5)[player_id]
    assert marks.group == group
    for stat, (pct, _n) in want.items():
        assert marks.stats[stat].percentile == pytest.approx(pct, abs=1e-9)
    summary = peers.refresh(league_db)
    assert summary["dropped_other_versions"] > 0
    with league_db() as session:
        versions = set(session.scalars(select(PeerGroup.feature_version)))
        member_versions = set(session.scalars(select(PeerMember.feature_version)))
    assert versions == member_versions == {peers.table_version()}
    assert peers.table_version().startswith("new-code")


def test_a_player_who_changes_level_moves_group(
    league_db: sessionmaker[Session], peer_league: League
) -> None:
    peers.refresh(league_db)
    player_id = peer_league.player_ids[20]
    level, _region = place_of(league_db, player_id)
    members_before = group_rows(league_db)[(level, "")]["members"]
    new_level = 10 if level < 10 else 1
    with transaction(league_db) as session:
        session.execute(update(Player).where(Player.id == player_id).values(skill_level=new_level))
    marks = peers.peer_benchmarks(league_db, player_id, min_peers=1)
    assert marks.level == new_level and marks.group is not None
    assert marks.group.startswith(f"level-{new_level}")
    peers.refresh(league_db)
    with league_db() as session:
        member = session.get(PeerMember, (peers.table_version(), player_id))
        old = session.get(PeerGroup, (peers.table_version(), level, ""))
    assert member is not None and member.level == new_level
    assert old is not None and old.members == members_before - 1  # left the old level
    group, size, _ = brute_force(league_db, 1)[player_id]
    assert (marks.group, marks.peers) == (group, size)


# ---- fallbacks at the boundary, in memory ------------------------------------------------------

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def hand_frame(players: list[str]) -> pl.DataFrame:
    """Two 20-round matches per player, kills rising with the player's index."""
    rows = []
    for i, pid in enumerate(players):
        for n in range(2):
            at = T0 + timedelta(hours=10 * i + n)
            rows.append(
                {
                    "player_id": pid,
                    "match_id": f"{pid}-{n}",
                    "finished_at": at,
                    "ts": int(at.timestamp()),
                    "rounds": 20,
                    "result": n == 0,
                    "kills": 10 + i,
                    "deaths": 10,
                    "headshots": 5,
                    "assists": 2,
                }
            )
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA)


def roster(eu: int, na: int) -> dict[str, tuple[int, str | None]]:
    """The player "me" (level 6, NA) with ``eu`` EU and ``na`` other NA level-6 players."""
    out: dict[str, tuple[int, str | None]] = {"me": (6, "NA")}
    out |= {f"eu{i}": (6, "EU") for i in range(eu)}
    out |= {f"na{i}": (6, "NA") for i in range(na)}
    out |= {f"far{i}": (9, "NA") for i in range(30)}  # another level: never a peer
    return out


@pytest.mark.parametrize(
    ("eu", "na", "group", "size"),
    [
        (0, peers.MIN_PEERS, "level-6 NA", peers.MIN_PEERS),  # exactly enough in the region
        (1, peers.MIN_PEERS - 1, "level-6", peers.MIN_PEERS),  # one short: the whole level
        (0, peers.MIN_PEERS - 1, None, peers.MIN_PEERS - 1),  # the level one short too
    ],
)
def test_fallback_at_the_boundary(eu: int, na: int, group: str | None, size: int) -> None:
    players = roster(eu, na)
    frame = hand_frame(list(players))
    marks = peers.benchmarks(peers.build_table(frame, players), "me")
    assert marks.group == group
    if group is None:
        assert marks.peers == 0 and marks.stats["kd"].percentile is None
        assert marks.versus == "too few peers (fewer than 20 other level-6 players)"
        assert marks.fallback == (
            f"Only {size} other level-6 NA players and only {size} other level-6 players; "
            f"a comparison needs {peers.MIN_PEERS}."
        )
        return
    assert marks.peers == size
    assert marks.versus == f"vs {size} {group} players"
    peers_kd = [
        (10 + i) / 10
        for i, (pid, place) in enumerate(players.items())
        if pid != "me" and place[0] == 6 and (group == "level-6" or place[1] == "NA")
    ]
    assert marks.stats["kd"].percentile == pytest.approx(features.percentile(1.0, peers_kd))
    assert marks.stats["kd"].peers == size
    if group == "level-6":
        assert marks.fallback == (
            "Only 19 other level-6 NA players (a comparison needs 20): compared with all 20 "
            "level-6 players."
        )


def test_a_player_without_a_region_is_compared_with_the_level() -> None:
    players: dict[str, tuple[int, str | None]] = {"me": (6, None)}
    players |= {f"p{i}": (6, "EU") for i in range(peers.MIN_PEERS)}
    marks = peers.benchmarks(peers.build_table(hand_frame(list(players)), players), "me")
    assert marks.group == "level-6" and marks.peers == peers.MIN_PEERS
    assert "No region" in (marks.fallback or "")


def test_ties_count_half_and_the_player_is_not_their_own_peer() -> None:
    players: dict[str, tuple[int, str | None]] = {f"p{i}": (6, "EU") for i in range(4)}
    frame = hand_frame(list(players)).with_columns(pl.lit(10).cast(pl.Int32).alias("kills"))
    marks = peers.benchmarks(peers.build_table(frame, players), "p0", min_peers=3)
    # three peers, all tied with the player: half of them below
    assert marks.stats["kd"].percentile == 50.0 and marks.stats["kd"].peers == 3


def test_the_improvement_plan_is_a_lookup_equal_to_the_one_from_history(
    league_db: sessionmaker[Session], peer_league: League, monkeypatch: pytest.MonkeyPatch
) -> None:
    """improvement_for reads the player's own inputs (drivers, recent record) from their
    member row, loads no history, and answers what improvement_plan computes from the
    history; a new match makes the row stale, and the answer follows it."""
    from models import history
    from models.analysis import AnalysisModels, improvement_for
    from models.improvement import improvement_plan
    from models.results import ImprovementPlan

    def from_history(player_id: str) -> ImprovementPlan:
        with league_db() as session:
            player = session.get(Player, player_id)
            assert player is not None
            frame = history.load(session, [player_id], columns=peers.PLAN_COLUMNS)
        plan = improvement_plan(
            player_id,
            frame,
            benchmarks=peers.peer_benchmarks(league_db, player_id),
            current_elo=float(player.faceit_elo) if player.faceit_elo else None,
        )
        return ImprovementPlan.model_validate({**plan, "nickname": player.nickname})

    peers.refresh(league_db)
    models = AnalysisModels.for_sessions(league_db)
    asked = peer_league.player_ids[LEGACY_ONLY - 2 : LEGACY_ONLY + 8]  # legacy-only ones too
    expected = {pid: from_history(pid) for pid in asked}
    real_load = history.load
    loads: list[list[str]] = []

    def counted(session: Session, ids: Any, **kw: Any) -> pl.DataFrame:
        loads.append(list(ids))
        return real_load(session, ids, **kw)

    monkeypatch.setattr(history, "load", counted)
    for pid in asked:
        got = improvement_for(league_db, models, pid)
        assert got == expected[pid], pid
        assert got.drivers, pid  # not an empty plan that would equal trivially
    assert loads == []  # no history read on request

    player_id = asked[-1]
    add_match(league_db, player_id, kills=60)
    monkeypatch.setattr(history, "load", real_load)
    fresh = from_history(player_id)
    assert fresh != expected[player_id]
    assert improvement_for(league_db, models, player_id) == fresh
