"""FACEIT webhook payloads of demo-league matches (the shape FACEIT's App Studio sends).

``webhook_event`` turns a /matches/{id} body into the event FACEIT would POST for it: the
envelope (``transaction_id``, ``event``, ``event_id``, ``third_party_id``, ``app_id``,
``timestamp``, ``retry_count``, ``version``) around a ``payload`` whose ``teams`` is a list
(faction1 first) of ``{id, name, type, avatar, leader_id, roster: [{id, nickname, avatar,
game_id, game_name, game_skill_level, membership, anticheat_required}]}``. See
core.faceit.webhooks for how the product reads it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

DEMO_APP_ID = "00000000-0000-4000-8000-00000000de70"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _team(team: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": team.get("faction_id", ""),
        "name": team.get("name", ""),
        "type": team.get("type", ""),
        "avatar": team.get("avatar", ""),
        "leader_id": team.get("leader", ""),
        "co_leader_id": "",
        "roster": [
            {
                "id": p["player_id"],
                "nickname": p.get("nickname", ""),
                "avatar": p.get("avatar", ""),
                "game_id": p.get("game_player_id", ""),
                "game_name": p.get("game_player_name", ""),
                "game_skill_level": p.get("game_skill_level"),
                "membership": p.get("membership", "free"),
                "anticheat_required": True,
            }
            for p in team.get("roster", [])
        ],
        "substitutions": 0,
        "substitutes": None,
    }


def webhook_event(
    event: str,
    match: dict[str, Any],
    *,
    at: datetime,
    event_id: str | None = None,
    retry_count: int = 0,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
) -> dict[str, Any]:
    """The ``event`` FACEIT sends for ``match`` (a /matches/{id} body) at ``at``."""
    teams = match.get("teams") or {}
    payload: dict[str, Any] = {
        "id": match["match_id"],
        "organizer_id": match.get("organizer_id", "faceit"),
        "region": match.get("region", ""),
        "game": match.get("game", "cs2"),
        "version": 1,
        "entity": {
            "id": match.get("competition_id", ""),
            "name": match.get("competition_name", ""),
            "type": match.get("competition_type", "matchmaking"),
        },
        "teams": [_team(teams[f]) for f in ("faction1", "faction2") if f in teams],
        "created_at": _iso(at),
        "updated_at": _iso(at),
    }
    if event in ("match_status_ready", "match_status_finished"):
        payload["started_at"] = _iso(started_at or at)
    if event == "match_status_finished":
        payload["finished_at"] = _iso(finished_at or at)
    return {
        "transaction_id": str(uuid.uuid4()),
        "event": event,
        "event_id": event_id or str(uuid.uuid4()),
        "third_party_id": str(uuid.uuid4()),
        "app_id": DEMO_APP_ID,
        "timestamp": _iso(at),
        "retry_count": retry_count,
        "version": 1,
        "payload": payload,
    }
