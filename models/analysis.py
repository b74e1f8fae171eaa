"""The premium analyses, as services the app pages and the JSON API share.

Every function takes the session factory and the process's model caches, resolves nicknames or
player ids, loads only the histories it needs and returns plain, JSON-ready data. Problems a
user can fix (an unknown nickname, no trained model yet) raise AnalysisError with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from core import crud
from core.cache import FeatureCache
from core.cs2 import MAP_POOL
from core.db import transaction
from core.db.schema import Player
from core.resources import Resources
from models import features, history, peers, registry, serving_features
from models import match_outcome as mo
from models.dashboard import cached_features
from models.errors import AnalysisError as AnalysisError
from models.errors import ModelNotTrained as ModelNotTrained
from models.errors import UnknownSubject as UnknownSubject
from models.improvement import plan_from_inputs, plan_inputs
from models.playstyle import PlaystyleModel, player_rates, rate_matrix
from models.results import (
    ImprovementPlan,
    PlaystyleProfile,
    ScoutedPlayer,
    ScoutingReport,
    SimilarPlayer,
    TeamMap,
)

MAX_LINEUP = 5


@dataclass
class AnalysisModels:
    """The promoted models, cached per process; a promotion is picked up without a restart."""

    match_outcome: registry.ChampionCache[mo.OutcomeModel]
    playstyle: registry.ChampionCache[PlaystyleModel]
    cache: FeatureCache | None = None
    """Where materialized serving features are looked up before their table (None: table)."""

    @classmethod
    def for_sessions(
        cls,
        sessions: sessionmaker[Session],
        ttl: float = 30.0,
        cache: FeatureCache | None = None,
    ) -> AnalysisModels:
        return cls(
            match_outcome=registry.ChampionCache(
                sessions, registry.MATCH_OUTCOME, mo.load_model, ttl=ttl
            ),
            playstyle=registry.ChampionCache(
                sessions, registry.PLAYSTYLE, PlaystyleModel.from_bytes, ttl=ttl
            ),
            cache=cache,
        )

    @classmethod
    def of(cls, resources: Resources) -> AnalysisModels:
        """The model caches of this process's resources (built on first use, then shared)."""
        return resources.cached(
            "analysis_models", lambda: cls.for_sessions(resources.sessions, cache=resources.cache)
        )

    def serving_key(self) -> serving_features.ServingKey:
        """The key materialized serving rows must carry: today's features, the promoted model."""
        return serving_features.ServingKey(self.match_outcome.version)

    def outcome_model(self) -> mo.OutcomeModel:
        model = self.match_outcome.get()
        if model is None and self.match_outcome.refused:
            raise ModelNotTrained(
                f"The promoted match-outcome model {self.match_outcome.refused} An operator "
                "runs `faceit-ai train`."
            )
        if model is None:
            raise ModelNotTrained(
                "No match-outcome model has been trained yet: an operator runs `faceit-ai train`."
            )
        return model


@dataclass
class LineupAnalysis:
    lineup_a: list[str]
    lineup_b: list[str]
    map: str
    probability: float
    elo_probability: float
    factors: list[str]
    per_map: dict[str, float]
    veto: dict[str, Any]
    model_version: int | None
    actual_winner: str | None = None
    details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # shallow: dataclasses.asdict deep-copies every factor and map (~0.3 ms a request),
        # and the callers only read the values
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _cleaned(names: Sequence[str]) -> list[str]:
    cleaned = [n.strip() for n in names if n and n.strip()]
    if not cleaned:
        raise AnalysisError("Name at least one player.")
    if len(cleaned) > MAX_LINEUP:
        raise AnalysisError(f"A lineup has at most {MAX_LINEUP} players, got {len(cleaned)}.")
    return cleaned


def _lineup(cleaned: Sequence[str], found: dict[str, Player]) -> list[Player]:
    unknown = [name for name in cleaned if name not in found]
    if unknown:
        raise UnknownSubject(
            "Unknown player(s): "
            + ", ".join(repr(u) for u in unknown)
            + ". Search them on the Home page first so their matches are fetched."
        )
    players = [found[name] for name in cleaned]
    if len({p.id for p in players}) != len(players):
        raise AnalysisError("A player appears twice in the lineup.")
    return players


def resolve_players(session: Session, names: Sequence[str]) -> list[Player]:
    """Players by FACEIT id or nickname (exact, then case-insensitive), in the given order
    (one query: core.crud.players_by_names)."""
    cleaned = _cleaned(names)
    return _lineup(cleaned, crud.players_by_names(session, cleaned))


def _lineups(
    session: Session, lineup_a: Sequence[str], lineup_b: Sequence[str]
) -> tuple[list[Player], list[Player]]:
    """Both lineups' players, looked up together (one query for the ten names)."""
    names_a, names_b = _cleaned(lineup_a), _cleaned(lineup_b)
    found = crud.players_by_names(session, [*names_a, *names_b])
    team_a, team_b = _lineup(names_a, found), _lineup(names_b, found)
    shared = {p.nickname for p in team_a} & {p.nickname for p in team_b}
    if shared:
        raise AnalysisError(f"{', '.join(sorted(shared))} cannot play on both teams.")
    return team_a, team_b


def _history(session: Session, players: Sequence[Player]) -> pl.DataFrame:
    frame = history.load(session, [p.id for p in players], columns=mo.HISTORY_COLUMNS)
    have = set(frame["player_id"].unique())
    missing = [p.nickname for p in players if p.id not in have]
    if missing:
        raise AnalysisError(f"No matches stored yet for: {', '.join(missing)}.")
    return frame


def _analysis(
    model: mo.OutcomeModel,
    version: int | None,
    team_a: list[Player],
    team_b: list[Player],
    map_name: str | None,
    matches: pl.DataFrame,
    current_elo: dict[str, float] | None,
) -> LineupAnalysis:
    if len(team_a) != len(team_b):
        raise AnalysisError(str(mo.UnequalLineups(len(team_a), len(team_b))))
    ids_a, ids_b = [p.id for p in team_a], [p.id for p in team_b]
    veto = mo.veto_advice(model, ids_a, ids_b, matches, current_elo=current_elo)
    chosen = map_name or veto["pick"]
    if chosen not in MAP_POOL:
        raise AnalysisError(f"Unknown map {chosen!r}; the active pool is {', '.join(MAP_POOL)}.")
    prediction = mo.predict(model, ids_a, ids_b, chosen, matches, current_elo=current_elo)
    return LineupAnalysis(
        lineup_a=[p.nickname for p in team_a],
        lineup_b=[p.nickname for p in team_b],
        map=chosen,
        probability=prediction.probability,
        elo_probability=prediction.elo_probability,
        factors=prediction.sentences,
        per_map=veto["probabilities"],
        veto={"pick": veto["pick"], "bans": veto["bans"]},
        model_version=version,
        details=prediction.factors,
    )


def analyze_lineups(
    sessions: sessionmaker[Session],
    models: AnalysisModels,
    lineup_a: Sequence[str],
    lineup_b: Sequence[str],
    map_name: str | None = None,
) -> LineupAnalysis:
    """Win probability of lineup A against lineup B (on a map, or per map with veto advice),
    from the players' materialized serving features (models.serving_features: ten rows, one
    batched predict for every map; a stale row is rebuilt from the history first)."""
    model = models.outcome_model()
    key = models.serving_key()
    with sessions() as session:
        team_a, team_b = _lineups(session, lineup_a, lineup_b)
        if len(team_a) != len(team_b):
            raise AnalysisError(str(mo.UnequalLineups(len(team_a), len(team_b))))
        everyone = [*team_a, *team_b]
        inputs = serving_features.lineup_inputs(
            session, sessions, models.cache, [p.id for p in everyone], key
        )
    missing = [p.nickname for p in everyone if p.id not in inputs]
    if missing:
        raise AnalysisError(f"No matches stored yet for: {', '.join(missing)}.")
    ids_a, ids_b = [p.id for p in team_a], [p.id for p in team_b]
    odds = serving_features.lineup_odds(model, ids_a, ids_b, inputs)
    ranked = sorted(odds.maps, key=lambda m: (-odds.of(m), m))
    chosen = map_name or ranked[0]
    if chosen not in odds.maps:
        raise AnalysisError(f"Unknown map {chosen!r}; the active pool is {', '.join(MAP_POOL)}.")
    factors = mo.explain(model, odds.row(chosen), chosen)
    return LineupAnalysis(
        lineup_a=[p.nickname for p in team_a],
        lineup_b=[p.nickname for p in team_b],
        map=chosen,
        probability=odds.of(chosen),
        elo_probability=odds.elo_probability,
        factors=mo.explanation_sentences(factors),
        per_map={m: odds.of(m) for m in ranked},
        veto={"pick": ranked[0], "bans": list(reversed(ranked[-2:]))},
        model_version=models.match_outcome.version,
        details=factors,
    )


def analyze_match(
    sessions: sessionmaker[Session], models: AnalysisModels, match_id: str
) -> LineupAnalysis:
    """The pre-match prediction of a stored match, from what was known before it started."""
    model = models.outcome_model()
    with sessions() as session:
        match, roster = crud.scoreboard(session, match_id.strip())
        if match is None:
            raise UnknownSubject(f"No stored match has the id {match_id!r}.")
        teams: dict[str, list[Player]] = {"faction1": [], "faction2": []}
        for row in roster:
            player = session.get(Player, row.player_id)
            if player is not None and row.faction in teams:
                teams[row.faction].append(player)
        players = history.load(
            session, [p.id for t in teams.values() for p in t], columns=mo.HISTORY_COLUMNS
        )
    kickoff = match.started_at or match.finished_at
    # what was known before the match started
    earlier = (
        players.filter(pl.col("ts") < int(history.to_utc(kickoff).timestamp()))
        if kickoff is not None
        else players.clear()
    )
    analysis = _analysis(
        model,
        models.match_outcome.version,
        teams["faction1"],
        teams["faction2"],
        match.map if match.map in MAP_POOL else None,
        earlier,
        None,
    )
    analysis.actual_winner = match.winner_faction
    version = models.match_outcome.version
    if match.winner_faction is None and version is not None:
        # a forecast for a match still to be played: part of the public live record
        with transaction(sessions) as session:
            registry.record_prediction(
                session,
                match.id,
                registry.MATCH_OUTCOME,
                version,
                analysis.probability,
                analysis.map,
            )
    return analysis


def playstyle_for(
    sessions: sessionmaker[Session], models: AnalysisModels, player_id: str
) -> PlaystyleProfile:
    """Role, affinity to every style, rates, and the players who play most alike."""
    model = models.playstyle.get()
    if model is None:
        raise ModelNotTrained("No playstyle model has been trained yet: run `faceit-ai train`.")
    marks = peers.peer_benchmarks(sessions, player_id)  # before a read session is open
    with sessions() as session:
        player = session.get(Player, player_id)
        if player is None:
            raise UnknownSubject("Unknown player.")
        if player_id not in model.player_ids:
            mine = history.load(session, [player_id], columns=features.INPUT_COLUMNS)
            rates = player_rates(mine, min_matches=1)
            if not rates.height:
                raise AnalysisError(f"No matches stored yet for {player.nickname}.")
            raw = rate_matrix(rates, model.features, model.mean)
            role = model.names[int(model.assign(raw)[0])]
            return PlaystyleProfile(
                nickname=player.nickname,
                role=role,
                note="Profiled against the last trained styles.",
                benchmarks=marks,
            )
        profile = model.profile(player_id)
        similar = model.players_like(player_id, k=5)
        names = crud.nicknames(session, [p for p, _ in similar])
    return PlaystyleProfile(
        nickname=player.nickname,
        role=profile["role"],
        affinity=profile["affinity"],
        rates=profile["rates"],
        z_scores=profile["z_scores"],
        similar=[
            SimilarPlayer(nickname=names.get(pid, pid), distance=round(dist, 3))
            for pid, dist in similar
        ],
        benchmarks=marks,
    )


def improvement_for(
    sessions: sessionmaker[Session], models: AnalysisModels, player_id: str
) -> ImprovementPlan:
    """Peer percentiles from the peer table (models.peers: the player's level and region, else
    level), what separates wins from losses, and a 20-match Elo forecast. The player's own
    inputs (drivers, recent record) come with their member row of the peer table, current by
    its watermark; only a player without one (no level, or a row built before rows held
    them) has their own history loaded."""
    found = peers.peer_lookup(sessions, player_id)
    inputs, elo = found.plan, found.faceit_elo
    if inputs is None:
        with sessions() as session:
            player = session.get(Player, player_id)
            if player is None:
                raise UnknownSubject("Unknown player.")
            frame = history.load(session, [player_id], columns=peers.PLAN_COLUMNS)
        if not frame.height:
            raise AnalysisError(f"No matches stored yet for {player.nickname}.")
        inputs, elo = plan_inputs(frame, player_id), player.faceit_elo
    plan = plan_from_inputs(
        player_id, inputs, found.benchmarks, current_elo=float(elo) if elo else None
    )
    return ImprovementPlan.model_validate({**plan, "nickname": found.benchmarks.nickname})


def scouting_report(
    sessions: sessionmaker[Session],
    cache: FeatureCache,
    models: AnalysisModels,
    lineup: Sequence[str],
) -> ScoutingReport:
    """An opponent team's maps (combined record), roles and recent form."""
    with sessions() as session:
        team = resolve_players(session, lineup)
    playstyle = models.playstyle.get()
    players: list[ScoutedPlayer] = []
    map_frames: list[pl.DataFrame] = []
    for player in team:
        summary, maps, _form, _elo = cached_features(sessions, cache, player.id)
        s = summary.row(0, named=True) if summary.height else {}
        role = None
        if playstyle is not None and player.id in playstyle.player_ids:
            role = playstyle.role_of(player.id)
        players.append(
            ScoutedPlayer(
                nickname=player.nickname,
                elo=player.faceit_elo,
                level=player.skill_level,
                role=role,
                matches=s.get("matches_lifetime"),
                kd_last10=s.get("kd_last10"),
                win_rate_last10=s.get("win_rate_last10"),
                form=s.get("form"),
                benchmarks=peers.peer_benchmarks(sessions, player.id),
            )
        )
        if maps.height:
            map_frames.append(maps.select("map", "matches", "wins"))
    team_maps: list[TeamMap] = []
    if map_frames:
        combined = (
            pl.concat(map_frames)
            .filter(pl.col("map").is_not_null())
            .group_by("map")
            .agg(pl.col("matches").sum(), pl.col("wins").sum())
            .with_columns((pl.col("wins") / pl.col("matches")).alias("win_rate"))
            .sort("matches", descending=True)
        )
        team_maps = [TeamMap.model_validate(row) for row in combined.to_dicts()]
    comfortable = [m.map for m in team_maps if m.matches >= 3][:2]
    weak = sorted((m for m in team_maps if m.matches >= 3), key=lambda m: m.win_rate)[:2]
    return ScoutingReport(
        players=players,
        maps=team_maps,
        expect_them_to_pick=comfortable,
        their_weakest_maps=[m.map for m in weak],
    )
