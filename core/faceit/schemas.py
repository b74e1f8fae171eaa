"""Typed models of the FACEIT Data API v4 payloads the product reads (CS2 only).

The API sends statistics as display-keyed strings ("K/D Ratio": "1.12"), timestamps as Unix
seconds (history, matches) or milliseconds (games-stats "Match Finished At"), and ISO strings
("Created At").
Everything is converted here, once, at the edge: the rest of the code sees snake_case attributes
holding ints, floats, bools and aware UTC datetimes.

All models ignore unknown fields, and every statistic that older matches lack (the "extended" stats,
recorded by FACEIT only since about August 2024) is Optional and becomes None when missing or empty.
Models accept both the API's keys (aliases) and the Python names, so fixtures and the demo league
can build them either way.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

# --------------------------------------------------------------------------------------------------
# Edge parsers: strings -> numbers / bools / datetimes, exactly once.
# --------------------------------------------------------------------------------------------------

# Values above this are taken as milliseconds, below as seconds (1e11 s is the year 5138; 1e11 ms is
# March 1973), so a payload using the wrong unit is still read correctly.
_MS_THRESHOLD = 100_000_000_000


def _blank_to_none(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _parse_int(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise ValueError(f"expected a whole number, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if math.isfinite(number) and number.is_integer():
            return int(number)
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _parse_float(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        return value
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


_TRUE = {"1", "true", "yes", "win", "won"}
_FALSE = {"0", "false", "no", "loss", "lost"}


def _parse_bool(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueError(f"expected 0 or 1, got {value!r}")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"expected '1' or '0', got {value!r}")
    return value


def _epoch_to_datetime(number: float) -> datetime:
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"expected a Unix timestamp, got {number!r}")
    if number >= _MS_THRESHOLD:
        number /= 1000.0
    return datetime.fromtimestamp(number, tz=UTC)


def _to_datetime(value: Any) -> Any:
    """Unix seconds or ms (number or numeric string), ISO string, or datetime -> aware UTC."""
    value = _blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return _epoch_to_datetime(float(value))
    if isinstance(value, str):
        text = value.strip()
        try:
            return _epoch_to_datetime(float(text))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"expected a timestamp, got {value!r}") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return value


def _to_optional_datetime(value: Any) -> Any:
    """Like _to_datetime, but 0 (FACEIT's "not set") becomes None."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            if float(value) == 0:
                return None
        except ValueError:
            pass
    return _to_datetime(value)


def _to_str(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _null_to_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _null_to_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _null_to_empty_str(value: Any) -> Any:
    return "" if value is None else _to_str(value)


if TYPE_CHECKING:
    OrEmptyList = list
    OrEmptyDict = dict
else:

    class OrEmptyList:
        """``list[X]`` that reads a null as ``[]``: validated natively from the JSON (a
        BeforeValidator would first turn the whole subtree into Python objects, ignored
        fields included: 60% of a history page's parse)."""

        def __class_getitem__(cls, item: Any) -> Any:
            return Annotated[list[item] | None, AfterValidator(_null_to_empty_list)]

    class OrEmptyDict:
        """``dict[K, V]`` that reads a null as ``{}``, validated natively (as OrEmptyList)."""

        def __class_getitem__(cls, items: Any) -> Any:
            key, value = items
            return Annotated[dict[key, value] | None, AfterValidator(_null_to_empty_dict)]


Int = Annotated[int, BeforeValidator(_parse_int)]
Float = Annotated[float, BeforeValidator(_parse_float)]
Bool = Annotated[bool, BeforeValidator(_parse_bool)]
OptInt = Annotated[int | None, BeforeValidator(_parse_int)]
OptFloat = Annotated[float | None, BeforeValidator(_parse_float)]
OptBool = Annotated[bool | None, BeforeValidator(_parse_bool)]
OptTimestamp = Annotated[datetime | None, BeforeValidator(_to_optional_datetime)]
Str = Annotated[str, BeforeValidator(_null_to_empty_str)]
OptStr = Annotated[str | None, BeforeValidator(_to_str)]

Faction = Literal["faction1", "faction2"]


class FaceitModel(BaseModel):
    """Base: ignores unknown fields, accepts API keys (aliases) and Python names."""

    model_config = ConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True)


def _winner_faction(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, str) and value not in ("faction1", "faction2"):
        return None  # "bye", "draw" or unknown: no winning faction
    return value


OptFaction = Annotated[Faction | None, BeforeValidator(_winner_faction)]


# --------------------------------------------------------------------------------------------------
# GET /players?nickname=  and  GET /players/{player_id}
# --------------------------------------------------------------------------------------------------


class GameProfile(FaceitModel):
    """One entry of a profile's `games` (we only read cs2)."""

    region: Str = ""
    skill_level: OptInt = None
    elo: OptInt = Field(default=None, alias="faceit_elo")
    game_player_id: Str = ""
    game_player_name: Str = ""


class PlayerProfile(FaceitModel):
    player_id: str
    nickname: str
    country: Str = ""
    avatar: Str = ""
    verified: OptBool = None
    steam_id_64: OptStr = None
    faceit_url: Str = ""
    memberships: Annotated[list[str], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )
    activated_at: OptTimestamp = None
    cs2: GameProfile | None = None
    """games.cs2, or None for an account that never played CS2 on FACEIT."""

    @model_validator(mode="before")
    @classmethod
    def _pick_cs2(cls, data: Any) -> Any:
        if isinstance(data, dict) and "cs2" not in data:
            games = data.get("games")
            if isinstance(games, dict):
                data = {**data, "cs2": games.get("cs2")}
        return data

    @property
    def elo(self) -> int | None:
        return self.cs2.elo if self.cs2 else None

    @property
    def skill_level(self) -> int | None:
        return self.cs2.skill_level if self.cs2 else None

    @property
    def region(self) -> str | None:
        return (self.cs2.region or None) if self.cs2 else None


# --------------------------------------------------------------------------------------------------
# GET /players/{player_id}/stats/cs2
# --------------------------------------------------------------------------------------------------


class LifetimeStats(FaceitModel):
    """`lifetime` of /stats/cs2 (also the common part of each map segment).

    Beware: the API's lifetime "K/D Ratio" and "Total Headshots %" are SUMS of per-match values;
    they are kept as kd_ratio_sum / headshots_pct_sum. Use average_kd_ratio / average_headshots_pct.
    "Matches" counts all matches, "Total Matches" only those with extended stats.
    """

    matches: Int = Field(default=0, alias="Matches")
    matches_with_extended_stats: OptInt = Field(default=None, alias="Total Matches")
    wins: Int = Field(default=0, alias="Wins")
    win_rate_pct: OptFloat = Field(default=None, alias="Win Rate %")
    average_kd_ratio: OptFloat = Field(default=None, alias="Average K/D Ratio")
    kd_ratio_sum: OptFloat = Field(default=None, alias="K/D Ratio")
    average_headshots_pct: OptFloat = Field(default=None, alias="Average Headshots %")
    headshots_pct_sum: OptFloat = Field(default=None, alias="Total Headshots %")
    adr: OptFloat = Field(default=None, alias="ADR")
    total_damage: OptInt = Field(default=None, alias="Total Damage")
    current_win_streak: OptInt = Field(default=None, alias="Current Win Streak")
    longest_win_streak: OptInt = Field(default=None, alias="Longest Win Streak")
    recent_results: Annotated[list[Bool], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list, alias="Recent Results"
    )
    # extended (since ~Aug 2024)
    total_kills_extended: OptInt = Field(default=None, alias="Total Kills with extended stats")
    total_rounds_extended: OptInt = Field(default=None, alias="Total Rounds with extended stats")
    entry_rate: OptFloat = Field(default=None, alias="Entry Rate")
    entry_success_rate: OptFloat = Field(default=None, alias="Entry Success Rate")
    total_entry_count: OptInt = Field(default=None, alias="Total Entry Count")
    total_entry_wins: OptInt = Field(default=None, alias="Total Entry Wins")
    one_v_one_win_rate: OptFloat = Field(default=None, alias="1v1 Win Rate")
    one_v_two_win_rate: OptFloat = Field(default=None, alias="1v2 Win Rate")
    total_one_v_one_count: OptInt = Field(default=None, alias="Total 1v1 Count")
    total_one_v_one_wins: OptInt = Field(default=None, alias="Total 1v1 Wins")
    total_one_v_two_count: OptInt = Field(default=None, alias="Total 1v2 Count")
    total_one_v_two_wins: OptInt = Field(default=None, alias="Total 1v2 Wins")
    utility_usage_per_round: OptFloat = Field(default=None, alias="Utility Usage per Round")
    utility_success_rate: OptFloat = Field(default=None, alias="Utility Success Rate")
    utility_damage_per_round: OptFloat = Field(default=None, alias="Utility Damage per Round")
    utility_damage_success_rate: OptFloat = Field(default=None, alias="Utility Damage Success Rate")
    total_utility_count: OptInt = Field(default=None, alias="Total Utility Count")
    total_utility_successes: OptInt = Field(default=None, alias="Total Utility Successes")
    total_utility_damage: OptInt = Field(default=None, alias="Total Utility Damage")
    flash_success_rate: OptFloat = Field(default=None, alias="Flash Success Rate")
    flashes_per_round: OptFloat = Field(default=None, alias="Flashes per Round")
    enemies_flashed_per_round: OptFloat = Field(default=None, alias="Enemies Flashed per Round")
    total_flash_count: OptInt = Field(default=None, alias="Total Flash Count")
    total_flash_successes: OptInt = Field(default=None, alias="Total Flash Successes")
    total_enemies_flashed: OptInt = Field(default=None, alias="Total Enemies Flashed")
    sniper_kill_rate: OptFloat = Field(default=None, alias="Sniper Kill Rate")
    sniper_kill_rate_per_round: OptFloat = Field(default=None, alias="Sniper Kill Rate per Round")
    total_sniper_kills: OptInt = Field(default=None, alias="Total Sniper Kills")


class MapSegmentStats(LifetimeStats):
    """`segments[].stats`: the lifetime fields plus per-map totals and averages.

    As in lifetime, "K/D Ratio" / "K/R Ratio" are sums here; use the Average ones.
    """

    rounds: OptInt = Field(default=None, alias="Rounds")
    kills: OptInt = Field(default=None, alias="Kills")
    deaths: OptInt = Field(default=None, alias="Deaths")
    assists: OptInt = Field(default=None, alias="Assists")
    headshots: OptInt = Field(default=None, alias="Headshots")
    mvps: OptInt = Field(default=None, alias="MVPs")
    triple_kills: OptInt = Field(default=None, alias="Triple Kills")
    quadro_kills: OptInt = Field(default=None, alias="Quadro Kills")
    penta_kills: OptInt = Field(default=None, alias="Penta Kills")
    kr_ratio_sum: OptFloat = Field(default=None, alias="K/R Ratio")
    average_kr_ratio: OptFloat = Field(default=None, alias="Average K/R Ratio")
    average_kills: OptFloat = Field(default=None, alias="Average Kills")
    average_deaths: OptFloat = Field(default=None, alias="Average Deaths")
    average_assists: OptFloat = Field(default=None, alias="Average Assists")
    average_mvps: OptFloat = Field(default=None, alias="Average MVPs")
    average_triple_kills: OptFloat = Field(default=None, alias="Average Triple Kills")
    average_quadro_kills: OptFloat = Field(default=None, alias="Average Quadro Kills")
    average_penta_kills: OptFloat = Field(default=None, alias="Average Penta Kills")
    headshots_per_match: OptFloat = Field(default=None, alias="Headshots per Match")


class MapSegment(FaceitModel):
    label: str
    """Map display name, e.g. "Inferno"."""
    type: Str = ""
    mode: Str = ""
    img_small: Str = ""
    img_regular: Str = ""
    stats: MapSegmentStats = Field(default_factory=MapSegmentStats)


class PlayerLifetimeStats(FaceitModel):
    player_id: str
    game_id: Str = "cs2"
    lifetime: LifetimeStats = Field(default_factory=LifetimeStats)
    segments: Annotated[list[MapSegment], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )

    @property
    def map_segments(self) -> list[MapSegment]:
        return [s for s in self.segments if s.type.lower() in ("map", "")]


# --------------------------------------------------------------------------------------------------
# GET /players/{player_id}/history
# --------------------------------------------------------------------------------------------------


class HistoryPlayer(FaceitModel):
    """A roster entry of a history item: only what ingest reads (a history page holds 1,000 of
    them, and every field read is a validator call; avatar, game_player_id/name and faceit_url
    are skipped by the JSON parser)."""

    player_id: str
    nickname: Str = ""
    skill_level: OptInt = None


class HistoryTeam(FaceitModel):
    team_id: Str = ""
    nickname: Str = ""
    type: Str = ""
    """"premade" when the whole team is one party; "" otherwise."""
    players: OrEmptyList[HistoryPlayer] = Field(default_factory=list)

    @property
    def player_ids(self) -> list[str]:
        return [p.player_id for p in self.players]

    @property
    def premade(self) -> bool:
        return self.type.lower() == "premade"


class MatchResults(FaceitModel):
    winner: OptFaction = None
    score: OrEmptyDict[str, Int] = Field(default_factory=dict)


class HistoryMatch(FaceitModel):
    match_id: str
    game_id: Str = "cs2"
    region: Str = ""
    match_type: Str = ""
    game_mode: Str = ""
    competition_id: Str = ""
    competition_name: Str = ""
    competition_type: Str = ""
    organizer_id: Str = ""
    status: Str = ""
    started_at: OptTimestamp = None
    finished_at: OptTimestamp = None
    teams: OrEmptyDict[str, HistoryTeam] = Field(default_factory=dict)
    results: MatchResults = Field(default_factory=MatchResults)
    faceit_url: Str = ""

    @property
    def winner(self) -> Faction | None:
        return self.results.winner

    @property
    def score(self) -> dict[str, int]:
        return self.results.score

    def faction_of(self, player_id: str) -> Faction | None:
        for faction in ("faction1", "faction2"):
            team = self.teams.get(faction)
            if team is not None and player_id in team.player_ids:
                return faction
        return None

    def won_by(self, player_id: str) -> bool | None:
        faction = self.faction_of(player_id)
        if faction is None or self.winner is None:
            return None
        return faction == self.winner


class HistoryPage(FaceitModel):
    items: OrEmptyList[HistoryMatch] = Field(default_factory=list)
    start: Int = 0
    end: Int = 0
    from_: OptTimestamp = Field(default=None, alias="from")
    to: OptTimestamp = None


# --------------------------------------------------------------------------------------------------
# GET /players/{player_id}/games/cs2/stats
# --------------------------------------------------------------------------------------------------


class GameStatsRow(FaceitModel):
    """One player's basic stats in one match (the API nests them under "stats")."""

    match_id: str = Field(alias="Match Id")
    player_id: str = Field(alias="Player Id")
    nickname: Str = Field(default="", alias="Nickname")
    team: Str = Field(default="", alias="Team")
    competition_id: Str = Field(default="", alias="Competition Id")
    game: Str = Field(default="cs2", alias="Game")
    game_mode: Str = Field(default="", alias="Game Mode")
    region: Str = Field(default="", alias="Region")
    map: Str = Field(default="", alias="Map")
    best_of: OptInt = Field(default=None, alias="Best Of")
    match_round: OptInt = Field(default=None, alias="Match Round")
    rounds: OptInt = Field(default=None, alias="Rounds")
    score: Str = Field(default="", alias="Score")
    """Team score as "ours / theirs", e.g. "11 / 13"."""
    final_score: OptInt = Field(default=None, alias="Final Score")
    first_half_score: OptInt = Field(default=None, alias="First Half Score")
    second_half_score: OptInt = Field(default=None, alias="Second Half Score")
    overtime_score: OptInt = Field(default=None, alias="Overtime score")
    winner: Str = Field(default="", alias="Winner")
    """Team id of the winning team."""
    result: Bool = Field(alias="Result")
    kills: Int = Field(alias="Kills")
    deaths: Int = Field(alias="Deaths")
    assists: Int = Field(alias="Assists")
    headshots: OptInt = Field(default=None, alias="Headshots")
    headshots_pct: OptFloat = Field(default=None, alias="Headshots %")
    mvps: OptInt = Field(default=None, alias="MVPs")
    kd_ratio: OptFloat = Field(default=None, alias="K/D Ratio")
    kr_ratio: OptFloat = Field(default=None, alias="K/R Ratio")
    adr: OptFloat = Field(default=None, alias="ADR")
    damage: OptInt = Field(default=None, alias="Damage")
    double_kills: OptInt = Field(default=None, alias="Double Kills")
    triple_kills: OptInt = Field(default=None, alias="Triple Kills")
    quadro_kills: OptInt = Field(default=None, alias="Quadro Kills")
    penta_kills: OptInt = Field(default=None, alias="Penta Kills")
    finished_at: OptTimestamp = Field(default=None, alias="Match Finished At")
    """From Unix MILLISECONDS."""
    created_at: OptTimestamp = Field(default=None, alias="Created At")
    updated_at: OptTimestamp = Field(default=None, alias="Updated At")

    @model_validator(mode="before")
    @classmethod
    def _unwrap_stats(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("stats"), dict):
            return data["stats"]
        return data


class GameStatsPage(FaceitModel):
    items: Annotated[list[GameStatsRow], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )
    start: Int = 0
    end: Int = 0


# --------------------------------------------------------------------------------------------------
# GET /matches/{match_id}
# --------------------------------------------------------------------------------------------------


class RosterPlayer(FaceitModel):
    player_id: str
    nickname: Str = ""
    avatar: Str = ""
    membership: Str = ""
    game_player_id: Str = ""
    game_player_name: Str = ""
    skill_level: OptInt = Field(
        default=None, validation_alias=AliasChoices("game_skill_level", "skill_level")
    )


class MatchFaction(FaceitModel):
    faction_id: Str = ""
    name: Str = ""
    leader: Str = ""
    avatar: Str = ""
    type: Str = ""
    substituted: OptBool = None
    roster: Annotated[list[RosterPlayer], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )
    substitutes: Annotated[list[RosterPlayer], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )

    @property
    def player_ids(self) -> list[str]:
        return [p.player_id for p in self.roster]

    @property
    def premade(self) -> bool:
        """The whole faction is one party (the Data API shows no smaller parties)."""
        return self.type.lower() == "premade"


def _first_pick(voting: Any, kind: str) -> str | None:
    if not isinstance(voting, dict):
        return None
    section = voting.get(kind)
    if not isinstance(section, dict):
        return None
    pick = section.get("pick")
    if isinstance(pick, list) and pick and isinstance(pick[0], str):
        return pick[0]
    if isinstance(pick, str) and pick:
        return pick
    return None


class MatchDetails(FaceitModel):
    match_id: str
    game: Str = "cs2"
    region: Str = ""
    competition_id: Str = ""
    competition_name: Str = ""
    competition_type: Str = ""
    organizer_id: Str = ""
    teams: Annotated[dict[str, MatchFaction], BeforeValidator(_null_to_empty_dict)] = Field(
        default_factory=dict
    )
    map: OptStr = None
    """voting.map.pick[0] (e.g. "de_inferno"), None when there was no map vote."""
    location: OptStr = None
    """voting.location.pick[0] (server location), None when absent."""
    results: MatchResults = Field(default_factory=MatchResults)
    status: Str = ""
    """As sent (match.json says "FINISHED", history says "finished")."""
    best_of: OptInt = None
    calculate_elo: OptBool = None
    scheduled_at: OptTimestamp = None
    configured_at: OptTimestamp = None
    started_at: OptTimestamp = None
    finished_at: OptTimestamp = None
    demo_url: Annotated[list[str], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )
    faceit_url: Str = ""

    @model_validator(mode="before")
    @classmethod
    def _pick_votes(cls, data: Any) -> Any:
        if isinstance(data, dict) and "voting" in data:
            data = dict(data)
            voting = data.get("voting")
            data.setdefault("map", _first_pick(voting, "map"))
            data.setdefault("location", _first_pick(voting, "location"))
        return data

    @property
    def winner(self) -> Faction | None:
        return self.results.winner

    @property
    def score(self) -> dict[str, int]:
        return self.results.score

    @property
    def is_finished(self) -> bool:
        return self.status.lower() == "finished"


# --------------------------------------------------------------------------------------------------
# GET /matches/{match_id}/stats
# --------------------------------------------------------------------------------------------------


class PlayerMatchStats(FaceitModel):
    """The 47 per-player CS2 statistics of one match (match_stats `player_stats`).

    Basic stats are required; the extended ones (damage, ADR, double kills, entries, clutches,
    utility, flashes, snipers, pistol/knife/zeus) exist only for matches since about August 2024
    and are None otherwise. A stat the payload leaves out is None, never 0.
    """

    # basic
    kills: Int = Field(alias="Kills")
    deaths: Int = Field(alias="Deaths")
    assists: Int = Field(alias="Assists")
    headshots: Int = Field(alias="Headshots")
    headshots_pct: Float = Field(alias="Headshots %")
    mvps: Int = Field(alias="MVPs")
    kd_ratio: Float = Field(alias="K/D Ratio")
    kr_ratio: Float = Field(alias="K/R Ratio")
    adr: OptFloat = Field(default=None, alias="ADR")
    damage: OptInt = Field(default=None, alias="Damage")
    double_kills: OptInt = Field(default=None, alias="Double Kills")
    triple_kills: OptInt = Field(default=None, alias="Triple Kills")
    quadro_kills: OptInt = Field(default=None, alias="Quadro Kills")
    penta_kills: OptInt = Field(default=None, alias="Penta Kills")
    # entries
    first_kills: OptInt = Field(default=None, alias="First Kills")
    entry_count: OptInt = Field(default=None, alias="Entry Count")
    entry_wins: OptInt = Field(default=None, alias="Entry Wins")
    match_entry_rate: OptFloat = Field(default=None, alias="Match Entry Rate")
    match_entry_success_rate: OptFloat = Field(default=None, alias="Match Entry Success Rate")
    # clutches
    one_v_one_count: OptInt = Field(default=None, alias="1v1Count")
    one_v_one_wins: OptInt = Field(default=None, alias="1v1Wins")
    one_v_two_count: OptInt = Field(default=None, alias="1v2Count")
    one_v_two_wins: OptInt = Field(default=None, alias="1v2Wins")
    match_1v1_win_rate: OptFloat = Field(default=None, alias="Match 1v1 Win Rate")
    match_1v2_win_rate: OptFloat = Field(default=None, alias="Match 1v2 Win Rate")
    clutch_kills: OptInt = Field(default=None, alias="Clutch Kills")
    # utility
    utility_count: OptInt = Field(default=None, alias="Utility Count")
    utility_successes: OptInt = Field(default=None, alias="Utility Successes")
    utility_damage: OptInt = Field(default=None, alias="Utility Damage")
    utility_enemies: OptInt = Field(default=None, alias="Utility Enemies")
    utility_usage_per_round: OptFloat = Field(default=None, alias="Utility Usage per Round")
    utility_success_rate: OptFloat = Field(default=None, alias="Utility Success Rate per Match")
    utility_damage_per_round: OptFloat = Field(
        default=None, alias="Utility Damage per Round in a Match"
    )
    utility_damage_success_rate: OptFloat = Field(
        default=None, alias="Utility Damage Success Rate per Match"
    )
    # flashes
    flash_count: OptInt = Field(default=None, alias="Flash Count")
    flash_successes: OptInt = Field(default=None, alias="Flash Successes")
    enemies_flashed: OptInt = Field(default=None, alias="Enemies Flashed")
    flash_success_rate: OptFloat = Field(default=None, alias="Flash Success Rate per Match")
    flashes_per_round: OptFloat = Field(default=None, alias="Flashes per Round in a Match")
    enemies_flashed_per_round: OptFloat = Field(
        default=None, alias="Enemies Flashed per Round in a Match"
    )
    # weapons
    sniper_kills: OptInt = Field(default=None, alias="Sniper Kills")
    sniper_kill_rate_per_match: OptFloat = Field(default=None, alias="Sniper Kill Rate per Match")
    sniper_kill_rate_per_round: OptFloat = Field(default=None, alias="Sniper Kill Rate per Round")
    pistol_kills: OptInt = Field(default=None, alias="Pistol Kills")
    knife_kills: OptInt = Field(default=None, alias="Knife Kills")
    zeus_kills: OptInt = Field(default=None, alias="Zeus Kills")
    # outcome
    result: Bool = Field(alias="Result")
    """True = this player's team won."""

    def as_row(self) -> dict[str, int | float | bool | None]:
        """{snake_case stat name: value} in PLAYER_STAT_FIELDS order."""
        return {name: getattr(self, name) for name in PLAYER_STAT_FIELDS}


PLAYER_STAT_FIELDS: tuple[str, ...] = tuple(PlayerMatchStats.model_fields)
"""snake_case names of the 47 per-player match stats, in a stable order (for DB columns/rows)."""

PLAYER_STAT_API_KEYS: dict[str, str] = {
    name: str(field.alias) for name, field in PlayerMatchStats.model_fields.items()
}
"""snake_case name -> the API's display key ("kd_ratio" -> "K/D Ratio")."""

REQUIRED_PLAYER_STAT_FIELDS: tuple[str, ...] = tuple(
    name for name, field in PlayerMatchStats.model_fields.items() if field.is_required()
)
"""Stats every match has (never None)."""

LEGACY_PLAYER_STAT_KEYS: frozenset[str] = frozenset(
    {
        "Kills",
        "Deaths",
        "Assists",
        "Headshots",
        "Headshots %",
        "MVPs",
        "K/D Ratio",
        "K/R Ratio",
        "Triple Kills",
        "Quadro Kills",
        "Penta Kills",
        "Result",
    }
)
"""The API keys a match without extended stats carries (the classic scoreboard)."""

EXTENDED_PLAYER_STAT_FIELDS: tuple[str, ...] = tuple(
    name
    for name, field in PlayerMatchStats.model_fields.items()
    if field.alias not in LEGACY_PLAYER_STAT_KEYS
)
"""Stats that are None for matches without extended stats: damage and ADR (the lifetime "ADR" is
"Total Damage" over "Total Rounds with extended stats"), double kills, and the extended 33."""


class MatchPlayer(FaceitModel):
    player_id: str
    nickname: Str = ""
    stats: PlayerMatchStats = Field(alias="player_stats")


class TeamStats(FaceitModel):
    name: Str = Field(default="", alias="Team")
    team_win: OptBool = Field(default=None, alias="Team Win")
    team_headshots: OptFloat = Field(default=None, alias="Team Headshots")
    first_half_score: OptInt = Field(default=None, alias="First Half Score")
    second_half_score: OptInt = Field(default=None, alias="Second Half Score")
    overtime_score: OptInt = Field(default=None, alias="Overtime score")
    final_score: OptInt = Field(default=None, alias="Final Score")


class MatchTeam(FaceitModel):
    team_id: str
    premade: OptBool = None
    team_stats: TeamStats = Field(default_factory=TeamStats)
    players: Annotated[list[MatchPlayer], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )

    @property
    def name(self) -> str:
        return self.team_stats.name


class RoundStats(FaceitModel):
    map: Str = Field(default="", alias="Map")
    region: Str = Field(default="", alias="Region")
    rounds: OptInt = Field(default=None, alias="Rounds")
    score: Str = Field(default="", alias="Score")
    """"13 / 10" (first team / second team)."""
    winner: Str = Field(default="", alias="Winner")
    """Team id of the winner (a faction id of MatchDetails.teams)."""


class MatchRound(FaceitModel):
    """One map of the match (best_of 1 -> one element)."""

    match_id: str
    competition_id: Str = ""
    game_id: Str = "cs2"
    game_mode: Str = ""
    best_of: Int
    """Present in every real payload; a round without it is malformed."""
    match_round: OptInt = None
    played: OptBool = None
    round_stats: RoundStats = Field(default_factory=RoundStats)
    teams: Annotated[list[MatchTeam], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )

    @property
    def map(self) -> str:
        return self.round_stats.map

    @property
    def region(self) -> str:
        return self.round_stats.region

    @property
    def rounds(self) -> int | None:
        return self.round_stats.rounds

    @property
    def score(self) -> str:
        return self.round_stats.score

    @property
    def winner_team_id(self) -> str:
        return self.round_stats.winner


class MatchStats(FaceitModel):
    rounds: Annotated[list[MatchRound], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )

    @property
    def match_id(self) -> str | None:
        return self.rounds[0].match_id if self.rounds else None

    def players(self) -> list[tuple[MatchRound, MatchTeam, MatchPlayer]]:
        """Every (map, team, player) triple, flattened."""
        return [(rnd, team, p) for rnd in self.rounds for team in rnd.teams for p in team.players]


# --------------------------------------------------------------------------------------------------
# GET /search/players
# --------------------------------------------------------------------------------------------------


class SearchGame(FaceitModel):
    name: str
    skill_level: OptInt = None
    """Sent as a string by the API ("10")."""


class SearchPlayer(FaceitModel):
    player_id: str
    nickname: str
    country: Str = ""
    avatar: Str = ""
    verified: OptBool = None
    status: Str = ""
    games: Annotated[list[SearchGame], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )

    @property
    def cs2_skill_level(self) -> int | None:
        for game in self.games:
            if game.name == "cs2":
                return game.skill_level
        return None


class SearchPage(FaceitModel):
    items: Annotated[list[SearchPlayer], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )
    start: Int = 0
    end: Int = 0


# --------------------------------------------------------------------------------------------------
# Error bodies: {"errors": [{"message": ..., "code": ...}]}
# --------------------------------------------------------------------------------------------------


class ErrorItem(FaceitModel):
    message: Str = ""
    code: Str = ""


class ErrorBody(FaceitModel):
    errors: Annotated[list[ErrorItem], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )

    @property
    def message(self) -> str:
        return "; ".join(e.message for e in self.errors if e.message)


__all__ = [
    "EXTENDED_PLAYER_STAT_FIELDS",
    "LEGACY_PLAYER_STAT_KEYS",
    "PLAYER_STAT_API_KEYS",
    "PLAYER_STAT_FIELDS",
    "REQUIRED_PLAYER_STAT_FIELDS",
    "ErrorBody",
    "ErrorItem",
    "FaceitModel",
    "Faction",
    "GameProfile",
    "GameStatsPage",
    "GameStatsRow",
    "HistoryMatch",
    "HistoryPage",
    "HistoryPlayer",
    "HistoryTeam",
    "LifetimeStats",
    "MapSegment",
    "MapSegmentStats",
    "MatchDetails",
    "MatchFaction",
    "MatchPlayer",
    "MatchResults",
    "MatchRound",
    "MatchStats",
    "MatchTeam",
    "PlayerLifetimeStats",
    "PlayerMatchStats",
    "PlayerProfile",
    "RosterPlayer",
    "RoundStats",
    "SearchGame",
    "SearchPage",
    "SearchPlayer",
    "TeamStats",
]
