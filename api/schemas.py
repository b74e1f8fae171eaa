"""Request and response bodies of the JSON API (with the examples the OpenAPI document shows)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
)

from core.cs2 import MAP_POOL
from core.text import NOT_BLANK_PATTERN, PRINTABLE_PATTERN, check_text
from models.filters import MatchFilter

# the premium analyses' responses are the services' own result types (models.results), so the
# OpenAPI document describes exactly what models.analysis returns
from models.results import Factor
from models.results import HeadToHead as HeadToHead
from models.results import ImprovementPlan as ImprovementPlan
from models.results import PeerBenchmarks as PeerBenchmarks
from models.results import PlayerRatings as PlayerRatings
from models.results import PlaystyleProfile as PlaystyleProfile
from models.results import ScoutingReport as ScoutingReport
from models.results import Synergy as Synergy

# The one string type of every text the API reads (body fields, path and query parameters):
# control characters, NUL included, are refused with a 422 naming the field (core.text), and
# the OpenAPI document says so with a pattern. Give lengths with Field/Path/Query next to it;
# parameters repeat the pattern with ``json_schema_extra=TEXT_SCHEMA`` (FastAPI's Path/Query
# replace the type's own schema extras).
TEXT_SCHEMA: dict[str, Any] = {"pattern": PRINTABLE_PATTERN}
Text = Annotated[str, BeforeValidator(check_text), Field(json_schema_extra=TEXT_SCHEMA)]


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


# A name or id: Text, trimmed, 1-64 characters, not only whitespace (the schema's pattern
# refuses what the validator refuses, so a client that follows the schema is never told 422)
Name = Annotated[
    Text,
    StringConstraints(strip_whitespace=True, max_length=64),
    AfterValidator(_not_blank),
    Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN, "minLength": 1}),
]
Scalar = float | int | str | bool | None


def filters_field() -> Any:
    return Field(
        default_factory=dict,
        description="The match filter these numbers are over, as its query parameters "
        "(empty: every match)",
        examples=[{"map": ["de_mirage"], "result": "win"}],
    )


Filters = dict[str, str | list[str]]


# --- auth ------------------------------------------------------------------------------------
class LoginRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"username": "demo-premium", "password": "••••••••••"}]},
    )
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Text = Field(min_length=1, max_length=4096, examples=["eyJhbGciOiJIUzI1NiIs..."])


class TokenPair(BaseModel):
    access_token: str = Field(examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."])
    refresh_token: str = Field(examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."])
    token_type: str = Field(default="bearer", examples=["bearer"])
    expires_in: int = Field(description="Access-token lifetime in seconds", examples=[900])
    refresh_expires_in: int = Field(examples=[604800])
    role: str = Field(examples=["premium"])
    premium: bool = Field(examples=[True])


# --- players ---------------------------------------------------------------------------------
class PlayerInfo(BaseModel):
    id: str = Field(examples=["5b1d4c4e-0b1f-4e39-9c55-3f4d2c1b0a99"])
    nickname: str = Field(examples=["s1mple_fan"])
    country: str | None = Field(default=None, examples=["ua"])
    avatar: str | None = None
    faceit_elo: int | None = Field(default=None, examples=[2150])
    skill_level: int | None = Field(default=None, examples=[10])
    region: str | None = Field(default=None, examples=["EU"])


class Headline(BaseModel):
    matches: int | None = Field(default=None, examples=[412])
    win_rate: float | None = Field(default=None, examples=[0.54])
    kd: float | None = Field(default=None, examples=[1.21])
    adr: float | None = Field(default=None, examples=[86.4])
    hs_pct: float | None = Field(default=None, examples=[48.2])
    rating: float | None = Field(default=None, examples=[1.08])
    kd_last10: float | None = Field(default=None, examples=[1.35])
    win_rate_last10: float | None = Field(default=None, examples=[0.6])
    form: float | None = Field(default=None, examples=[1.12])
    consistency: float | None = Field(default=None, examples=[0.21])
    current_streak: int | None = Field(default=None, examples=[3])
    longest_win_streak: int | None = Field(default=None, examples=[7])
    elo_trend: float | None = Field(default=None, examples=[4.5])
    last_match_at: datetime | None = None


class PlayerProfile(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "player": {
                        "id": "5b1d4c4e-0b1f-4e39-9c55-3f4d2c1b0a99",
                        "nickname": "s1mple_fan",
                        "country": "ua",
                        "avatar": None,
                        "faceit_elo": 2150,
                        "skill_level": 10,
                        "region": "EU",
                    },
                    "headline": {"matches": 412, "win_rate": 0.54, "kd": 1.21, "form": 1.12},
                    "features": {"kd_last20": 1.18, "entry_rate_lifetime": 0.12},
                }
            ]
        }
    )
    player: PlayerInfo
    headline: Headline
    features: dict[str, Scalar] = Field(
        description="Every lifetime and last-N feature of the player (models.features); "
        'with a filter, "lifetime" is every match it keeps'
    )
    filters: Filters = filters_field()


class MatchLine(BaseModel):
    match_id: str = Field(examples=["1-5f2d8a3c-7b9e-4c1d-a2b3-c4d5e6f7a8b9"])
    finished_at: datetime | None = None
    map: str | None = Field(default=None, examples=["de_mirage"])
    score: str | None = Field(default=None, examples=["13 / 9"])
    faction: str | None = Field(default=None, examples=["faction1"])
    result: bool | None = Field(default=None, examples=[True])
    kills: int | None = Field(default=None, examples=[24])
    deaths: int | None = Field(default=None, examples=[17])
    assists: int | None = Field(default=None, examples=[5])
    adr: float | None = Field(default=None, examples=[92.3])
    headshots_pct: float | None = Field(default=None, examples=[50.0])
    kd_ratio: float | None = Field(default=None, examples=[1.41])
    elo_change: int | None = Field(
        default=None,
        description="Elo won (+) or lost (-) in the match; null when no Elo point was "
        "recorded for it (or it is the player's first point)",
        examples=[25],
    )
    elo_estimated: bool = Field(
        default=False,
        description="The change was estimated (back-filled from the current Elo), not observed",
        examples=[False],
    )


class MatchPage(BaseModel):
    nickname: str = Field(examples=["s1mple_fan"])
    filters: Filters = filters_field()
    matches: list[MatchLine]
    next_before: datetime | None = Field(
        default=None,
        description="Pass as `before` to get the next (older) page; null on the last page",
    )


class MapLine(BaseModel):
    map: str | None = Field(default=None, examples=["de_mirage"])
    matches: int = Field(examples=[58])
    wins: int = Field(examples=[33])
    win_rate: float | None = Field(default=None, examples=[0.569])
    kd: float | None = Field(default=None, examples=[1.24])
    adr: float | None = Field(default=None, examples=[88.1])
    rating: float | None = Field(default=None, examples=[1.11])


class PlayerMaps(BaseModel):
    nickname: str = Field(examples=["s1mple_fan"])
    filters: Filters = filters_field()
    maps: list[MapLine]


# --- the match filter of the free stats routes (models.filters) -----------------------------
# FastAPI reads a pydantic model as query parameters only when it is a route's one query
# parameter, so the routes with their own parameters extend the filter.


class FilterQuery(MatchFilter):
    """The match filter as query parameters (every one optional: no filter, every match)."""


class TrendsQuery(MatchFilter):
    window: int = Field(default=20, ge=1, le=200, description="Matches per window")


class TiltQuery(MatchFilter):
    session_minutes: int = Field(
        default=60, ge=5, le=720, description="Matches less than this many minutes apart"
    )


class MatchesQuery(MatchFilter):
    limit: int = Field(default=20, ge=1, le=100, description="Page size")
    before: datetime | None = Field(
        default=None,
        description="ISO-8601 timestamp: only matches finished strictly before it "
        "(use the previous page's `next_before`)",
        examples=["2025-06-01T18:30:00Z"],
    )


def filter_of(query: MatchFilter) -> MatchFilter:
    """The filter part of a route's query (its own parameters left out)."""
    return MatchFilter.model_validate(query.model_dump(include=set(FILTER_FIELDS)))


FILTER_FIELDS = tuple(MatchFilter.model_fields)


# --- Elo per match, stats over time, streaks and tilt (free) ---------------------------------


class EloPoint(BaseModel):
    match_id: str | None = Field(default=None, examples=["1-5f2d8a3c-7b9e-4c1d-a2b3-c4d5e6f7a8b9"])
    recorded_at: datetime
    elo: int = Field(examples=[1225])
    change: int | None = Field(
        default=None, description="Elo minus the previous point's (null on the first point)"
    )
    estimated: bool = Field(description="This Elo was back-filled, not observed at a sync")
    change_estimated: bool = Field(
        description="The change is estimated: this point or the previous one was back-filled"
    )


class LevelBand(BaseModel):
    elo: int = Field(examples=[1225])
    level: int = Field(ge=1, le=10, examples=[6])
    low: int = Field(description="Lowest Elo of the level", examples=[1201])
    high: int | None = Field(description="Highest Elo of the level; null at level 10")
    to_next: int | None = Field(description="Elo to gain for the next level", examples=[126])
    to_previous: int | None = Field(
        description="Elo to lose to drop a level; null at level 1", examples=[25]
    )
    progress: float | None = Field(description="Share of the band climbed (0-1)")


class PlayerElo(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nickname": "s1mple_fan",
                    "level": {
                        "elo": 1225,
                        "level": 6,
                        "low": 1201,
                        "high": 1350,
                        "to_next": 126,
                        "to_previous": 25,
                        "progress": 0.16,
                    },
                    "points": [
                        {
                            "match_id": "1-5f2d8a3c-7b9e-4c1d-a2b3-c4d5e6f7a8b9",
                            "recorded_at": "2025-06-01T19:12:00Z",
                            "elo": 1200,
                            "change": None,
                            "estimated": True,
                            "change_estimated": True,
                        },
                        {
                            "match_id": "1-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                            "recorded_at": "2025-06-01T20:05:00Z",
                            "elo": 1225,
                            "change": 25,
                            "estimated": False,
                            "change_estimated": True,
                        },
                    ],
                    "filters": {},
                }
            ]
        }
    )
    nickname: str = Field(examples=["s1mple_fan"])
    level: LevelBand | None = Field(
        description="The band of the current Elo (the filter does not change it)"
    )
    points: list[EloPoint] = Field(
        description="Oldest first, one per recorded match (with a filter, the kept matches' "
        "points; each change is still from the point before it)"
    )
    filters: Filters = filters_field()


class TrendPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match_id: str
    finished_at: datetime | None = None
    kd: float | None = Field(default=None, examples=[1.18])
    adr: float | None = Field(default=None, examples=[84.2])
    hs_pct: float | None = Field(default=None, examples=[47.0])
    kpr: float | None = Field(default=None, examples=[0.78])
    entry_success: float | None = Field(default=None, examples=[0.52])
    utility_dpr: float | None = Field(default=None, examples=[6.1])


class PlayerTrends(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nickname": "s1mple_fan",
                    "window": 20,
                    "stats": ["kd", "adr", "hs_pct", "kpr", "entry_success", "utility_dpr"],
                    "points": [
                        {
                            "match_id": "1-5f2d8a3c-7b9e-4c1d-a2b3-c4d5e6f7a8b9",
                            "finished_at": "2025-06-01T19:12:00Z",
                            "kd": 1.18,
                            "adr": 84.2,
                            "hs_pct": 47.0,
                            "kpr": 0.78,
                            "entry_success": 0.52,
                            "utility_dpr": 6.1,
                        }
                    ],
                    "filters": {"map": ["de_mirage"]},
                }
            ]
        }
    )
    nickname: str = Field(examples=["s1mple_fan"])
    window: int = Field(description="Matches in each point's window", examples=[20])
    stats: list[str] = Field(examples=[["kd", "adr", "hs_pct", "kpr"]])
    points: list[TrendPoint] = Field(
        description="Per match, oldest first: each stat over the last `window` matches up to "
        "it, as a ratio of sums (null when no match in the window recorded it); with a "
        "filter, over the kept matches only"
    )
    filters: Filters = filters_field()


class Streaks(BaseModel):
    current: int = Field(description="+n wins / -n losses in a row up to now", examples=[-2])
    longest_win: int = Field(examples=[7])
    longest_loss: int = Field(examples=[5])


class Interval(BaseModel):
    low: float
    high: float


class TiltGroup(BaseModel):
    kind: Literal["losses", "session"]
    label: str = Field(examples=["After 2 losses in a row"])
    matches: int
    win_rate: float | None
    rating: float | None
    other_matches: int
    other_win_rate: float | None
    other_rating: float | None
    win_rate_interval: Interval | None = Field(
        description="Interval of win_rate - other_win_rate (null: too few matches to test)"
    )
    rating_interval: Interval | None
    verdict: str | None = Field(
        description="A plain sentence, only when a difference is bigger than its noise"
    )


class PlayerTilt(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nickname": "s1mple_fan",
                    "streaks": {"current": -2, "longest_win": 7, "longest_loss": 5},
                    "session_minutes": 60,
                    "confidence": 0.9964,
                    "groups": [
                        {
                            "kind": "losses",
                            "label": "After 2 losses in a row",
                            "matches": 31,
                            "win_rate": 0.35,
                            "rating": 0.94,
                            "other_matches": 381,
                            "other_win_rate": 0.55,
                            "other_rating": 1.06,
                            "win_rate_interval": {"low": -0.38, "high": -0.02},
                            "rating_interval": {"low": -0.21, "high": -0.03},
                            "verdict": "After 2 losses in a row (31 matches), you win less "
                            "often: 35% against 55% in your other matches and you play worse: "
                            "rating 0.94 against 1.06.",
                        }
                    ],
                    "filters": {},
                }
            ]
        }
    )
    nickname: str = Field(examples=["s1mple_fan"])
    streaks: Streaks = Field(description="Runs of the kept matches (every match by default)")
    session_minutes: int = Field(examples=[60])
    confidence: float = Field(description="Level of each interval (Bonferroni-adjusted)")
    groups: list[TiltGroup] = Field(
        description="With a filter, only the kept matches are counted, each grouped by the "
        "losses and the session before it in the whole history"
    )
    filters: Filters = filters_field()


# --- analyses --------------------------------------------------------------------------------
MapName = Literal[MAP_POOL]  # type: ignore[valid-type]


def _unique(names: list[str] | None) -> list[str] | None:
    if names is not None and len({n.lower() for n in names}) != len(names):
        raise ValueError("a player appears twice in the lineup")
    return names


Lineup = Annotated[
    list[Name],
    Field(min_length=1, max_length=5, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique),
]


class LineupsRequest(BaseModel):
    """Two lineups of the same size (1-5 nicknames or FACEIT player ids each; FACEIT matches
    are 5 against 5, so lineups of unequal size are refused with 422) and optionally the map."""

    model_config = ConfigDict(extra="forbid")
    lineup_a: Lineup = Field(examples=[["alpha", "bravo", "charlie"]])
    lineup_b: Lineup = Field(examples=[["delta", "echo", "foxtrot"]])
    map: MapName | None = Field(
        default=None, description="A map of the active pool; omitted: the veto advice's pick"
    )


class MatchRequest(BaseModel):
    """A stored match: the prediction from what was known before it started."""

    model_config = ConfigDict(extra="forbid")
    match_id: Name


# Tags of the request-body union; api.problems drops them from error locations.
UNION_TAGS = frozenset({"lineups", "match"})


def _analyze_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "match" if "match_id" in value else "lineups"
    return "match" if isinstance(value, MatchRequest) else "lineups"


AnalyzeRequest = Annotated[
    Annotated[LineupsRequest, Tag("lineups")] | Annotated[MatchRequest, Tag("match")],
    Discriminator(_analyze_kind),
]


ANALYZE_EXAMPLES: dict[str, Any] = {
    "lineups": {
        "summary": "Two lineups, best map chosen by the veto advice",
        "value": {
            "lineup_a": ["alpha", "bravo", "charlie"],
            "lineup_b": ["delta", "echo", "foxtrot"],
        },
    },
    "lineups_on_map": {
        "summary": "Two lineups on a given map",
        "value": {"lineup_a": ["alpha"], "lineup_b": ["delta"], "map": "de_mirage"},
    },
    "match": {
        "summary": "The pre-match prediction of a stored match",
        "value": {"match_id": "1-5f2d8a3c-7b9e-4c1d-a2b3-c4d5e6f7a8b9"},
    },
}


class Veto(BaseModel):
    pick: str | None = Field(default=None, examples=["de_mirage"])
    bans: list[str] = Field(default_factory=list, examples=[["de_nuke", "de_vertigo"]])


class AnalysisResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lineup_a": ["alpha", "bravo"],
                    "lineup_b": ["delta", "echo"],
                    "map": "de_mirage",
                    "probability": 0.61,
                    "elo_probability": 0.55,
                    "factors": ["Your team's recent form is the largest factor, +6%"],
                    "per_map": {"de_mirage": 0.61, "de_nuke": 0.48},
                    "veto": {"pick": "de_mirage", "bans": ["de_nuke"]},
                    "model_version": 3,
                    "actual_winner": None,
                    "details": [],
                }
            ]
        }
    )
    lineup_a: list[str]
    lineup_b: list[str]
    map: str
    probability: float = Field(ge=0, le=1, description="Win probability of lineup A")
    elo_probability: float = Field(ge=0, le=1, description="Elo-only baseline for lineup A")
    factors: list[str]
    per_map: dict[str, float]
    veto: Veto
    model_version: int | None
    actual_winner: str | None = None
    details: list[Factor] = Field(default_factory=list)


class ReadyCheck(BaseModel):
    ok: bool
    detail: str | None = None
    backend: str | None = None


class Readiness(BaseModel):
    status: str = Field(
        examples=["ready"], description="ready; degraded: serving without the cache (Redis)"
    )
    checks: dict[str, ReadyCheck]


class Window(BaseModel):
    start: str | None = Field(default=None, description="ISO 8601 UTC")
    end: str | None = Field(default=None, description="ISO 8601 UTC")


class ReliabilityBin(BaseModel):
    low: float = Field(ge=0, le=1)
    high: float = Field(ge=0, le=1)
    n: int = Field(ge=0, description="Held-out matches whose prediction fell in this bin")
    mean_p: float | None = Field(default=None, description="Mean predicted probability")
    win_rate: float | None = Field(default=None, description="How often that team won")


class ServedPredictionOut(BaseModel):
    match_id: str
    model_version: int
    map: str | None
    p_faction1: float = Field(ge=0, le=1)
    served_at: str
    faction1_won: bool | None = Field(description="None until the match has finished")


class LiveRecord(BaseModel):
    served: int
    finished: int
    pending: int
    logloss: float | None
    brier: float | None
    accuracy: float | None
    recent: list[ServedPredictionOut]


class ModelReport(BaseModel):
    """The champion match-outcome model's public report."""

    version: int
    learner: str
    feature_version: str
    trained_at: str | None
    training_window: Window
    selection_window: Window = Field(description="Where the champion was chosen")
    evaluation_window: Window = Field(description="Where the metrics below were measured")
    metrics: dict[str, dict[str, float | None]] = Field(
        description="Held-out metrics per predictor: model, xgboost, elo (FACEIT formula), "
        "oracle (demo league only)"
    )
    reliability: list[ReliabilityBin]
    live: LiveRecord
