"""The polars feature sets equal the straightforward pandas reference on random data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import polars as pl
import pytest

from models import features as F
from models import history
from models.history import HISTORY_SCHEMA
from tests.features import pandas_reference as FP

EXT_COUNTS = (
    "entry_count",
    "one_v_one_count",
    "one_v_two_count",
    "utility_count",
    "flash_count",
)


def random_frame(seed: int, n_rows: int = 600, n_players: int = 40) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    players = np.array([f"p{i:03d}" for i in range(n_players)])
    pid = players[rng.integers(0, n_players, n_rows)]
    base = datetime(2024, 6, 1, tzinfo=UTC)
    # coarse times so some matches of a player tie on finished_at (match_id breaks ties)
    times = [base + timedelta(hours=int(h)) for h in rng.integers(0, 400, n_rows)]
    rounds = rng.integers(13, 31, n_rows)
    rounds[rng.random(n_rows) < 0.03] = 0
    kills = rng.poisson(rounds * 0.7)
    deaths = rng.poisson(rounds * 0.68)
    deaths[rng.random(n_rows) < 0.05] = 0
    k2 = rng.binomial(np.maximum(kills // 4, 0), 0.6)
    k3 = rng.binomial(k2, 0.3)
    k4 = rng.binomial(k3, 0.3)
    k5 = rng.binomial(k4, 0.3)
    ext = rng.random(n_rows) < 0.6
    data: dict[str, object] = {
        "player_id": pid,
        "match_id": [f"m{i:05d}" for i in range(n_rows)],
        "finished_at": times,
        "map": rng.choice(["de_mirage", "de_nuke", "de_inferno", None], n_rows).tolist(),
        "rounds": rounds,
        "result": rng.random(n_rows) < 0.5,
        "kills": kills,
        "deaths": deaths,
        "headshots": rng.binomial(kills, 0.45),
        "double_kills": k2 - k3,
        "triple_kills": k3 - k4,
        "quadro_kills": k4 - k5,
        "penta_kills": k5,
    }

    def ext_col(values: np.ndarray) -> list[int | None]:
        return [int(v) if e else None for v, e in zip(values, ext, strict=True)]

    counts = {c: rng.integers(0, 12, n_rows) for c in EXT_COUNTS}
    counts["one_v_one_count"] = rng.integers(0, 3, n_rows)  # often 0 -> null rates
    data["damage"] = ext_col(rng.poisson(rounds * 78))
    for c, values in counts.items():
        data[c] = ext_col(values)
        wins = c.replace("count", "wins" if "one_v" in c or "entry" in c else "successes")
        data[wins] = ext_col(rng.binomial(values, 0.45))
    data["utility_damage"] = ext_col(rng.poisson(rounds * 5))
    data["enemies_flashed"] = ext_col(rng.poisson(rounds * 0.3))
    data["sniper_kills"] = ext_col(rng.binomial(kills, 0.1))
    # a few rows carry only ADR (no damage): damage_v falls back to adr * rounds
    adr = np.round(rng.normal(80, 15, n_rows), 1)
    only_adr = (~ext) & (rng.random(n_rows) < 0.2)
    data["adr"] = [float(a) if o else None for a, o in zip(adr, only_adr, strict=True)]
    schema = {c: HISTORY_SCHEMA[c] for c in data}
    return pl.DataFrame(data, schema=schema)


def random_elo(seed: int, n_players: int = 40) -> pl.DataFrame:
    rng = np.random.default_rng(seed + 1000)
    rows = []
    base = datetime(2024, 6, 1, tzinfo=UTC)
    for i in range(n_players - 3):  # some players have no history
        for j in range(int(rng.integers(1, 25))):
            elo = int(1000 + rng.normal(0, 50))
            rows.append((f"p{i:03d}", base + timedelta(days=j), elo))
    return pl.DataFrame(
        rows, schema={"player_id": pl.String, "recorded_at": F.UTC_DATETIME, "elo": pl.Int32},
        orient="row",
    )  # fmt: skip


def assert_frames_match(got: pl.DataFrame, want: pd.DataFrame, keys: list[str]) -> None:
    assert set(got.columns) == set(want.columns)
    expected = pl.from_pandas(want, nan_to_null=True)
    got = got.sort(keys, nulls_last=True)
    expected = expected.select(got.columns).sort(keys, nulls_last=True)
    assert got.height == expected.height
    for col in got.columns:
        g, e = got[col], expected[col]
        if g.dtype.is_float() or e.dtype.is_float():
            g_np = g.cast(pl.Float64).to_numpy()
            e_np = e.cast(pl.Float64).to_numpy()
            assert np.array_equal(np.isnan(g_np), np.isnan(e_np)), col
            ok = ~np.isnan(g_np)
            np.testing.assert_allclose(g_np[ok], e_np[ok], rtol=1e-9, atol=1e-9, err_msg=col)
        elif g.dtype == pl.Datetime:
            assert g.dt.epoch("us").to_list() == e.dt.epoch("us").to_list(), col
        else:
            assert g.cast(e.dtype).to_list() == e.to_list(), col


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_player_summary_matches_pandas(seed: int) -> None:
    frame = random_frame(seed)
    elo = random_elo(seed)
    got = F.player_summary(frame, windows=(3, 10), elo_history=elo, elo_window=8)
    want = FP.player_summary(
        frame.to_pandas(), windows=(3, 10), elo_history=elo.to_pandas(), elo_window=8
    )
    assert got.height == frame["player_id"].n_unique()
    assert got["adr_lifetime"].null_count() < got.height  # the data exercised extended stats
    assert_frames_match(got, want, ["player_id"])


@pytest.mark.parametrize("seed", [4, 5])
def test_map_stats_matches_pandas(seed: int) -> None:
    frame = random_frame(seed)
    got = F.map_stats(frame)
    want = FP.map_stats(frame.to_pandas())
    assert got["map"].null_count() > 0  # null maps are kept as their own group
    assert_frames_match(got, want, ["player_id", "map"])


def test_ratings_match_pandas() -> None:
    frame = random_frame(9)
    got = F.match_ratings(frame).sort("player_id", "finished_at", "match_id")
    want = FP.prepare(frame.to_pandas())["rating"].to_numpy()
    np.testing.assert_allclose(got["rating"].fill_null(np.nan).to_numpy(), want, rtol=1e-12)


def test_rolling_form_last_equals_summary_form() -> None:
    frame = random_frame(7)
    rolling = F.rolling_form(frame).drop_nulls("form")
    last = rolling.group_by("player_id").agg(pl.col("form").last()).sort("player_id")
    summary = F.player_summary(frame, windows=()).drop_nulls("form").select("player_id", "form")
    assert last["player_id"].to_list() == summary["player_id"].to_list()
    np.testing.assert_allclose(last["form"].to_numpy(), summary["form"].to_numpy(), rtol=1e-9)


def test_demo_league_frame_feeds_features() -> None:
    demo = pytest.importorskip("core.demo_league.sim")
    league = demo.generate_league(n_players=30, n_matches=60, seed=3)
    frame = history.from_league(league)
    assert frame.schema == pl.Schema(HISTORY_SCHEMA)
    assert frame.height == 600
    got = F.player_summary(frame, windows=(10,))
    want = FP.player_summary(frame.to_pandas(), windows=(10,))
    assert_frames_match(got, want, ["player_id"])
