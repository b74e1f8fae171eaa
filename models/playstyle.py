"""Role / playstyle profiles: per-round rates, StandardScaler + KMeans, named clusters.

Cluster names come from the centres by a deterministic assignment (Hungarian matching of
clusters to role scores), and clusters are renumbered in role order, so two retrains on the
same data give the same names and ids. The fitted state (scaler, centres, names, every
player's scaled vector) serialises to JSON bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from models import features as vocabulary

PLAYSTYLE_VERSION = "ps-2"

# the per-round rates styles are told apart by: names of the stats vocabulary
# (models.features.RATIO_METRICS), so a profile shows the numbers the dashboards show
RATES: dict[str, str] = {
    "kpr": "kills per round",
    "dpr": "deaths per round",
    "apr": "assists per round",
    "adr": "damage per round",
    "hs_pct": "headshot %",
    "entry_rate": "opening duels per round",
    "entry_success": "opening duel win rate",
    "sniper_share": "share of kills with a sniper",
    "utility_dpr": "utility damage per round",
    "flashes_pr": "flashes per round",
    "enemies_flashed_pr": "enemies flashed per round",
    "clutch_pr": "clutch situations per round",
}
ROLE_NAMES: tuple[str, ...] = ("AWPer", "Entry", "Support", "Anchor", "Rifler")
SKILL_RATES: frozenset[str] = frozenset({"kpr", "adr", "hs_pct"})
"""Rates that grow with a player's level and opponents rather than their role: shown, and used
to name clusters, but left out of the clustering (else a new account stomping at 1000 Elo lands
in the AWPer cluster)."""


def player_rates(history: pl.DataFrame, *, min_matches: int = 5) -> pl.DataFrame:
    """One row per player with at least ``min_matches`` matches: ``player_id``, ``matches``
    and :data:`RATES` over every match (the stats vocabulary's ratio-of-sums rules: an
    extended stat only over the matches that recorded it)."""
    stats = vocabulary.window_stats(history)
    return stats.filter(pl.col("matches") >= min_matches).select("player_id", "matches", *RATES)


def rate_matrix(rates: pl.DataFrame, features: list[str], fill: list[float]) -> np.ndarray:
    """The rates as a matrix; a rate a player never recorded (no extended matches, no entry
    duels) takes ``fill`` (the league mean), so it pulls towards no style."""
    raw = rates.select(pl.col(f).cast(pl.Float64) for f in features).to_numpy()
    return np.where(np.isfinite(raw), raw, np.asarray(fill, dtype=np.float64))


def _role_scores(centres: np.ndarray) -> np.ndarray:
    """(k, len(ROLE_NAMES)) suitability of each cluster centre (scaled space) for each role."""
    idx = {name: i for i, name in enumerate(RATES)}

    def z(name: str) -> np.ndarray:
        return centres[:, idx[name]]

    awp = 2.0 * z("sniper_share")
    entry = z("entry_rate") + 0.5 * z("dpr") - 0.5 * z("sniper_share")
    support = 0.5 * (z("utility_dpr") + z("flashes_pr") + z("enemies_flashed_pr")) + 0.5 * z("apr")
    anchor = -z("dpr") - 0.5 * z("entry_rate") + 0.5 * z("clutch_pr")
    rifler = z("kpr") + 0.5 * z("hs_pct") - 0.5 * z("sniper_share")
    return np.stack([awp, entry, support, anchor, rifler], axis=1)


def name_clusters(centres: np.ndarray) -> list[str]:
    """Role name per cluster: the assignment maximising the total role score (deterministic)."""
    k = centres.shape[0]
    roles = list(ROLE_NAMES[: max(k, 4)])
    scores = _role_scores(centres)[:, : len(roles)]
    rows, cols = linear_sum_assignment(-scores)
    names = [""] * k
    for r, c in zip(rows, cols, strict=True):
        names[r] = roles[c]
    for i in range(k):  # more clusters than role names
        if not names[i]:
            names[i] = f"Style {i + 1}"
    return names


@dataclass
class PlaystyleModel:
    features: list[str]
    mean: list[float]
    scale: list[float]
    centres: list[list[float]]  # scaled space, ordered like names
    names: list[str]
    player_ids: list[str] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)  # scaled, per player
    labels: list[int] = field(default_factory=list)
    version: str = PLAYSTYLE_VERSION

    def __post_init__(self) -> None:
        self._index = {p: i for i, p in enumerate(self.player_ids)}

    # -- scoring ---------------------------------------------------------------------------
    def scale_rows(self, raw: np.ndarray) -> np.ndarray:
        return (np.asarray(raw, dtype=np.float64) - np.array(self.mean)) / np.array(self.scale)

    def assign(self, raw: np.ndarray) -> np.ndarray:
        z = self.scale_rows(np.atleast_2d(raw))
        d = ((z[:, None, :] - np.array(self.centres)[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(np.argmin(d, axis=1))

    def role_of(self, player_id: str) -> str:
        return self.names[self.labels[self._index[player_id]]]

    def profile(self, player_id: str) -> dict[str, Any]:
        """Role, affinity to every style (softmax of -distance) and the player's z-scores."""
        i = self._index[player_id]
        z = np.array(self.vectors[i])
        d = np.sqrt(((np.array(self.centres) - z) ** 2).sum(axis=1))
        w = np.exp(-(d - d.min()))
        w /= w.sum()
        raw = z * np.array(self.scale) + np.array(self.mean)
        return {
            "player_id": player_id,
            "role": self.names[self.labels[i]],
            "affinity": {n: float(v) for n, v in zip(self.names, w, strict=True)},
            "rates": {f: float(v) for f, v in zip(self.features, raw, strict=True)},
            "z_scores": {f: float(v) for f, v in zip(self.features, z, strict=True)},
        }

    def players_like(self, player_id: str, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` nearest players in scaled space (excluding the player), nearest first."""
        i = self._index[player_id]
        v = np.array(self.vectors)
        d = np.sqrt(((v - v[i]) ** 2).sum(axis=1))
        d[i] = np.inf
        order = np.lexsort((np.array(self.player_ids), d))[:k]
        return [(self.player_ids[j], float(d[j])) for j in order if np.isfinite(d[j])]

    def role_counts(self) -> dict[str, int]:
        counts = np.bincount(np.array(self.labels, dtype=int), minlength=len(self.names))
        return {n: int(c) for n, c in zip(self.names, counts, strict=True)}

    # -- serialisation ---------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        state = {
            "kind": "playstyle",
            "version": self.version,
            "features": self.features,
            "mean": self.mean,
            "scale": self.scale,
            "centres": self.centres,
            "names": self.names,
            "player_ids": self.player_ids,
            "vectors": self.vectors,
            "labels": self.labels,
        }
        return json.dumps(state, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PlaystyleModel:
        s = json.loads(data)
        return cls(
            features=list(s["features"]),
            mean=[float(v) for v in s["mean"]],
            scale=[float(v) for v in s["scale"]],
            centres=[[float(v) for v in row] for row in s["centres"]],
            names=list(s["names"]),
            player_ids=list(s["player_ids"]),
            vectors=[[float(v) for v in row] for row in s["vectors"]],
            labels=[int(v) for v in s["labels"]],
            version=str(s.get("version", PLAYSTYLE_VERSION)),
        )


def fit(rates: pl.DataFrame, *, k: int = 4, random_state: int = 0) -> PlaystyleModel:
    """StandardScaler + KMeans(k, n_init=10) on :func:`player_rates`; named, ordered clusters."""
    feats = list(RATES)
    data = rates.sort("player_id")
    means = [
        float(v) if v is not None else 0.0
        for v in data.select(pl.col(f).cast(pl.Float64).mean() for f in feats).row(0)
    ]
    raw = rate_matrix(data, feats, means)
    scaler = StandardScaler().fit(raw)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    z = (raw - scaler.mean_) / scale
    style = np.array([f not in SKILL_RATES for f in feats], dtype=np.float64)
    # skill dimensions of the centres are 0, so they add the same distance to every cluster
    km = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(z * style)
    names = name_clusters(np.array([z[km.labels_ == c].mean(axis=0) for c in range(k)]))
    # renumber clusters in canonical role order so ids are stable too
    rank = {n: i for i, n in enumerate(ROLE_NAMES)}
    order = sorted(range(k), key=lambda c: (rank.get(names[c], len(ROLE_NAMES)), names[c]))
    new_id = {old: new for new, old in enumerate(order)}
    labels = [new_id[int(label)] for label in km.labels_]
    return PlaystyleModel(
        features=feats,
        mean=[float(v) for v in scaler.mean_],
        scale=[float(v) for v in scale],
        centres=[[float(v) for v in km.cluster_centers_[c]] for c in order],
        names=[names[c] for c in order],
        player_ids=[str(p) for p in data["player_id"]],
        vectors=[[float(v) for v in row] for row in z],
        labels=labels,
    )


def fit_from_history(history: pl.DataFrame, *, k: int = 4, min_matches: int = 5) -> PlaystyleModel:
    return fit(player_rates(history, min_matches=min_matches), k=k)
