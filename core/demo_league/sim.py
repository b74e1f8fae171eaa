"""Vectorised generation of the demo league (see the package docstring for the model)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from core.cs2 import MAP_LABELS as _MAP_LABELS
from core.cs2 import MAP_POOL, elo_level

MAPS: tuple[str, ...] = MAP_POOL
MAP_LABELS: tuple[str, ...] = tuple(_MAP_LABELS[m] for m in MAPS)
ROLES: tuple[str, ...] = ("awp", "entry", "support", "anchor")

DEFAULT_END = "2026-11-01T00:00:00Z"
DEFAULT_EXTENDED_SINCE = "2024-08-01T00:00:00Z"
# 1100 days before DEFAULT_END is 2023-10-28, a month after CS2 reached FACEIT: about a quarter of
# the matches are legacy (before DEFAULT_EXTENDED_SINCE) and lack the extended stats.
DEFAULT_SPAN_DAYS = 1100.0
JOINER_SHARE = 0.15
"""Share of players who create their account during the span (no matches before they join)."""
NEW_ACCOUNT_ELO = 1000
"""FACEIT's starting Elo: a mid-season joiner starts here, whatever their hidden skill."""
NEW_ACCOUNT_MATCHES = 10
"""A new account's first matches move its Elo three times as much."""
PARTY_SIZE = 5
PARTY_SHARE = 0.15
"""Share of players in a fixed party of five friends (a premade when they queue together)."""
PARTY_QUEUE_RATE = 0.35
"""Chance that an eligible party queues together in a matchmaking batch."""
PARTY_BONUS = 0.15
"""Effective-skill bonus of a premade (coordination); part of the oracle."""
ORACLE_SLOPE = 1.7
"""P(faction1 wins) = sigmoid(ORACLE_SLOPE * (mean effective skill of 1 - that of 2))."""
DEMO_MISSING_RATE = 0.04
"""Share of matches whose details carry no ``demo_url`` (demo never uploaded)."""

# Raw per-player per-match counters stored by the league: column name -> API "player_stats" key.
STAT_COLUMNS: dict[str, str] = {
    "kills": "Kills",
    "deaths": "Deaths",
    "assists": "Assists",
    "headshots": "Headshots",
    "damage": "Damage",
    "mvps": "MVPs",
    "double_kills": "Double Kills",
    "triple_kills": "Triple Kills",
    "quadro_kills": "Quadro Kills",
    "penta_kills": "Penta Kills",
    "first_kills": "First Kills",
    "entry_count": "Entry Count",
    "entry_wins": "Entry Wins",
    "clutch_1v1_count": "1v1Count",
    "clutch_1v1_wins": "1v1Wins",
    "clutch_1v2_count": "1v2Count",
    "clutch_1v2_wins": "1v2Wins",
    "clutch_kills": "Clutch Kills",
    "utility_count": "Utility Count",
    "utility_successes": "Utility Successes",
    "utility_damage": "Utility Damage",
    "utility_enemies": "Utility Enemies",
    "flash_count": "Flash Count",
    "flash_successes": "Flash Successes",
    "enemies_flashed": "Enemies Flashed",
    "sniper_kills": "Sniper Kills",
    "pistol_kills": "Pistol Kills",
    "knife_kills": "Knife Kills",
    "zeus_kills": "Zeus Kills",
}
BASIC_STAT_COLUMNS: tuple[str, ...] = (
    "kills",
    "deaths",
    "assists",
    "headshots",
    "mvps",
    "triple_kills",
    "quadro_kills",
    "penta_kills",
)
"""Counters every match carries. The others (damage and double kills included) are extended:
legacy matches lack them, as the real API's lifetime totals show ("ADR" and "Total Damage" are
over "Total Rounds with extended stats"; no double-kill total exists)."""
EXTENDED_STAT_COLUMNS: tuple[str, ...] = tuple(
    c for c in STAT_COLUMNS if c not in BASIC_STAT_COLUMNS
)

_FIRST_WORDS = (
    "shadow nova kilo zyr fro blaze mono rex vex luna ghost byte pixel storm ice fury neo "
    "dark silent crazy lucky hyper mad tiny big old young sir mr el dr lil kid pro noob king "
    "wolf fox bear hawk viper cobra tiger lynx raven crow owl"
)
_FIRST = _FIRST_WORDS.split()
_SECOND_WORDS = (
    "aim shot flick spray clutch smoke flash nade peek rush lurk frag head tap deagle awp "
    "scout knife zeus bomb site mid ramp palace banana pit long short cat heaven hell boost "
    "eco force save drop swing hold trade entry anchor rotate"
)
_SECOND = _SECOND_WORDS.split()
_COUNTRY_WEIGHTS = (
    "de:12 pl:10 fr:8 gb:8 se:5 dk:5 fi:4 no:3 nl:4 es:5 pt:4 it:4 ru:8 ua:6 kz:3 tr:5 "
    "cz:3 sk:2 ro:3 bg:2 rs:2 hu:2 lt:2 lv:1 ee:1 be:2 at:2 ch:2 il:1 br:2"
)
_COUNTRIES = [(c, int(w)) for c, w in (item.split(":") for item in _COUNTRY_WEIGHTS.split())]
REGION_WEIGHTS: dict[str, float] = {"EU": 0.62, "NA": 0.2, "SA": 0.1, "OCE": 0.08}
"""FACEIT regions of the league's players (the profile's ``games.cs2.region``): mostly EU, so
a level's EU players are a full peer group while the other regions' are often too few and the
peer table falls back to the whole level (models/peers.py)."""


def _regions(seed: int, n: int) -> list[str]:
    """A region per player, from a stream of its own (the league's other draws are unchanged)."""
    names = list(REGION_WEIGHTS)
    weights = np.array(list(REGION_WEIGHTS.values()))
    rng = np.random.default_rng([seed, 0x2E610])
    return [names[i] for i in rng.choice(len(names), n, p=weights / weights.sum())]


def iso_to_ts(value: str | int | float | datetime) -> int:
    """Unix seconds for an ISO-8601 string (``Z`` allowed), a datetime or a number."""
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def elo_to_level(elo: Any) -> Any:
    """FACEIT CS2 skill level (1-10) for an Elo value or array."""
    out = elo_level(elo)
    return int(out) if np.ndim(out) == 0 else out


def _uuid_strings(raw: np.ndarray) -> list[str]:
    """uuid4-looking strings from an (n, 16) uint8 array (version and variant bits set)."""
    raw = raw.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hx = raw.tobytes().hex()
    return [
        f"{hx[i : i + 8]}-{hx[i + 8 : i + 12]}-{hx[i + 12 : i + 16]}-"
        f"{hx[i + 16 : i + 20]}-{hx[i + 20 : i + 32]}"
        for i in range(0, len(hx), 32)
    ]


def _nicknames(rng: np.random.Generator, n: int) -> list[str]:
    """Unique (even case-insensitively) plausible gamer tags."""
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        m = (n - len(out)) * 2 + 16
        a = rng.integers(0, len(_FIRST), m)
        b = rng.integers(0, len(_SECOND), m)
        style = rng.integers(0, 8, m)
        num = rng.integers(0, 10000, m)
        for i in range(m):
            f, s = _FIRST[a[i]], _SECOND[b[i]]
            st = style[i]
            if st == 0:
                nick = f.capitalize() + s.capitalize()
            elif st == 1:
                nick = f"{f}_{s}"
            elif st == 2:
                nick = f"{f}{s}{num[i] % 100}"
            elif st == 3:
                nick = f.upper() + str(num[i])
            elif st == 4:
                nick = f"{f.capitalize()}-{s}"
            elif st == 5:
                nick = f"x{f}{s.capitalize()}x"
            elif st == 6:
                nick = f"{s}{f.capitalize()}"
            else:
                nick = f"{f}{num[i]}"
            key = nick.lower()
            if key in seen:
                continue
            seen.add(key)
            out.append(nick)
            if len(out) == n:
                break
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _gumbel_rank(keys: np.ndarray) -> np.ndarray:
    """Rank (0 = largest key) along the last axis."""
    order = np.argsort(-keys, axis=-1, kind="stable")
    return np.argsort(order, axis=-1, kind="stable")


@dataclass
class League:
    """A generated league: columnar numpy arrays plus lookup indexes.

    Players are indexed 0..n_players-1, matches 0..n_matches-1 in chronological order of
    ``started_at``. ``mp_player[m, s]`` is the player in slot ``s`` of match ``m``: slots 0-4 are
    faction1, 5-9 faction2. ``stats[name][m, s]`` holds the raw counters of ``STAT_COLUMNS``.
    """

    seed: int
    end_ts: int
    start_ts: int
    extended_since_ts: int
    # players
    player_ids: list[str]
    nicknames: list[str]
    countries: list[str]
    regions: list[str]
    avatars: list[str]
    steam_ids: np.ndarray
    activated_at: np.ndarray
    joined_at: np.ndarray  # unix time the player can first queue (span start for founders)
    party: np.ndarray  # index of the player's fixed party, -1 when solo
    premium: np.ndarray
    verified: np.ndarray
    role: np.ndarray
    skill_base: np.ndarray
    skill_slope: np.ndarray
    skill_amp: np.ndarray
    skill_freq: np.ndarray
    skill_phase: np.ndarray
    map_affinity: np.ndarray
    consistency: np.ndarray
    tilt: np.ndarray
    hs_rate: np.ndarray
    elo: np.ndarray
    # matches
    match_ids: list[str]
    faction_raw: np.ndarray
    map_idx: np.ndarray
    started_at: np.ndarray
    finished_at: np.ndarray
    rounds: np.ndarray
    score: np.ndarray  # (M, 2) final score of faction1, faction2
    first_half: np.ndarray  # (M, 2)
    second_half: np.ndarray  # (M, 2)
    overtime: np.ndarray  # (M, 2)
    winner: np.ndarray  # 0 = faction1, 1 = faction2
    premade: np.ndarray  # (M, 2) bool: the faction is one party of five
    extended: np.ndarray  # bool: the match carries extended stats
    demo_missing: np.ndarray  # bool: the match details carry no demo_url
    p_faction1: np.ndarray  # oracle
    # match players
    mp_player: np.ndarray  # (M, 10)
    elo_before: np.ndarray  # (M, 10)
    elo_after: np.ndarray  # (M, 10)
    stats: dict[str, np.ndarray]
    # indexes
    pm_offsets: np.ndarray = field(init=False)
    pm_flat: np.ndarray = field(init=False)
    player_index: dict[str, int] = field(init=False)
    nickname_index: dict[str, int] = field(init=False)
    match_index: dict[str, int] = field(init=False)
    search_keys: list[str] = field(init=False)
    search_order: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        flat = self.mp_player.ravel()
        self.pm_flat = np.argsort(flat, kind="stable").astype(np.int64)
        counts = np.bincount(flat, minlength=self.n_players)
        self.pm_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.player_index = {pid: i for i, pid in enumerate(self.player_ids)}
        self.nickname_index = {nick: i for i, nick in enumerate(self.nicknames)}
        self.match_index = {mid: i for i, mid in enumerate(self.match_ids)}
        lowered = [n.lower() for n in self.nicknames]
        self.search_order = np.array(sorted(range(self.n_players), key=lambda i: lowered[i]))
        self.search_keys = [lowered[i] for i in self.search_order]

    # -- sizes and accessors -------------------------------------------------------------
    @property
    def n_players(self) -> int:
        return len(self.player_ids)

    @property
    def n_matches(self) -> int:
        return len(self.match_ids)

    def faction_id(self, match: int, faction: int) -> str:
        return _uuid_strings(self.faction_raw[match, faction][None, :])[0]

    def player_matches(self, player: int) -> tuple[np.ndarray, np.ndarray]:
        """(match indices, slots) of a player's matches, oldest first."""
        flat = self.pm_flat[self.pm_offsets[player] : self.pm_offsets[player + 1]]
        return flat // 10, flat % 10

    def skill_at(self, players: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Hidden true skill of players at unix times ``ts`` (broadcasting)."""
        u = (np.asarray(ts, dtype=np.float64) - self.start_ts) / max(self.end_ts - self.start_ts, 1)
        return _skill(self, players, u)

    def level(self, player: int) -> int:
        return int(elo_to_level(int(self.elo[player])))

    # -- polars exports --------------------------------------------------------------------
    def players_frame(self) -> pl.DataFrame:
        n_matches = np.diff(self.pm_offsets)
        return pl.DataFrame(
            {
                "player_id": self.player_ids,
                "nickname": self.nicknames,
                "country": self.countries,
                "region": self.regions,
                "avatar": self.avatars,
                "steam_id_64": [str(s) for s in self.steam_ids],
                "faceit_elo": self.elo.astype(np.int64),
                "skill_level": elo_to_level(self.elo).astype(np.int64),
                "role": [ROLES[r] for r in self.role],
                "true_skill": self.skill_at(np.arange(self.n_players), np.full(1, self.end_ts)),
                "consistency": self.consistency,
                "tilt": self.tilt,
                "matches": n_matches.astype(np.int64),
                "joined_at": self.joined_at.astype(np.int64),
                "party": pl.Series(
                    [int(x) if x >= 0 else None for x in self.party], dtype=pl.Int64
                ),
            }
        )

    def matches_frame(self) -> pl.DataFrame:
        faction = _uuid_strings(self.faction_raw.reshape(-1, 16))
        return pl.DataFrame(
            {
                "match_id": self.match_ids,
                "started_at": self.started_at.astype(np.int64),
                "finished_at": self.finished_at.astype(np.int64),
                "map": [MAPS[i] for i in self.map_idx],
                "faction1_id": faction[0::2],
                "faction2_id": faction[1::2],
                "winner": np.where(self.winner == 0, "faction1", "faction2"),
                "rounds": self.rounds.astype(np.int64),
                "score1": self.score[:, 0].astype(np.int64),
                "score2": self.score[:, 1].astype(np.int64),
                "first_half1": self.first_half[:, 0].astype(np.int64),
                "first_half2": self.first_half[:, 1].astype(np.int64),
                "second_half1": self.second_half[:, 0].astype(np.int64),
                "second_half2": self.second_half[:, 1].astype(np.int64),
                "overtime1": self.overtime[:, 0].astype(np.int64),
                "overtime2": self.overtime[:, 1].astype(np.int64),
                "extended_stats": self.extended,
                "premade1": self.premade[:, 0],
                "premade2": self.premade[:, 1],
            }
        )

    def match_players_frame(self) -> pl.DataFrame:
        m = self.n_matches
        match_col = np.repeat(np.arange(m), 10)
        slot = np.tile(np.arange(10), m)
        players = self.mp_player.ravel()
        ids = np.array(self.player_ids, dtype=object)
        nicks = np.array(self.nicknames, dtype=object)
        mids = np.array(self.match_ids, dtype=object)
        faction = slot // 5
        cols: dict[str, Any] = {
            "match_id": mids[match_col].tolist(),
            "player_id": ids[players].tolist(),
            "nickname": nicks[players].tolist(),
            "faction": (faction + 1).astype(np.int64),
            "started_at": np.repeat(self.started_at, 10).astype(np.int64),
            "rounds": np.repeat(self.rounds, 10).astype(np.int64),
            "result": (np.repeat(self.winner, 10) == faction).astype(np.int64),
            "elo_before": self.elo_before.ravel().astype(np.int64),
            "elo_after": self.elo_after.ravel().astype(np.int64),
            "premade": self.premade[match_col, faction],
        }
        legacy = ~np.repeat(self.extended, 10)
        for name in STAT_COLUMNS:
            values = self.stats[name].ravel().astype(np.int64)
            if name in BASIC_STAT_COLUMNS:
                cols[name] = values
            else:  # missing (null), never 0, where the API gives no value
                cols[name] = pl.Series(name, values).scatter(np.flatnonzero(legacy), None)
        return pl.DataFrame(cols)


def _skill(league: Any, players: np.ndarray, u: np.ndarray) -> np.ndarray:
    return (
        league.skill_base[players]
        + league.skill_slope[players] * u
        + league.skill_amp[players]
        * np.sin(2 * np.pi * (league.skill_freq[players] * u + league.skill_phase[players]))
    )


@dataclass
class _Players:
    skill_base: np.ndarray
    skill_slope: np.ndarray
    skill_amp: np.ndarray
    skill_freq: np.ndarray
    skill_phase: np.ndarray


# role effects: awp, entry, support, anchor
_KILL_FACTOR = np.array([1.12, 1.08, 0.85, 0.95])
_ENTRY_FACTOR = np.array([1.4, 2.6, 0.6, 0.5])
_DEATH_FACTOR = np.array([0.9, 1.3, 1.0, 0.75])
_SNIPER_RATE = np.array([0.55, 0.03, 0.02, 0.05])
_UTIL_RATE = np.array([0.2, 0.3, 0.6, 0.35])
_FLASH_RATE = np.array([0.35, 0.45, 0.95, 0.55])
_ASSIST_RATE = np.array([0.06, 0.07, 0.095, 0.075])
_OT_BLOCKS = 8
_RMAX = 24 + 6 * _OT_BLOCKS


def generate_league(
    n_players: int = 1000,
    n_matches: int | None = None,
    *,
    seed: int = 0,
    end: str | int | datetime = DEFAULT_END,
    span_days: float = DEFAULT_SPAN_DAYS,
    extended_since: str | int | datetime = DEFAULT_EXTENDED_SINCE,
) -> League:
    """Generate a deterministic league (same arguments => identical arrays).

    ``n_matches`` defaults to ``4 * n_players`` (about 40 matches per player).
    """
    if n_players < 10:
        raise ValueError("a league needs at least 10 players")
    m_total = 4 * n_players if n_matches is None else int(n_matches)
    if m_total < 1:
        raise ValueError("n_matches must be positive")
    rng = np.random.default_rng(seed)
    n = n_players
    end_ts = iso_to_ts(end)
    span_s = int(span_days * 86400)
    start_ts = end_ts - span_s

    # ---- players ---------------------------------------------------------------------
    player_ids = _uuid_strings(rng.integers(0, 256, (n, 16), dtype=np.uint8))
    nicknames = _nicknames(rng, n)
    codes = [c for c, _ in _COUNTRIES]
    weights = np.array([w for _, w in _COUNTRIES], dtype=np.float64)
    countries = [codes[i] for i in rng.choice(len(codes), n, p=weights / weights.sum())]
    has_avatar = rng.random(n) < 0.8
    avatar_ids = _uuid_strings(rng.integers(0, 256, (n, 16), dtype=np.uint8))
    avatars = [
        f"https://distribution.faceit-cdn.net/images/{a}.jpeg" if h else ""
        for a, h in zip(avatar_ids, has_avatar, strict=True)
    ]
    steam_ids = 76561197960265728 + rng.integers(10_000_000, 1_300_000_000, n, dtype=np.int64)
    activated_at = start_ts - rng.integers(30 * 86400, 10 * 365 * 86400, n)
    premium = rng.random(n) < 0.3
    verified = rng.random(n) < 0.02
    role = rng.choice(4, n, p=[0.18, 0.24, 0.3, 0.28])
    skill_base = rng.normal(0.0, 1.0, n)
    skill_slope = rng.normal(0.0, 0.3, n)
    skill_amp = rng.uniform(0.0, 0.15, n)
    skill_freq = rng.uniform(0.5, 2.0, n)
    skill_phase = rng.uniform(0.0, 1.0, n)
    map_aff = rng.normal(0.0, 0.2, (n, len(MAPS)))
    consistency = rng.uniform(0.15, 0.55, n)
    tilt = rng.beta(2.0, 8.0, n) * 0.5
    hs_rate = np.clip(rng.normal(0.47, 0.07, n) - np.where(role == 0, 0.1, 0.0), 0.2, 0.75)
    activity = rng.lognormal(0.0, 0.5, n)
    log_act = np.log(activity)
    elo = np.clip(np.rint(1050 + 330 * skill_base + rng.normal(0, 120, n)), 100, 3800).astype(
        np.int64
    )
    pl_ = _Players(skill_base, skill_slope, skill_amp, skill_freq, skill_phase)
    batch = max(1, min(n // 20, m_total))

    # ---- mid-season joiners: new accounts, no match before they join, Elo from 1000 -----
    # (bounded so every batch still finds 10 distinct players per match)
    n_join = max(0, min(round(JOINER_SHARE * n), n - 10 * batch))
    joiners = rng.choice(n, n_join, replace=False)
    joined_at = np.full(n, start_ts, np.int64)
    joined_at[joiners] = start_ts + (rng.uniform(0.05, 0.85, n_join) * span_s).astype(np.int64)
    activated_at[joiners] = joined_at[joiners] - rng.integers(0, 3 * 86400, n_join)
    elo[joiners] = NEW_ACCOUNT_ELO
    new_account = np.zeros(n, bool)
    new_account[joiners] = True

    # ---- parties: fixed groups of five friends who sometimes queue together ------------
    n_parties = round(PARTY_SHARE * n / PARTY_SIZE)
    party_members = rng.choice(n, n_parties * PARTY_SIZE, replace=False).reshape(
        n_parties, PARTY_SIZE
    )
    party = np.full(n, -1, np.int64)
    party[party_members.ravel()] = np.repeat(np.arange(n_parties), PARTY_SIZE)

    # ---- match arrays ------------------------------------------------------------------
    M = m_total
    mp_player = np.empty((M, 10), np.int32)
    elo_before = np.empty((M, 10), np.int32)
    elo_after = np.empty((M, 10), np.int32)
    map_idx = np.empty(M, np.int8)
    started = np.empty(M, np.int64)
    rounds_arr = np.empty(M, np.int16)
    score = np.empty((M, 2), np.int16)
    first_half = np.empty((M, 2), np.int16)
    second_half = np.empty((M, 2), np.int16)
    overtime = np.empty((M, 2), np.int16)
    winner_arr = np.empty(M, np.int8)
    premade_arr = np.zeros((M, 2), bool)
    p_f1 = np.empty(M, np.float64)
    stats = {
        k: np.empty((M, 10), np.int32 if k in ("damage", "utility_damage") else np.int16)
        for k in STAT_COLUMNS
    }
    lost_last = np.zeros(n, bool)
    played = np.zeros(n, np.int64)

    n_batches = math.ceil(M / batch)
    window = span_s / n_batches
    slack = max(window - 4500.0, 1.0)
    f1_slots = np.array([0, 3, 4, 7, 8])
    f2_slots = np.array([1, 2, 5, 6, 9])
    snake = np.concatenate([f1_slots, f2_slots])
    ar = np.arange(_RMAX)

    for b in range(n_batches):
        lo = b * batch
        nb = min(batch, M - lo)
        hi = lo + nb
        t0 = start_ts + b * window
        eligible = joined_at <= t0
        ready = eligible[party_members].all(1) & (rng.random(n_parties) < PARTY_QUEUE_RATE)
        stacks = party_members[np.flatnonzero(ready)[: max(1, nb // 2)]]
        ns = len(stacks)
        k = ns * 5 + (nb - ns) * 10
        keys = log_act + rng.gumbel(size=n)
        keys[~eligible] = -np.inf
        keys[stacks.ravel()] = -np.inf
        pool = np.argpartition(-keys, k - 1)[:k] if k < n else np.arange(n)
        pool = pool[np.argsort(elo[pool] + rng.normal(0, 40, k), kind="stable")]
        # each premade meets the five solo players closest to its average Elo
        opponents = np.empty((ns, 5), np.int64)
        for i, stack in enumerate(stacks):
            at = int(np.searchsorted(elo[pool], elo[stack].mean()))
            at = min(max(at - 2, 0), len(pool) - 5)
            opponents[i] = pool[at : at + 5]
            pool = np.delete(pool, np.arange(at, at + 5))
        groups = np.concatenate(
            [np.concatenate([stacks, opponents], 1), pool.reshape(nb - ns, 10)[:, snake]]
        )
        prem = np.zeros((nb, 2), bool)
        prem[:ns, 0] = True
        swap = rng.random(nb) < 0.5
        groups[swap] = np.concatenate([groups[swap, 5:], groups[swap, :5]], axis=1)
        prem[swap] = prem[swap, ::-1]
        mp_player[lo:hi] = groups
        premade_arr[lo:hi] = prem

        t = t0 + rng.uniform(0, slack, nb)
        started[lo:hi] = t.astype(np.int64)
        mp = rng.integers(0, len(MAPS), nb)
        map_idx[lo:hi] = mp
        u = ((t - start_ts) / span_s)[:, None]
        eff = (
            _skill(pl_, groups, u)
            + map_aff[groups, mp[:, None]]
            - tilt[groups] * lost_last[groups]
            + PARTY_BONUS * np.repeat(prem, 5, axis=1)
        )
        diff = eff[:, :5].mean(1) - eff[:, 5:].mean(1)
        p1 = _sigmoid(ORACLE_SLOPE * diff)
        p_f1[lo:hi] = p1
        f1_wins = rng.random(nb) < p1

        # ---- rounds: MR12, OT MR3 (first to 4 in 6), repeat ---------------------------
        p_round = _sigmoid(0.5 * diff)
        rw = rng.random((nb, _RMAX)) < p_round[:, None]  # True: faction1 wins the round
        reg = rw[:, :24]
        c1 = np.cumsum(reg, 1)
        c2 = np.cumsum(~reg, 1)
        done = (c1 == 13) | (c2 == 13)
        has = done.any(1)
        n_rounds = np.where(has, done.argmax(1) + 1, 0)
        need = ~has
        for j in range(_OT_BLOCKS):
            s0 = 24 + 6 * j
            blk = rw[:, s0 : s0 + 6]
            d = (np.cumsum(blk, 1) == 4) | (np.cumsum(~blk, 1) == 4)
            hd = d.any(1)
            if j == _OT_BLOCKS - 1:
                force = need & ~hd
                if force.any():
                    rw[force, s0 : s0 + 6] = np.array([True, True, True, True, False, False])
                    hd = hd | force
                    d[force] = np.array([False, False, False, True, True, True])
            fin = need & hd
            n_rounds = np.where(fin, s0 + d.argmax(1) + 1, n_rounds)
            need = need & ~hd
        valid = ar[None, :] < n_rounds[:, None]
        sim_f1 = (rw & valid).sum(1) * 2 > n_rounds
        rw ^= (sim_f1 != f1_wins)[:, None]
        Rb = int(n_rounds.max())
        rw = rw[:, :Rb]
        valid = valid[:, :Rb]
        w1 = rw & valid
        w2 = ~rw & valid
        sc1 = w1.sum(1)
        rounds_arr[lo:hi] = n_rounds
        score[lo:hi, 0] = sc1
        score[lo:hi, 1] = n_rounds - sc1
        first_half[lo:hi, 0] = w1[:, :12].sum(1)
        first_half[lo:hi, 1] = w2[:, :12].sum(1)
        second_half[lo:hi, 0] = w1[:, 12:24].sum(1)
        second_half[lo:hi, 1] = w2[:, 12:24].sum(1)
        overtime[lo:hi, 0] = w1[:, 24:].sum(1)
        overtime[lo:hi, 1] = w2[:, 24:].sum(1)
        winner_arr[lo:hi] = np.where(f1_wins, 0, 1)

        # ---- per-round kills and deaths ----------------------------------------------
        prole = role[groups]  # (nb, 10)
        perf = eff + consistency[groups] * rng.normal(0, 1, (nb, 10))
        z = perf - np.repeat(perf.reshape(nb, 2, 5).mean(2), 5, axis=1)
        z3 = z.reshape(nb, 2, 5)
        r3 = prole.reshape(nb, 2, 5)
        kill_w = np.exp(0.9 * z3) * _KILL_FACTOR[r3]
        kill_p = kill_w / kill_w.sum(-1, keepdims=True)
        k_win = 5 - rng.binomial(2, 0.18, (nb, Rb))
        k_lose = rng.binomial(4, 0.5, (nb, Rb))
        team_k = np.stack([np.where(rw, k_win, k_lose), np.where(rw, k_lose, k_win)], -1)
        team_k *= valid[:, :, None]  # (nb, R, 2)
        kills_pr = rng.multinomial(team_k, kill_p[:, None, :, :])  # (nb, R, 2, 5)
        deaths_team = team_k[:, :, ::-1]
        dkey = np.log(np.exp(-0.6 * z3) * _DEATH_FACTOR[r3])[:, None] + rng.gumbel(
            size=(nb, Rb, 2, 5)
        )
        drank = _gumbel_rank(dkey)
        dead = drank < deaths_team[..., None]

        # first kill of each round: one per round across both teams
        win_team = np.where(rw, 0, 1)
        lose_team = 1 - win_team
        lose_k = np.take_along_axis(team_k, lose_team[..., None], 2)[..., 0]
        fk_team = np.where((lose_k > 0) & (rng.random((nb, Rb)) < 0.4), lose_team, win_team)
        ef = np.log(_ENTRY_FACTOR[r3])[:, None]  # (nb, 1, 2, 5)
        g = rng.gumbel(size=(nb, Rb, 2, 5))
        with np.errstate(divide="ignore"):
            fk_key = np.where(kills_pr > 0, np.log(kills_pr) + ef + g, -np.inf)
        g2 = rng.gumbel(size=(nb, Rb, 2, 5))
        fd_key = np.where(dead, ef + g2, -np.inf)
        fk_sel = np.take_along_axis(fk_key, fk_team[..., None, None], 2)[:, :, 0]
        fd_sel = np.take_along_axis(fd_key, (1 - fk_team)[..., None, None], 2)[:, :, 0]
        fk_player = fk_sel.argmax(-1)  # (nb, R)
        fd_player = fd_sel.argmax(-1)
        fk_slot = fk_team * 5 + fk_player
        fd_slot = (1 - fk_team) * 5 + fd_player
        first_kills = _count_slots(fk_slot, valid)
        first_deaths = _count_slots(fd_slot, valid)

        # MVP of each round: top fragger of the round winners
        mvp_key = kills_pr + rng.random((nb, Rb, 2, 5)) * 0.5
        mvp_sel = np.take_along_axis(mvp_key, win_team[..., None, None], 2)[:, :, 0]
        mvp_slot = win_team * 5 + mvp_sel.argmax(-1)
        mvps = _count_slots(mvp_slot, valid)

        # clutches: the last player alive of a team, enemies alive at that point
        kp = kills_pr.reshape(nb, Rb, 10)
        deaths_t = deaths_team  # (nb, R, 2)
        c_stats = [np.zeros((nb, 10), np.int64) for _ in range(5)]
        last_key = np.where(dead, drank.astype(np.float64), -np.inf)  # died last = highest rank
        for team in (0, 1):
            dt = deaths_t[:, :, team]
            won = win_team == team
            survivor = np.argmin(dead[:, :, team], -1)
            last_dead = np.argmax(last_key[:, :, team], -1)
            clutcher = np.where(dt == 5, last_dead, survivor)
            situation = valid & (dt >= 4) & ~(won & (dt == 5))
            c_win = situation & won
            slot = team * 5 + clutcher
            kc = np.take_along_axis(kp, slot[..., None], 2)[..., 0]
            own_k = team_k[:, :, team]
            n_enemy = 5 - (own_k - kc)
            for size, (ci, wi) in ((1, (0, 1)), (2, (2, 3))):
                sit = situation & (n_enemy == size)
                c_stats[ci] += _count_slots(slot, sit)
                c_stats[wi] += _count_slots(slot, sit & c_win)
            ck = np.where(situation & (n_enemy >= 1), np.minimum(kc, n_enemy), 0)
            c_stats[4] += _sum_slots(slot, ck)

        kills = kp.sum(1)
        deaths = dead.reshape(nb, Rb, 10).sum(1)
        multi = [(kp == c).sum(1) for c in (2, 3, 4, 5)]
        pistol_rounds = kp[:, 0] + kp[:, 12] * (n_rounds > 12)[:, None]
        other = kills - pistol_rounds
        sniper = rng.binomial(other, _SNIPER_RATE[prole])
        rest = other - sniper
        knife = rng.binomial(rest, 0.003)
        rest = rest - knife
        zeus = rng.binomial(rest, 0.005)
        rest = rest - zeus
        pistol = pistol_rounds + rng.binomial(rest, 0.06)
        headshots = rng.binomial(kills - knife - zeus, hs_rate[groups])
        R = n_rounds[:, None]
        zc = np.clip(z, -2, 2)
        damage = np.rint(
            kills * rng.uniform(72, 100, (nb, 10))
            + R * rng.gamma(2.0, 8.5 * np.exp(0.25 * zc), (nb, 10))
        ).astype(np.int64)
        team_kills = np.repeat(kills.reshape(nb, 2, 5).sum(2), 5, axis=1)
        assists = rng.binomial(team_kills - kills, _ASSIST_RATE[prole])
        u_count = rng.poisson(R * _UTIL_RATE[prole])
        u_succ = rng.binomial(u_count, 0.35)
        u_enemies = u_succ + rng.poisson(0.6 * u_succ)
        u_damage = np.minimum(
            np.rint(u_succ * rng.gamma(3.0, 4.0, (nb, 10)) + u_count * rng.uniform(0, 4, (nb, 10))),
            damage,
        ).astype(np.int64)
        f_count = rng.poisson(R * _FLASH_RATE[prole])
        f_succ = rng.binomial(f_count, 0.45)
        f_enemies = f_succ + rng.poisson(0.5 * f_succ)

        cols = {
            "kills": kills,
            "deaths": deaths,
            "assists": assists,
            "headshots": headshots,
            "damage": damage,
            "mvps": mvps,
            "double_kills": multi[0],
            "triple_kills": multi[1],
            "quadro_kills": multi[2],
            "penta_kills": multi[3],
            "first_kills": first_kills,
            "entry_count": first_kills + first_deaths,
            "entry_wins": first_kills,
            "clutch_1v1_count": c_stats[0],
            "clutch_1v1_wins": c_stats[1],
            "clutch_1v2_count": c_stats[2],
            "clutch_1v2_wins": c_stats[3],
            "clutch_kills": c_stats[4],
            "utility_count": u_count,
            "utility_successes": u_succ,
            "utility_damage": u_damage,
            "utility_enemies": u_enemies,
            "flash_count": f_count,
            "flash_successes": f_succ,
            "enemies_flashed": f_enemies,
            "sniper_kills": sniper,
            "pistol_kills": pistol,
            "knife_kills": knife,
            "zeus_kills": zeus,
        }
        for name, arr in cols.items():
            stats[name][lo:hi] = arr

        # ---- Elo (team averages, +-50 * (result - expected)) ----------------------------
        e = elo[groups].astype(np.float64)
        e1 = e[:, :5].mean(1)
        e2 = e[:, 5:].mean(1)
        exp1 = 1.0 / (1.0 + 10.0 ** ((e2 - e1) / 400.0))
        d1 = np.rint(50.0 * (f1_wins - exp1)).astype(np.int64)
        delta = np.concatenate([np.repeat(d1[:, None], 5, 1), np.repeat(-d1[:, None], 5, 1)], 1)
        # a new account's first matches swing harder, so a joiner reaches their level quickly
        delta = delta * np.where(new_account[groups] & (played[groups] < NEW_ACCOUNT_MATCHES), 3, 1)
        played[groups] += 1
        elo_before[lo:hi] = elo[groups]
        new = np.maximum(elo[groups] + delta, 100)
        elo_after[lo:hi] = new
        elo[groups] = new
        res = np.concatenate(
            [np.repeat(f1_wins[:, None], 5, 1), np.repeat(~f1_wins[:, None], 5, 1)], 1
        )
        lost_last[groups] = ~res

    # ---- finish: chronological order, ids ---------------------------------------------
    order = np.argsort(started, kind="stable")
    demo_missing = rng.random(M) < DEMO_MISSING_RATE
    durations = rounds_arr.astype(np.int64) * rng.integers(85, 125, M) + rng.integers(240, 600, M)
    match_ids = ["1-" + s for s in _uuid_strings(rng.integers(0, 256, (M, 16), dtype=np.uint8))]
    faction_raw = rng.integers(0, 256, (M, 2, 16), dtype=np.uint8)
    started = started[order]
    ext_ts = iso_to_ts(extended_since)
    return League(
        seed=seed,
        end_ts=end_ts,
        start_ts=start_ts,
        extended_since_ts=ext_ts,
        player_ids=player_ids,
        nicknames=nicknames,
        countries=countries,
        regions=_regions(seed, n),
        avatars=avatars,
        steam_ids=steam_ids,
        activated_at=activated_at,
        joined_at=joined_at,
        party=party,
        premium=premium,
        verified=verified,
        role=role,
        skill_base=skill_base,
        skill_slope=skill_slope,
        skill_amp=skill_amp,
        skill_freq=skill_freq,
        skill_phase=skill_phase,
        map_affinity=map_aff,
        consistency=consistency,
        tilt=tilt,
        hs_rate=hs_rate,
        elo=elo,
        match_ids=match_ids,
        faction_raw=faction_raw,
        map_idx=map_idx[order],
        started_at=started,
        finished_at=np.minimum(started + durations, end_ts),
        rounds=rounds_arr[order],
        score=score[order],
        first_half=first_half[order],
        second_half=second_half[order],
        overtime=overtime[order],
        winner=winner_arr[order],
        premade=premade_arr[order],
        extended=started >= ext_ts,
        demo_missing=demo_missing,
        p_faction1=p_f1[order],
        mp_player=mp_player[order],
        elo_before=elo_before[order],
        elo_after=elo_after[order],
        stats={k: v[order] for k, v in stats.items()},
    )


def _count_slots(slot: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(nb, R) slot numbers -> (nb, 10) counts over rounds where mask."""
    return _sum_slots(slot, mask.astype(np.int64))


def _sum_slots(slot: np.ndarray, values: np.ndarray) -> np.ndarray:
    nb = slot.shape[0]
    flat = (np.arange(nb)[:, None] * 10 + slot).ravel()
    return (
        np.bincount(flat, weights=values.ravel(), minlength=nb * 10)
        .reshape(nb, 10)
        .astype(np.int64)
    )


def oracle_win_probability(league: League, match_id: str) -> float:
    """True pre-match probability that faction1 wins (hidden skills, map affinities, tilt).

    For benchmarks and evaluation only: the API never serves it.
    """
    return float(league.p_faction1[league.match_index[match_id]])


def lost_last_at(league: League, ts: int) -> np.ndarray:
    """Per player: True when his last match starting before unix time ``ts`` was a loss."""
    upto = int(np.searchsorted(league.started_at, ts, side="left"))
    flat = league.mp_player[:upto].ravel()[::-1]
    players, first = np.unique(flat, return_index=True)
    pos = flat.size - 1 - first  # index of the player's last occurrence in time order
    won = league.winner[pos // 10] == (pos % 10) // 5
    lost = np.zeros(league.n_players, bool)
    lost[players] = ~won
    return lost


def lineup_oracle(
    league: League,
    teams_a: np.ndarray,
    teams_b: np.ndarray,
    map_names: Sequence[str],
    ts: int,
    *,
    premade_a: np.ndarray | None = None,
    premade_b: np.ndarray | None = None,
) -> np.ndarray:
    """True probability that each lineup ``teams_a[k]`` (player indices) beats ``teams_b[k]``
    on ``map_names[k]`` in a match starting at unix time ``ts``: also lineups that matchmaking
    never made.

    The simulated matches' effective skill: hidden skill at ``ts`` plus map affinity, minus the
    tilt of a player whose last match before ``ts`` was a loss, plus the premade bonus; team
    means, so lineups of any size compare. For benchmarks and evaluation only.
    """
    a = np.atleast_2d(np.asarray(teams_a, dtype=np.int64))
    b = np.atleast_2d(np.asarray(teams_b, dtype=np.int64))
    maps = np.array([MAPS.index(m) for m in map_names], dtype=np.int64)[:, None]
    lost = lost_last_at(league, ts)

    def effective(team: np.ndarray, premade: np.ndarray | None) -> np.ndarray:
        eff = (
            league.skill_at(team, np.full(team.shape, ts))
            + league.map_affinity[team, maps]
            - league.tilt[team] * lost[team]
        ).mean(axis=1)
        return eff if premade is None else eff + PARTY_BONUS * np.asarray(premade, float)

    return _sigmoid(ORACLE_SLOPE * (effective(a, premade_a) - effective(b, premade_b)))
