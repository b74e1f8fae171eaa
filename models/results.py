"""Typed results of the premium analyses (models.analysis).

The same classes are what the services return, what the pages read (attributes, not nested
dict keys) and what the API serves: api/schemas.py uses them as response models, so the
OpenAPI document describes every premium response field by field.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Factor(BaseModel):
    """One term of a prediction's explanation, from lineup A's side."""

    feature: str = Field(examples=["d_map_win_rate"])
    label: str = Field(examples=["Mirage win rate"])
    contribution: float = Field(description="The model's term, in logit units")
    effect_pct: float = Field(description="Its share of the move away from 50%, in points")


class PeerStat(BaseModel):
    """One headline stat of the player against the players of the same level."""

    label: str = Field(examples=["ADR"])
    value: float | None = Field(description="The player's value (null: not recorded)")
    peer_median: float | None
    percentile: float | None = Field(
        ge=0, le=100, description="Share of peers below, ties half (models.features.percentile)"
    )
    peers: int = Field(ge=0, description="Peers with a value for this stat")


class PeerPercentiles(BaseModel):
    level: int = Field(ge=1, le=10, examples=[6])
    peers: int = Field(ge=0, description="Players of the group compared with (the player not)")
    group: str | None = Field(
        default=None,
        examples=["level-6 EU"],
        description="The peer group used (models/peers.py): level and region, else the level "
        "alone when the region has too few players; null when both have too few",
    )
    region: str | None = Field(
        default=None, examples=["EU"], description="The group's region; null: every region"
    )
    fallback: str | None = Field(
        default=None, description="Why a wider group (or none) was used, in words"
    )
    stats: dict[str, PeerStat]


class Benchmark(BaseModel):
    """One stat of the player against the peer group (the player not among the peers)."""

    stat: str = Field(examples=["adr"], description="Name in models.features.RATIO_METRICS")
    value: float | None = Field(description="The player's value (null: not recorded)")
    percentile: float | None = Field(
        ge=0,
        le=100,
        description="Share of peers below, ties half (models.features.percentile); null "
        "without a value or without a group",
    )
    peers: int = Field(ge=0, description="Peers with a value for this stat")
    peer_median: float | None
    peer_mean: float | None
    peer_std: float | None = Field(description="Sample standard deviation of the peers' values")


class PeerBenchmarks(BaseModel):
    """Where a player stands among the players of the same level and region, from the
    maintained peer table (a lookup, not a scan of every history)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "nickname": "s1mple_fan",
                    "level": 7,
                    "region": "EU",
                    "group": "level-7 EU",
                    "group_region": "EU",
                    "peers": 43,
                    "versus": "vs 43 level-7 EU players",
                    "fallback": None,
                    "min_peers": 20,
                    "matches": 50,
                    "window": 50,
                    "stats": {
                        "adr": {
                            "stat": "adr",
                            "value": 84.2,
                            "percentile": 72.1,
                            "peers": 41,
                            "peer_median": 76.0,
                            "peer_mean": 76.4,
                            "peer_std": 9.8,
                        }
                    },
                }
            ]
        }
    }

    nickname: str = Field(examples=["s1mple_fan"])
    level: int | None = Field(ge=1, le=10, description="The player's level (null: unknown)")
    region: str | None = Field(description="The player's FACEIT region (null: unknown)")
    group: str | None = Field(
        description="The group compared with: 'level-7 EU', else 'level-7' when the region "
        "has too few players, null when the level has too few too"
    )
    group_region: str | None = Field(description="The group's region; null: every region")
    peers: int = Field(ge=0, description="Players in the group, the player not counted")
    versus: str = Field(description="What the numbers are against, in words")
    fallback: str | None = Field(description="Why a wider group (or none) was used")
    min_peers: int = Field(ge=1, description="The fewest players a group needs to be used")
    matches: int = Field(ge=0, description="The player's matches the stats are over")
    window: int = Field(ge=1, description="Most recent matches per player the stats use")
    stats: dict[str, Benchmark]


class Driver(BaseModel):
    """A stat that separates the player's wins from their losses."""

    stat: str = Field(examples=["adr"])
    label: str
    in_wins: float
    in_losses: float
    smd: float = Field(description="Standardised mean difference, wins minus losses")


class EloForecast(BaseModel):
    start: float
    matches: int
    p10: list[float]
    p50: list[float]
    p90: list[float]
    expected_change: float


class ImprovementPlan(BaseModel):
    player_id: str
    nickname: str = Field(examples=["s1mple_fan"])
    elo: float | None
    level: int = Field(ge=1, le=10)
    matches: int = Field(ge=0, description="The player's matches the stats are over")
    percentiles: PeerPercentiles
    drivers: list[Driver]
    focus: list[str]
    forecast: EloForecast


class SimilarPlayer(BaseModel):
    nickname: str
    distance: float = Field(ge=0)


class PlaystyleProfile(BaseModel):
    nickname: str = Field(examples=["s1mple_fan"])
    role: str = Field(examples=["Entry"])
    affinity: dict[str, float] = Field(
        default_factory=dict, description="Closeness to every style (sums to 1)"
    )
    rates: dict[str, float] = Field(
        default_factory=dict, description="The per-round rates styles are told apart by"
    )
    z_scores: dict[str, float] = Field(default_factory=dict)
    similar: list[SimilarPlayer] = Field(default_factory=list)
    note: str | None = None
    benchmarks: PeerBenchmarks | None = Field(
        default=None, description="The rates' percentiles among the level's (and region's) players"
    )


class ScoutedPlayer(BaseModel):
    nickname: str
    elo: int | None
    level: int | None
    role: str | None
    matches: int | None
    kd_last10: float | None
    win_rate_last10: float | None
    form: float | None
    benchmarks: PeerBenchmarks | None = Field(
        default=None, description="Headline stats against the player's level and region"
    )


class TeamMap(BaseModel):
    map: str
    matches: int
    wins: int
    win_rate: float


class ScoutingReport(BaseModel):
    players: list[ScoutedPlayer]
    maps: list[TeamMap]
    expect_them_to_pick: list[str]
    their_weakest_maps: list[str]


class RatingStat(BaseModel):
    """One stat behind a 0-100 rating, against the peer group (level and region, else level)."""

    stat: str = Field(examples=["hs_pct"], description="Name in models.features.RATIO_METRICS")
    label: str = Field(examples=["Headshot %"])
    value: float | None = Field(description="The player's value (null: not recorded)")
    peer_mean: float | None = Field(description="Mean of the peers' values")
    peer_std: float | None = Field(description="Sample standard deviation of those values")
    z: float | None = Field(description="(value - peer_mean) / peer_std; null: not rated")
    peers: int = Field(ge=0, description="Peers with a value for this stat")


class Rating(BaseModel):
    """A 0-100 rating: 100 * Phi(z), z the mean of its stats' z-scores (50 = level average)."""

    key: str = Field(examples=["aim"])
    label: str = Field(examples=["Aim"])
    rating: int | None = Field(ge=0, le=100, description="Null when no stat could be rated")
    z: float | None = Field(description="Mean z-score of the rated stats")
    peers: int = Field(ge=0, description="Fewest peers any rated stat was compared with")
    explanation: str = Field(description="What the rating measures and where the player stands")
    stats: list[RatingStat]


class PlayerRatings(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nickname": "s1mple_fan",
                    "level": 6,
                    "region": "EU",
                    "group": "level-6 EU",
                    "group_region": "EU",
                    "peers": 41,
                    "versus": "vs 41 level-6 EU players",
                    "matches": 100,
                    "window": 100,
                    "scale": "rating = round(100 * Phi(z)), Phi the standard normal CDF and z "
                    "the mean z-score of the rating's stats against the same level's players: "
                    "50 = the level average, 84 = one standard deviation above, 16 = one below",
                    "ratings": [
                        {
                            "key": "aim",
                            "label": "Aim",
                            "rating": 69,
                            "z": 0.5,
                            "peers": 41,
                            "explanation": "Aim 69: your headshot %, kills per round and ADR "
                            "put you above the level 6 average (50), against 41 players.",
                            "stats": [
                                {
                                    "stat": "hs_pct",
                                    "label": "Headshot %",
                                    "value": 52.0,
                                    "peer_mean": 47.5,
                                    "peer_std": 6.1,
                                    "z": 0.74,
                                    "peers": 41,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    nickname: str = Field(examples=["s1mple_fan"])
    level: int = Field(ge=1, le=10, examples=[6])
    region: str | None = Field(default=None, examples=["EU"])
    group: str | None = Field(
        examples=["level-6 EU"],
        description="The peer group (models/peers.py): level and region, else the level alone "
        "when the region has too few players; null when both have too few",
    )
    group_region: str | None = Field(description="The group's region; null: every region")
    peers: int = Field(ge=0, description="Players in the group, the player not counted")
    versus: str = Field(examples=["vs 43 level-6 EU players"])
    matches: int = Field(ge=0, description="The player's matches the ratings are over")
    window: int = Field(ge=1, description="Most recent matches per player the stats use")
    scale: str = Field(description="How a z-score maps to 0-100")
    ratings: list[Rating]


class MapRecord(BaseModel):
    map: str | None = Field(examples=["de_mirage"], description="Null: map not recorded")
    matches: int = Field(ge=1)
    wins: int = Field(ge=0)
    win_rate: float = Field(ge=0, le=1)


class PairRecord(BaseModel):
    """Matches of two players together or against each other; wins are the first player's."""

    matches: int = Field(ge=0)
    wins: int = Field(ge=0)
    losses: int = Field(ge=0)
    win_rate: float | None = Field(ge=0, le=1, description="Null without a match")
    maps: list[MapRecord] = Field(description="Per map, most played first")


class HeadToHead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "player": "s1mple_fan",
                    "other": "zywoo_fan",
                    "together": {
                        "matches": 12,
                        "wins": 8,
                        "losses": 4,
                        "win_rate": 0.667,
                        "maps": [{"map": "de_mirage", "matches": 5, "wins": 4, "win_rate": 0.8}],
                    },
                    "against": {
                        "matches": 3,
                        "wins": 1,
                        "losses": 2,
                        "win_rate": 0.333,
                        "maps": [{"map": "de_nuke", "matches": 3, "wins": 1, "win_rate": 0.333}],
                    },
                }
            ]
        }
    )
    player: str = Field(examples=["s1mple_fan"])
    other: str = Field(examples=["zywoo_fan"])
    together: PairRecord = Field(description="On the same team")
    against: PairRecord = Field(description="On opposite teams (wins: the first player's)")


class Teammate(BaseModel):
    """A teammate of the player, with the player's win rate with them and without them."""

    nickname: str
    matches: int = Field(ge=1, description="Matches together")
    wins: int = Field(ge=0)
    win_rate: float = Field(ge=0, le=1)
    other_matches: int = Field(ge=0, description="The player's matches without them")
    other_win_rate: float | None = Field(ge=0, le=1)
    interval_low: float | None = Field(
        description="Bootstrap interval of win_rate - other_win_rate; null: too few to test"
    )
    interval_high: float | None
    verdict: str | None = Field(description="A sentence only when the interval excludes 0")


class Synergy(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nickname": "s1mple_fan",
                    "matches": 412,
                    "win_rate": 0.54,
                    "confidence": 0.9975,
                    "min_matches": 10,
                    "tested": 10,
                    "teammates": [
                        {
                            "nickname": "zywoo_fan",
                            "matches": 31,
                            "wins": 24,
                            "win_rate": 0.774,
                            "other_matches": 381,
                            "other_win_rate": 0.522,
                            "interval_low": 0.02,
                            "interval_high": 0.48,
                            "verdict": "You win more often with zywoo_fan: 77% in 31 matches "
                            "together against 52% in your other 381.",
                        }
                    ],
                }
            ]
        }
    )
    nickname: str = Field(examples=["s1mple_fan"])
    matches: int = Field(ge=0)
    win_rate: float | None = Field(ge=0, le=1, description="The player's baseline")
    confidence: float = Field(description="Confidence of each interval (Bonferroni-adjusted)")
    min_matches: int = Field(ge=1, description="Matches together (and without) to be tested")
    tested: int = Field(ge=0, description="Teammates with enough matches to be tested")
    teammates: list[Teammate] = Field(description="Most matches together first")
