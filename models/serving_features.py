"""Serving features, materialized: each player's latest match-outcome inputs, stored when new
matches land and when a model is promoted, so a prediction reads ten rows instead of ten
histories.

A row (core.db.schema.ServingFeatures) holds, for every map of the pool, the player's prior
features for a next match on that map (models.match_outcome.player_prior_features of the
player's history with the next match appended, the profile's Elo as the current one: exactly
what models.match_outcome.lineup_features computes for that player). It is keyed by the feature
version, the promoted match-outcome model's version and the player's data watermark
(models.history.serving_watermarks: stored matches, Elo points, profile Elo). Lookups go to the
feature cache first (Redis in production, under a key that carries all three), then to the
table; a row whose key is not today's is stale: it is rebuilt from the history, written whole
in one statement, and never served as current.

A prediction then averages the ten rows per team for all maps at once and runs one batched
predict (one row per map), the explanation only for the chosen map.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from core import crud, store
from core.cache import FeatureCache
from core.cs2 import ELO_STEP, MAP_POOL
from core.db import transaction
from core.db.types import utcnow
from models import history, registry
from models import match_outcome as mo
from models.errors import AnalysisError

if TYPE_CHECKING:
    from core.ingest import Ingestor
    from core.resources import Resources

log = logging.getLogger(__name__)
T = TypeVar("T")
FEATURE_SET = "serving"
PLAYER_COLUMNS: tuple[str, ...] = mo.TEAM_INPUTS
"""The per-player inputs of models.match_outcome.team_features (``elo`` among them)."""


@dataclass(frozen=True)
class ServingKey:
    """What a materialized row must have been built for to be current."""

    model_version: int | None
    feature_version: str = mo.FEATURE_VERSION

    @property
    def version(self) -> str:
        return f"{self.feature_version}-m{self.model_version}"


def next_match_inputs(
    frame: pl.DataFrame,
    current_elo: Mapping[str, float] | None = None,
    pool: Sequence[str] = MAP_POOL,
) -> dict[str, dict[str, dict[str, float]]]:
    """player id -> map -> :data:`PLAYER_COLUMNS` for a next match on that map.

    ``frame`` is a models.match_outcome.model_frame of any set of players. The next match is
    appended after each player's latest one (one map at a time, so the appended rows never see
    each other), as models.match_outcome.lineup_features does: the latest Elo is
    ``current_elo`` where given, else the Elo after the last match; a typed lineup is solo.
    """
    if not frame.height:
        return {}
    last = (
        frame.sort("ts")
        .group_by("player_id")
        .agg(pl.col("elo_after").last(), pl.col("elo_before").last(), pl.col("result").last())
    )
    latest: dict[str, float] = {}
    for row in last.iter_rows(named=True):
        if row["elo_after"] is not None:
            latest[row["player_id"]] = float(row["elo_after"])
        else:
            won = row["result"] if row["result"] is not None else 0.5
            latest[row["player_id"]] = float(row["elo_before"]) + ELO_STEP * (2 * won - 1)
    if current_elo:
        latest.update({k: float(v) for k, v in current_elo.items() if k in latest})
    players = sorted(latest)
    ts = int(frame.select(pl.col("ts").max()).item()) + 1
    out: dict[str, dict[str, dict[str, float]]] = {p: {} for p in players}
    for map_name in pool:
        next_rows = pl.DataFrame(
            {
                "player_id": players,
                "match_id": [mo.NEXT_MATCH_ID] * len(players),
                "ts": [ts] * len(players),
                "map": [map_name] * len(players),
                "faction": [1] * len(players),
                "result": [None] * len(players),
                "elo_before": [latest[p] for p in players],
                "elo_after": [None] * len(players),
            },
            schema_overrides={
                "faction": pl.Int8,
                "result": pl.Float64,
                "elo_after": pl.Float64,
                "elo_before": pl.Float64,
                "ts": pl.Int64,
            },
        ).with_columns(pl.lit(0.0).alias(c) for c in mo.UNPLAYED_ZEROS)
        both = pl.concat([frame, next_rows.select(frame.columns)], how="vertical_relaxed")
        prior = mo.player_prior_features(both).filter(pl.col("match_id") == mo.NEXT_MATCH_ID)
        for row in prior.select("player_id", *PLAYER_COLUMNS).iter_rows(named=True):
            pid = row.pop("player_id")
            out[pid][map_name] = {k: float(v) for k, v in row.items()}
    return out


def materialize(
    sessions: sessionmaker[Session],
    cache: FeatureCache | None,
    player_ids: Sequence[str] | None,
    key: ServingKey,
) -> dict[str, dict[str, Any]]:
    """Rebuild the rows of these players (every stored player when None) from their history,
    write them (one statement per row, one transaction) and put them in the cache; returns the
    payloads of the players that have matches. The watermark is read before the history, so a
    match stored meanwhile leaves the row marked older than its data: stale, never wrong."""
    with sessions() as session:
        ids = list(player_ids) if player_ids is not None else crud.all_player_ids(session)
        if not ids:
            return {}
        marks = history.serving_watermarks(session, ids)
        elos = crud.profile_elos(session, ids)
        frame = history.load(session, ids, columns=mo.HISTORY_COLUMNS)
    inputs = next_match_inputs(mo.model_frame(frame), {p: e for p, e in elos.items() if e})
    payloads = {pid: {"maps": maps} for pid, maps in inputs.items() if pid in marks}
    built = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "player_id": pid,
            "feature_version": key.feature_version,
            "model_version": key.model_version,
            "watermark": marks[pid],
            "payload": payload,
            "built_at": built,
        }
        for pid, payload in payloads.items()
    ]
    with transaction(sessions) as session:
        store.upsert_serving_features(session, rows)
    if cache is not None:
        cache.set_blobs(
            {_cache_key(cache, key, r["player_id"], r["watermark"]): _blob(r) for r in rows}
        )
    return payloads


def lineup_inputs(
    session: Session,
    sessions: sessionmaker[Session],
    cache: FeatureCache | None,
    player_ids: Sequence[str],
    key: ServingKey,
) -> dict[str, np.ndarray]:
    """The current inputs of these players, each a (maps of the pool, :data:`PLAYER_COLUMNS`)
    array: from the cache, else the table, else rebuilt (a stale or missing row). Players
    without stored matches are left out."""
    marks = history.serving_watermarks(session, player_ids)
    found: dict[str, np.ndarray] = {}
    wanted = [p for p in player_ids if p in marks]
    if cache is not None and wanted:
        keys = [_cache_key(cache, key, p, marks[p]) for p in wanted]
        for pid, blob in zip(wanted, cache.get_blobs(keys), strict=True):
            if blob is not None and len(blob) == _BLOB_BYTES:
                found[pid] = np.frombuffer(blob, dtype=_BLOB_DTYPE).reshape(_SHAPE)
    missing = [p for p in wanted if p not in found]
    if missing:
        current = {}
        for pid, row in crud.serving_features(session, missing).items():
            if (
                row["feature_version"] == key.feature_version
                and row["model_version"] == key.model_version
                and row["watermark"] == marks[pid]
            ):
                current[pid] = row
        found.update({pid: _array(row["payload"]) for pid, row in current.items()})
        if cache is not None and current:
            cache.set_blobs(
                {_cache_key(cache, key, p, r["watermark"]): _blob(r) for p, r in current.items()}
            )
        stale = [p for p in missing if p not in current]
        if stale:
            found.update(
                {p: _array(v) for p, v in materialize(sessions, cache, stale, key).items()}
            )
    return found


@dataclass
class LineupOdds:
    """Lineup A's win probability on every map of the pool (one batched predict)."""

    maps: list[str]
    probabilities: np.ndarray
    elo_probability: float
    x: np.ndarray
    """The model's feature rows, one per map (for the chosen map's explanation)."""

    def of(self, map_name: str) -> float:
        return float(self.probabilities[self.maps.index(map_name)])

    def row(self, map_name: str) -> np.ndarray:
        return self.x[self.maps.index(map_name)]


def lineup_odds(
    model: mo.OutcomeModel,
    lineup_a: Sequence[str],
    lineup_b: Sequence[str],
    inputs: Mapping[str, np.ndarray],
) -> LineupOdds:
    """Team features of the two lineups for every map of the pool from the players'
    materialized inputs (:func:`lineup_inputs`' arrays; models.match_outcome.
    team_feature_arrays: team_features' definitions on a (maps, players, inputs) array, no
    frame per request) and one predict for all maps."""
    if len(lineup_a) != len(lineup_b):
        raise mo.UnequalLineups(len(lineup_a), len(lineup_b))
    missing = [p for p in (*lineup_a, *lineup_b) if p not in inputs]
    if missing:
        raise AnalysisError(f"No matches stored yet for: {', '.join(missing)}.")
    maps = list(MAP_POOL)

    def team(lineup: Sequence[str]) -> np.ndarray:
        return np.stack([inputs[pid] for pid in lineup], axis=1)  # (maps, players, columns)

    columns = mo.team_feature_arrays(team(lineup_a), team(lineup_b))
    x = np.column_stack([columns[f] for f in model.features])
    probabilities = np.asarray(model.predict_proba(x), dtype=np.float64)
    elo_probability = float(mo.elo_expected(columns["elo_a"][0], columns["elo_b"][0]))
    return LineupOdds(maps, probabilities, elo_probability, x)


_SHAPE = (len(MAP_POOL), len(PLAYER_COLUMNS))
_BLOB_DTYPE = np.dtype("<f8")
_BLOB_BYTES = _SHAPE[0] * _SHAPE[1] * _BLOB_DTYPE.itemsize
_LAYOUT = hashlib.sha256(repr((tuple(MAP_POOL), PLAYER_COLUMNS)).encode()).hexdigest()[:8]
"""The cached array's layout (maps and columns, in order) is part of its key: a process
with another pool or column list never reads these bytes as its own."""


def _array(payload: Mapping[str, Any]) -> np.ndarray:
    """A row's payload as the (maps of the pool, :data:`PLAYER_COLUMNS`) array it serves."""
    maps = payload["maps"]
    return np.array([[maps[m][c] for c in PLAYER_COLUMNS] for m in MAP_POOL], dtype=np.float64)


def _cache_key(cache: FeatureCache, key: ServingKey, player_id: str, watermark: str) -> str:
    return cache.key(FEATURE_SET, f"{key.version}-{_LAYOUT}", player_id, watermark)


def _blob(row: Mapping[str, Any]) -> bytes:
    """The cached form of a row: its array's little-endian float64 bytes (no JSON to parse
    per request; floats round-trip exactly, as through the table's JSON)."""
    return _array(row["payload"]).astype(_BLOB_DTYPE).tobytes()


def refresh(
    sessions: sessionmaker[Session], cache: FeatureCache | None, player_ids: Sequence[str] | None
) -> int:
    """Rebuild the rows of these players (every player when None) for the promoted model, as
    new matches land or a model is promoted; nothing before a model is promoted (rows are
    keyed by it). Returns how many rows were written."""
    if player_ids is not None and not player_ids:
        return 0
    with sessions() as session:
        version = registry.champion_version(session, registry.MATCH_OUTCOME)
    if version is None:
        return 0
    ids = sorted(player_ids) if player_ids is not None else None
    return len(materialize(sessions, cache, ids, ServingKey(version)))


def refreshing(
    resources: Resources, job: Callable[[Ingestor], Awaitable[T]]
) -> Callable[[Ingestor], Awaitable[T]]:
    """``job`` (a core.sources.run_ingest job), then the serving rows of the players whose data
    it changed rebuilt. A failed rebuild is logged and left to the first prediction that needs
    the row (a stale row is never served), the ingested data stays."""

    async def run(ingestor: Ingestor) -> T:
        result = await job(ingestor)
        changed = sorted(ingestor.changed_players)
        try:
            refresh(resources.sessions, resources.cache, changed)
        except Exception:
            log.warning("serving features of %d players not rebuilt", len(changed), exc_info=True)
        return result

    return run
