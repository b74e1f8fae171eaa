"""FACEIT webhook events (App Studio subscriptions): the payloads of the match events we read.

FACEIT POSTs one JSON object per event::

    {"transaction_id": ..., "event": "match_status_finished", "event_id": ..., "third_party_id":
     ..., "app_id": ..., "timestamp": "2026-12-01T14:00:00Z", "retry_count": 0, "version": 1,
     "payload": {"id": "1-...", "game": "cs2", "region": "EU", "organizer_id": ...,
                 "entity": {"id", "name", "type"}, "version": 1,
                 "created_at": ..., "updated_at": ..., "started_at"?, "finished_at"?,
                 "teams": [{"id", "name", "type", "avatar", "leader_id", "roster": [
                     {"id", "nickname", "avatar", "game_id", "game_name", "game_skill_level",
                      "membership", "anticheat_required"}]}, {...}]}}

The teams are a list: the first is ``faction1``, the second ``faction2`` (as in the Data API's
/matches/{id}). A redelivery keeps the ``event_id`` (``retry_count`` grows), so the event id is
the idempotency key. The match lifecycle: ``match_object_created`` -> ``match_status_configuring``
(veto) -> ``match_status_ready`` (the server is up: the match starts) -> ``match_status_finished``;
or ``match_status_cancelled`` / ``match_status_aborted``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AliasChoices, BeforeValidator, Field

from core.faceit.schemas import (
    FaceitModel,
    OptInt,
    OptTimestamp,
    Str,
    _null_to_empty_list,
)

MATCH_STATES = {
    "match_object_created": "created",
    "match_status_configuring": "configuring",
    "match_status_ready": "ready",
    "match_status_finished": "finished",
    "match_status_cancelled": "cancelled",
    "match_status_aborted": "aborted",
}
"""The match events we handle and the state each one moves the match to."""

STATE_ORDER = ("created", "configuring", "ready", "finished", "cancelled", "aborted")
"""A match never moves back: an event delivered late does not undo a later state."""

FACTIONS = ("faction1", "faction2")


class WebhookPlayer(FaceitModel):
    player_id: str = Field(validation_alias=AliasChoices("id", "player_id"))
    nickname: Str = ""
    skill_level: OptInt = Field(
        default=None, validation_alias=AliasChoices("game_skill_level", "skill_level")
    )


class WebhookTeam(FaceitModel):
    team_id: Str = Field(default="", validation_alias=AliasChoices("id", "team_id"))
    name: Str = ""
    type: Str = ""
    roster: Annotated[list[WebhookPlayer], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )


class WebhookEntity(FaceitModel):
    id: Str = ""
    name: Str = ""
    type: Str = ""


class WebhookMatch(FaceitModel):
    match_id: str = Field(validation_alias=AliasChoices("id", "match_id"), min_length=1)
    game: Str = "cs2"
    region: Str = ""
    organizer_id: Str = ""
    entity: WebhookEntity = Field(default_factory=WebhookEntity)
    teams: Annotated[list[WebhookTeam], BeforeValidator(_null_to_empty_list)] = Field(
        default_factory=list
    )
    created_at: OptTimestamp = None
    started_at: OptTimestamp = None
    finished_at: OptTimestamp = None

    def lineups(self) -> dict[str, WebhookTeam]:
        """faction1/faction2 -> team (the first two teams of the payload)."""
        return dict(zip(FACTIONS, self.teams[:2], strict=False))

    def has_lineups(self) -> bool:
        teams = self.lineups()
        return len(teams) == 2 and all(team.roster for team in teams.values())


class WebhookEvent(FaceitModel):
    event_id: str = Field(min_length=1, max_length=64)
    event: str = Field(min_length=1, max_length=64)
    transaction_id: Str = ""
    third_party_id: Str = ""
    app_id: Str = ""
    timestamp: OptTimestamp = None
    retry_count: OptInt = None
    version: OptInt = None
    payload: WebhookMatch

    @property
    def state(self) -> str | None:
        """The match state this event moves to; None for an event we do not handle."""
        return MATCH_STATES.get(self.event)


def later_state(current: str | None, new: str) -> bool:
    """``new`` moves a match on from ``current`` (a late or repeated event does not)."""
    if current is None:
        return True
    return STATE_ORDER.index(new) > STATE_ORDER.index(current)


def as_timestamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
