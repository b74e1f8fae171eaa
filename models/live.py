"""The live worker's work: FACEIT webhook events -> live matches, pre-match predictions, scores.

Each queued event (core.live) moves its live match on. While the match has not started and its
lineups are known, the pre-match prediction is computed once, for every map of the pool, with
the veto advice (models.analysis), and stored with the match and in the track record
(models.registry.record_prediction: the veto pick's probability, one row per match and model
version). Players we have no matches of are ingested first. On ``finished`` the match is
ingested at once (no waiting for the next sync) and the prediction scored on the map played.

A failure (FACEIT unreachable, a match not finished on FACEIT's side yet) raises: the worker
puts the event back with a growing delay (core.live.retry_event).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from core import live, notify
from core.cache import FeatureCache
from core.cs2 import MAP_LABELS
from core.db import transaction
from core.db.schema import LiveMatch
from core.db.types import utcnow
from core.faceit import NotFound
from core.faceit.webhooks import WebhookEvent
from core.ingest import Ingestor
from core.resources import Resources
from core.sources import run_ingest
from models import registry
from models.dashboard import cached_features, player_row

if TYPE_CHECKING:  # the analyses load the ML stack: only the worker needs them, not the room page
    from models.analysis import AnalysisModels

log = logging.getLogger(__name__)

BEFORE_START = ("created", "configuring", "ready")
"""States in which the match has not started: ready is FACEIT's last event before play."""


@dataclass(frozen=True)
class Outcome:
    event: str
    match_id: str
    state: str | None
    predicted: bool = False
    ingested: bool = False
    scored: bool = False
    note: str | None = None


def lineup_ids(row: LiveMatch) -> dict[str, list[str]]:
    return {
        faction: [p["player_id"] for p in team.get("players", [])]
        for faction, team in (row.teams or {}).items()
    }


async def predict_live_match(
    resources: Resources, models: AnalysisModels, row: LiveMatch
) -> tuple[bool, str | None]:
    """Store the pre-match prediction of ``row`` (ingesting unknown players first); (stored,
    why not)."""
    from models.analysis import AnalysisError, analyze_lineups
    from models.serving_features import refreshing

    lineups = lineup_ids(row)
    everyone = [p for ids in lineups.values() for p in ids]
    with resources.sessions() as session:
        known = live.stored_players(session, everyone)
    unknown = [p for p in everyone if p not in known]
    if unknown:
        log.info("live match %s: ingesting %d unknown players", row.match_id, len(unknown))

        async def job(ingestor: Ingestor) -> Any:
            return await ingestor.sync_tracked(unknown)

        await run_ingest(resources, refreshing(resources, job))
    try:
        analysis = analyze_lineups(
            resources.sessions, models, lineups.get("faction1", []), lineups.get("faction2", [])
        )
    except AnalysisError as exc:
        with transaction(resources.sessions) as session:
            live.store_prediction(session, row.match_id, None, note=str(exc))
        return False, str(exc)
    version = analysis.model_version
    prediction = {
        "model_version": version,
        "per_map": {m: round(float(p), 4) for m, p in analysis.per_map.items()},
        "veto": analysis.veto,
        "pick": analysis.map,
        "p_pick": round(float(analysis.probability), 4),
        "elo_probability": round(float(analysis.elo_probability), 4),
        "factors": analysis.factors[:3],
    }
    with transaction(resources.sessions) as session:
        live.store_prediction(session, row.match_id, prediction)
        title, body = prediction_message(row, analysis.per_map, analysis.veto)
        notify.queue(session, everyone, "prediction", f"prediction:{row.match_id}", title, body)
        if version is not None:
            registry.record_prediction(
                session,
                row.match_id,
                registry.MATCH_OUTCOME,
                version,
                analysis.probability,
                map_name=analysis.map,
            )
    return True, None


def _team_names(row: LiveMatch) -> tuple[str, str]:
    teams = row.teams or {}
    return (
        str(teams.get("faction1", {}).get("name") or "Team 1"),
        str(teams.get("faction2", {}).get("name") or "Team 2"),
    )


def _map_label(map_name: str | None) -> str:
    return MAP_LABELS.get(map_name or "", map_name or "?")


def prediction_message(
    row: LiveMatch, per_map: dict[str, float], veto: dict[str, Any]
) -> tuple[str, str]:
    """The pre-match notification: who plays, the chances per map, the veto advice."""
    one, two = _team_names(row)
    lines = [f"{one} vs {two} is about to start."]
    for map_name, p in sorted(per_map.items(), key=lambda kv: -kv[1]):
        lines.append(f"{_map_label(map_name)}: {one} {p:.0%} / {two} {1 - p:.0%}")
    bans = ", ".join(_map_label(m) for m in veto.get("bans", []))
    lines.append(f"Veto advice for {one}: pick {_map_label(veto.get('pick'))}, ban {bans}.")
    return f"Prediction: {one} vs {two}", "\n".join(lines)


def result_message(
    row: LiveMatch, elo_before: dict[str, int | None], elo_after: dict[str, int | None]
) -> tuple[str, str]:
    """The result notification: the winner, the Elo changes, how the prediction did."""
    one, two = _team_names(row)
    winner = one if row.winner_faction == "faction1" else two
    lines = [f"{winner} won on {_map_label(row.map)}."]
    if row.p_played is not None:
        favourite = one if row.p_played >= 0.5 else two
        chance = max(row.p_played, 1 - row.p_played)
        verdict = "called it" if favourite == winner else "missed"
        lines.append(f"We gave {favourite} {chance:.0%} before the start: {verdict}.")
    else:
        lines.append("There was no prediction for this match.")
    for team in (row.teams or {}).values():
        for player in team.get("players", []):
            before, after = elo_before.get(player["player_id"]), elo_after.get(player["player_id"])
            if before is not None and after is not None and before != after:
                nick = player.get("nickname") or player["player_id"]
                lines.append(f"{nick}: {after} Elo ({after - before:+d})")
    return f"Result: {one} vs {two}", "\n".join(lines)


async def ingest_finished(resources: Resources, match_id: str) -> bool:
    """Ingest a finished match now (and rebuild its players' serving features); False when
    FACEIT does not know it (nothing to retry)."""
    from models.serving_features import refreshing

    async def job(ingestor: Ingestor) -> Any:
        return await ingestor.ingest_match(match_id)

    try:
        await run_ingest(resources, refreshing(resources, job))
    except NotFound:
        return False
    return True


def _analysis_models(resources: Resources) -> AnalysisModels:
    from models.analysis import AnalysisModels

    return AnalysisModels.of(resources)


async def handle_event(
    resources: Resources, payload: dict[str, Any], models: AnalysisModels | None = None
) -> Outcome:
    """Apply one delivered event (idempotent: applying it again changes nothing more)."""
    event = WebhookEvent.model_validate(payload)
    match = event.payload
    state = event.state
    if state is None:
        return Outcome(event.event, match.match_id, None, note="not a match event we handle")
    row = live.update_live_match(resources.sessions, match, state)
    predicted, ingested, scored, note = False, False, False, None
    if row.status in BEFORE_START and row.prediction is None and match.has_lineups():
        predicted, note = await predict_live_match(
            resources, models or _analysis_models(resources), row
        )
    if state == "finished":
        everyone = [p for ids in lineup_ids(row).values() for p in ids]
        with resources.sessions() as session:
            elo_before = live.player_elos(session, everyone)
        ingested = await ingest_finished(resources, match.match_id)
        if not ingested:
            note = "FACEIT does not know this match"
        with transaction(resources.sessions) as session:
            scored_row = live.score_live_match(session, match.match_id)
            scored = scored_row is not None
            if scored_row is not None:
                elo_after = live.player_elos(session, everyone)
                title, body = result_message(scored_row, elo_before, elo_after)
                key = f"result:{match.match_id}"
                notify.queue(session, everyone, "result", key, title, body)
    return Outcome(event.event, match.match_id, state, predicted, ingested, scored, note)


async def drain(
    resources: Resources, *, limit: int | None = None, models: AnalysisModels | None = None
) -> list[Outcome]:
    """Handle due events until none is left (or ``limit`` were handled); their outcomes."""
    settings = resources.settings
    done: list[Outcome] = []
    started = utcnow()  # an event that fails now waits for the next pass, however short the delay
    while limit is None or len(done) < limit:
        claimed = live.claim_event(resources.sessions, started)
        if claimed is None:
            break
        try:
            outcome = await handle_event(resources, claimed.payload, models)
        except Exception as exc:  # retried with backoff, given up after the last attempt
            status = live.retry_event(
                resources.sessions,
                claimed,
                f"{type(exc).__name__}: {exc}",
                max_attempts=settings.live_max_attempts,
                retry_seconds=settings.live_retry_seconds,
            )
            log.warning(
                "faceit event %s (%s) failed, %s: %s", claimed.id, claimed.event, status, exc
            )
            done.append(Outcome(claimed.event, claimed.match_id, None, note=f"error: {exc}"))
            continue
        live.finish_event(resources.sessions, claimed.id, outcome.note)
        log.info(
            "faceit event %s %s %s: predicted=%s ingested=%s scored=%s",
            claimed.id,
            claimed.event,
            claimed.match_id,
            outcome.predicted,
            outcome.ingested,
            outcome.scored,
        )
        done.append(outcome)
    return done


# ---- the match room ---------------------------------------------------------------------------


def _player_card(sessions: Any, cache: FeatureCache, player: dict[str, Any]) -> dict[str, Any]:
    """A lineup player: level, Elo, recent form and best maps (from what is stored)."""
    player_id = player["player_id"]
    with sessions() as session:
        try:
            row = player_row(session, player_id)
        except LookupError:  # not stored yet (the worker ingests unknown players first)
            row = {}
    card: dict[str, Any] = {
        "player_id": player_id,
        "nickname": row.get("nickname") or player.get("nickname") or player_id,
        "level": player.get("skill_level") or row.get("skill_level"),
        "elo": row.get("faceit_elo"),
        "form": None,
        "win_rate_last10": None,
        "best_maps": [],
    }
    if not row.get("nickname"):
        return card
    summary, maps, _form, _elo = cached_features(sessions, cache, player_id)
    if summary.height:
        first = summary.row(0, named=True)
        card["form"] = first.get("form")
        card["win_rate_last10"] = first.get("win_rate_last10")
    if maps.height and "win_rate" in maps.columns:
        strong = maps.filter(pl.col("matches") >= 3).sort("win_rate", descending=True).head(2)
        card["best_maps"] = [str(m) for m in strong["map"].to_list() if m]
    return card


def match_room(resources: Resources, match_id: str) -> dict[str, Any] | None:
    """Everything the match room shows of a live match: state, both lineups with each
    player's level, form and best maps, the pre-match prediction per map and veto advice, and
    once finished the result next to what was predicted. None for a match FACEIT never told us
    about."""
    with resources.sessions() as session:
        row = live.live_match(session, match_id.strip())
    if row is None:
        return None
    teams = {
        faction: {
            "name": team.get("name") or faction,
            "players": [
                _player_card(resources.sessions, resources.cache, p)
                for p in team.get("players", [])
            ],
        }
        for faction, team in (row.teams or {}).items()
    }
    prediction = row.prediction or None
    called = None
    if prediction is not None and row.p_played is not None and row.winner_faction:
        called = (row.p_played >= 0.5) == (row.winner_faction == "faction1")
    return {
        "match_id": row.match_id,
        "status": row.status,
        "competition": row.competition,
        "created_at": row.created_at,
        "started_at": row.started_at,
        "finished_at": row.finished_at,
        "teams": teams,
        "prediction": prediction,
        "predicted_at": row.predicted_at,
        "note": row.note,
        "map": row.map,
        "winner_faction": row.winner_faction,
        "p_played": row.p_played,
        "prediction_right": called,
        "scored_at": row.scored_at,
    }


def _everyone(row: LiveMatch) -> set[str]:
    return {p for ids in lineup_ids(row).values() for p in ids}


def current_matches(
    resources: Resources, limit: int = 20, followed: set[str] | None = None
) -> list[dict[str, Any]]:
    """The newest live matches (any state), for the match room's picker: those with one of
    ``followed`` in a lineup first (``followed`` True), newest first within each group."""
    with resources.sessions() as session:
        rows = live.recent_live_matches(session, limit)
    matches = [
        {
            "match_id": r.match_id,
            "status": r.status,
            "updated_at": r.updated_at,
            "lineups": {
                f: [p.get("nickname") or p["player_id"] for p in t.get("players", [])]
                for f, t in (r.teams or {}).items()
            },
            "followed": bool(followed and followed & _everyone(r)),
        }
        for r in rows
    ]
    return sorted(matches, key=lambda m: not m["followed"])


def room_default(recent: list[dict[str, Any]], shown: str | None) -> str | None:
    """The match the match room shows when the user has picked none: a followed player's match
    first (the one on show if it is one), else the match on show so far this session, else
    the newest. A followed player's match that arrives while another is on show takes over;
    any other new match does not."""
    ids = [m["match_id"] for m in recent]
    followed = [m["match_id"] for m in recent if m["followed"]]
    for group in (followed, ids):
        if shown in group:
            return shown
        if group:
            return group[0]
    return None
