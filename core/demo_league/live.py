"""The demo league plays live: a clock that schedules new matches among the league's players and
sends FACEIT's webhook events as each one moves created -> configuring -> ready -> finished.

A live game is made of league data, so every answer keeps the Data API's shapes: ten players
close in Elo (one drawn at random, the nine nearest), a map of the pool, a winner drawn from the
teams' Elo expectation, and a scoreboard borrowed from a played league match (its winning side's
stats go to the winning lineup, so score, kills and deaths stay consistent). While a game is
live the demo API answers ``/matches/{id}`` with its state (no results) and
``/matches/{id}/stats`` with 404; once finished, with the result and the scoreboard, as FACEIT
does. ``LiveGames`` is what the demo API reads (``create_app(league, live=...)``);
``LiveClock.tick(now)`` moves the games on and returns the webhook events due, which a
``Delivery`` sends (HTTP POST to a URL with the secret header, or straight into a local queue).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import numpy as np

from . import payloads as pl
from .sim import MAPS, League, elo_to_level
from .webhooks import webhook_event

log = logging.getLogger(__name__)

STAGES = (
    ("match_object_created", "CREATED"),
    ("match_status_configuring", "CONFIGURING"),
    ("match_status_ready", "ONGOING"),
    ("match_status_finished", "FINISHED"),
)
"""The webhook event sent when a game enters each stage, and its /matches/{id} status."""


@dataclass
class LiveGame:
    match_id: str
    players: list[int]
    """League indices: faction1 first (five each)."""
    map: str
    winner: int
    """0: faction1 won, 1: faction2."""
    template: int
    """The played league match whose scoreboard this game borrows."""
    faction_ids: tuple[str, str]
    scheduled_at: datetime
    stage: int = -1
    """Index in STAGES of the last event sent (-1: none yet)."""
    times: dict[str, datetime] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return STAGES[self.stage][1] if self.stage >= 0 else "SCHEDULED"

    @property
    def finished(self) -> bool:
        return self.stage == len(STAGES) - 1


class LiveGames:
    """The live games of one league, shared by the clock and the demo API (thread-safe)."""

    def __init__(self, league: League) -> None:
        self.league = league
        self._games: dict[str, LiveGame] = {}
        self._lock = threading.Lock()

    def add(self, game: LiveGame) -> None:
        with self._lock:
            self._games[game.match_id] = game

    def get(self, match_id: str) -> LiveGame | None:
        with self._lock:
            return self._games.get(match_id)

    def all(self) -> list[LiveGame]:
        with self._lock:
            return list(self._games.values())

    # -- the Data API's answers ------------------------------------------------------------------

    def _roster(self, game: LiveGame, faction: int) -> list[dict[str, Any]]:
        league = self.league
        rows = []
        for p in game.players[faction * 5 : faction * 5 + 5]:
            nick = league.nicknames[p]
            rows.append(
                {
                    "player_id": league.player_ids[p],
                    "nickname": nick,
                    "avatar": league.avatars[p],
                    "membership": "premium" if league.premium[p] else "free",
                    "game_player_id": str(int(league.steam_ids[p])),
                    "game_player_name": nick,
                    "game_skill_level": int(elo_to_level(int(league.elo[p]))),
                    "anticheat_required": True,
                }
            )
        return rows

    def _team_name(self, game: LiveGame, faction: int) -> str:
        return f"team_{self.league.nicknames[game.players[faction * 5]]}"

    def match(self, game: LiveGame) -> dict[str, Any]:
        """GET /matches/{id}: the state so far (results only once finished)."""
        body = pl.match(self.league, game.template)
        body["match_id"] = game.match_id
        body["chat_room_id"] = f"match-{game.match_id}"
        body["faceit_url"] = body.get("faceit_url", "").replace(
            self.league.match_ids[game.template], game.match_id
        )
        for f in (0, 1):
            roster = self._roster(game, f)
            body["teams"][f"faction{f + 1}"].update(
                faction_id=game.faction_ids[f],
                leader=roster[0]["player_id"],
                avatar=roster[0]["avatar"],
                roster=roster,
                name=self._team_name(game, f),
                type="",
            )
        body["status"] = game.status
        body["voting"]["map"]["pick"] = [game.map] if game.stage >= 1 else []
        body["scheduled_at"] = int(game.scheduled_at.timestamp())
        body["configured_at"] = self._at(game, "configuring")
        body["started_at"] = self._at(game, "ready")
        body["demo_url"] = []
        if game.finished:
            body["finished_at"] = self._at(game, "finished")
            score = self._score(game)
            body["results"] = {
                "winner": f"faction{game.winner + 1}",
                "score": {"faction1": score[0], "faction2": score[1]},
            }
        else:
            body["finished_at"] = 0
            body.pop("results", None)
        return body

    @staticmethod
    def _at(game: LiveGame, stage: str) -> int:
        """Unix seconds the game reached ``stage``; 0 (FACEIT's "not yet") before."""
        moment = game.times.get(stage)
        return int(moment.timestamp()) if moment is not None else 0

    def _template_sides(self, game: LiveGame) -> tuple[int, int]:
        """The template's faction that plays as faction1 and as faction2 of the game."""
        if int(self.league.winner[game.template]) == game.winner:
            return 0, 1
        return 1, 0

    def _score(self, game: LiveGame) -> tuple[int, int]:
        a, b = self._template_sides(game)
        score = self.league.score[game.template]
        return int(score[a]), int(score[b])

    def match_stats(self, game: LiveGame) -> dict[str, Any] | None:
        """GET /matches/{id}/stats: None (a 404) until the game is finished."""
        if not game.finished:
            return None
        body = pl.match_stats(self.league, game.template)
        played = body["rounds"][0]
        sides = self._template_sides(game)
        template_teams = played["teams"]
        teams = []
        for f, source in enumerate(sides):
            team = copy.deepcopy(template_teams[source])
            team["team_id"] = game.faction_ids[f]
            team["premade"] = False
            team["team_stats"]["Team"] = self._team_name(game, f)
            for slot, player in enumerate(team["players"]):
                p = game.players[f * 5 + slot]
                player["player_id"] = self.league.player_ids[p]
                player["nickname"] = self.league.nicknames[p]
            teams.append(team)
        score = self._score(game)
        played.update(match_id=game.match_id, teams=teams)
        played["round_stats"].update(
            Winner=game.faction_ids[game.winner],
            Score=f"{score[0]} / {score[1]}",
            Map=game.map,
        )
        return body


Delivery = Callable[[dict[str, Any]], Awaitable[bool]]
"""Sends one webhook event; True when it was accepted (a refusal is retried next tick)."""


def http_delivery(
    url: str, header: str, secret: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> Delivery:
    """POST each event to ``url`` with the subscription's secret header, as FACEIT does."""

    async def send(event: dict[str, Any]) -> bool:
        try:
            async with httpx.AsyncClient(transport=transport, timeout=10.0) as client:
                response = await client.post(url, json=event, headers={header: secret})
        except httpx.HTTPError as exc:
            log.warning("demo webhook to %s failed: %s", url, exc)
            return False
        if response.status_code >= 300:
            log.warning("demo webhook to %s answered %s", url, response.status_code)
        return response.status_code < 300

    return send


class LiveClock:
    """Schedules a new game every ``every`` seconds (at most ``concurrent`` live at once) and
    moves each one a stage on every ``stage_seconds``; ``tick(now)`` sends the events due."""

    def __init__(
        self,
        games: LiveGames,
        deliver: Delivery,
        *,
        every: float = 60.0,
        stage_seconds: float = 20.0,
        concurrent: int = 2,
        seed: int | None = None,
        players: list[str] | None = None,
        first_at: datetime | None = None,
        favourites: Callable[[], list[str]] | None = None,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        """``first_at``: no game is scheduled before ``first_at + every`` (default: the first
        tick schedules one). ``seed``: the same seed plays the same games (default: fresh ones
        on every start, so a restarted clock never reuses a match id). ``favourites``: asked
        on every tick for the players users follow; one who has had no game since they were
        first seen there gets one at once (a free slot allowed), without waiting for
        ``every``, so a newcomer who follows a player sees them play within a stage or two.
        ``ready``: no game is scheduled while it answers False (the models are training);
        the games already live play on."""
        self.games = games
        self.deliver = deliver
        self.every = every
        self.stage_seconds = stage_seconds
        self.concurrent = concurrent
        self.rng = np.random.default_rng(seed)
        league = games.league
        wanted = [league.player_index[p] for p in players or [] if p in league.player_index]
        self.focus = wanted
        self._static = set(wanted)
        """Players whose games the clock schedules first (one each, in turn), e.g. followed."""
        self._last_scheduled: datetime | None = first_at
        self._hold_until: datetime | None = first_at
        self.favourites = favourites
        self.ready = ready
        self._served: set[int] = set()
        """Favourite players (league indices) who had a game since they became favourites."""
        self._pending: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []

    def schedule(self, now: datetime, anchor: int | None = None) -> LiveGame:
        """A new game around ``anchor`` (a league index; default: the next focus player or a
        random one): the nine players nearest in Elo who are not in a live game."""
        league = self.games.league
        busy = {p for g in self.games.all() if not g.finished for p in g.players}
        if anchor is None:
            free_focus = [p for p in self.focus if p not in busy]
            if free_focus:
                anchor = free_focus[0]
                self.focus = [*self.focus[1:], self.focus[0]] if self.focus else []
            else:
                anchor = int(self.rng.integers(league.n_players))
        free = np.array([p for p in range(league.n_players) if p not in busy and p != anchor])
        gaps = np.abs(league.elo[free].astype(float) - float(league.elo[anchor]))
        nearest = free[np.argsort(gaps, kind="stable")[:9]].tolist()
        lineup = [anchor, *nearest]
        order = self.rng.permutation(10).tolist()
        players = [lineup[i] for i in order]
        elo = league.elo[players].astype(float)
        p_faction1 = 1.0 / (1.0 + 10 ** ((elo[5:].mean() - elo[:5].mean()) / 400.0))
        self._served.update(p for p in lineup if p in self.focus)
        game = LiveGame(
            match_id=f"1-{uuid.UUID(bytes=self.rng.bytes(16), version=4)}",
            players=[int(p) for p in players],
            map=str(MAPS[int(self.rng.integers(len(MAPS)))]),
            winner=0 if self.rng.random() < p_faction1 else 1,
            template=int(self.rng.integers(len(league.match_ids))),
            faction_ids=(str(uuid.uuid4()), str(uuid.uuid4())),
            scheduled_at=now,
        )
        self.games.add(game)
        self._last_scheduled = now
        return game

    def _owed(self, busy: set[int]) -> int | None:
        """The first favourite who has had no game since becoming one and is free now; the
        favourites also join the focus rotation. None without favourites or on error."""
        if self.favourites is None:
            return None
        try:
            wanted = self.favourites()
        except Exception:  # the database is down, say: play on without favourites
            log.exception("demo live clock: reading the followed players failed")
            return None
        index = self.games.league.player_index
        current = [index[p] for p in wanted if p in index]
        self._served &= set(current)  # unfollowed then followed again: owed again
        keep = self._static | set(current)
        self.focus = [
            *[p for p in self.focus if p in keep],
            *[p for p in current if p not in self.focus],
        ]
        return next((p for p in current if p not in self._served and p not in busy), None)

    def due(self, now: datetime) -> list[dict[str, Any]]:
        """Move the games on to ``now``: schedule a new one when it is time (or at once for a
        newly followed player), and return the webhook events of every stage reached (oldest
        first)."""
        live = [g for g in self.games.all() if not g.finished]
        held = (
            self._hold_until is not None and ((now - self._hold_until).total_seconds() < self.every)
        ) or (self.ready is not None and not self.ready())
        owed = self._owed({p for g in live for p in g.players})
        if len(live) < self.concurrent and owed is not None and not held:
            self.schedule(now, anchor=owed)
        elif (
            len(live) < self.concurrent
            and not held
            and (
                self._last_scheduled is None
                or (now - self._last_scheduled).total_seconds() >= self.every
            )
        ):
            self.schedule(now)
        events = []
        for game in self.games.all():
            while not game.finished:
                next_stage = game.stage + 1
                at = game.scheduled_at.timestamp() + next_stage * self.stage_seconds
                if at > now.timestamp():
                    break
                game.stage = next_stage
                event, _status = STAGES[next_stage]
                moment = datetime.fromtimestamp(at, tz=UTC)
                game.times[event.rsplit("_", 1)[-1]] = moment
                events.append(
                    webhook_event(
                        event,
                        self.games.match(game),
                        at=moment,
                        started_at=game.times.get("ready"),
                        finished_at=game.times.get("finished"),
                    )
                )
        return events

    async def tick(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Send the events due at ``now`` (and those refused before); the ones accepted."""
        self._pending += self.due(now or datetime.now(UTC))
        accepted, left = [], []
        for event in self._pending:
            if await self.deliver(event):
                accepted.append(event)
            else:
                event["retry_count"] = int(event.get("retry_count", 0)) + 1
                left.append(event)
        self._pending = left
        self.sent += accepted
        return accepted

    def run(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Tick every ``interval`` seconds until ``stop`` is set (a thread's target)."""
        while not stop.is_set():
            try:
                asyncio.run(self.tick())
            except Exception:  # keep the league playing
                log.exception("demo live clock tick failed")
            stop.wait(interval)

    def start(self, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run, args=(stop, interval), name="demo-live-clock", daemon=True
        )
        thread.start()
        return thread, stop


_LIVE: dict[int, LiveGames] = {}
_LIVE_LOCK = threading.Lock()


def live_games(league: League) -> LiveGames:
    """The live games of ``league`` in this process (one registry per league object)."""
    with _LIVE_LOCK:
        games = _LIVE.get(id(league))
        if games is None or games.league is not league:
            games = _LIVE[id(league)] = LiveGames(league)
        return games
