"""Ingestion: FACEIT data (real API or demo league) into the database, idempotent and crash-safe.

A player's sync walks their match history newer than the watermark, fetches each new match's
scoreboard (/matches/{id}/stats: all ten players at once) in batches (a match that another
player of the same run has claimed is not fetched again: this one waits for its outcome), and
writes every batch in one transaction with upserts, so a re-run adds nothing twice. The
watermark moves only after all of the player's batches are committed: a run killed at any point
loses nothing, and the next run skips the matches already stored and completes the rest.
Payloads that fail validation are quarantined with their error and fetched again; a match that
stays invalid is left out and the watermark stops before it, so a later sync tries again.

Full profiles of the other players in a tracked player's newest `roster_depth` matches are work
of their own: finish_player queues them (profile_fetches, in the watermark's transaction, chosen
from the stored matches, so every run queues the same players) and every run fetches whatever is
still pending, so a run killed before its profiles were fetched is repaired by the next ingest or
sync. Counts in summaries come from what was written: matches the insert found new, quarantine
rows committed.

FACEIT gives no Elo per match, only the current Elo. Each sync records the current Elo after the
newest match (observed) and estimates older values backwards with FACEIT's rule between equal
teams (+-25 per win or loss), marked as estimated.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from core import store
from core.cs2 import ELO_STEP
from core.faceit import (
    FaceitClient,
    FaceitError,
    HistoryMatch,
    HistoryTeam,
    InvalidPayload,
    MatchDetails,
    MatchStats,
    NotFound,
    PlayerProfile,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

PAYLOAD_ATTEMPTS = 3
PROFILE_CHUNK = 100
"""Profiles fetched at once and stored in one transaction."""
Progress = Callable[[str, int, int], None]
Step = Callable[[Callable[..., Any], str], Callable[..., Any]]


def run_directly(function: Callable[..., Any], _name: str) -> Callable[..., Any]:
    return function


def off_the_loop(function: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """`function` (database work) run in a thread, awaited: the event loop that paces the
    FACEIT requests goes on meanwhile. On the loop, every batch write and every player's finish
    stopped all requests while it ran: ~10% of the wall time, and so of the rate, at 100
    requests/s (bench/ingest.py). Writers running at once are safe: every upsert takes its rows in
    key order (core.store)."""

    @functools.wraps(function)
    async def in_thread(*args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(function, *args, **kwargs)

    return in_thread


class IngestError(Exception):
    """A user-facing reason why a player could not be ingested."""


@dataclass
class IngestSummary:
    players: int = 0
    new_matches: int = 0
    match_rows: int = 0
    skipped_matches: int = 0
    quarantined: int = 0
    requests: int = 0
    failed: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    def add(self, other: IngestSummary) -> None:
        self.players += other.players
        self.new_matches += other.new_matches
        self.match_rows += other.match_rows
        self.skipped_matches += other.skipped_matches
        self.quarantined += other.quarantined
        self.failed += other.failed
        self.messages += other.messages


@dataclass
class MatchBatch:
    """Rows of one batch of matches, ready to write in one transaction."""

    matches: list[dict[str, Any]] = field(default_factory=list)
    match_players: list[dict[str, Any]] = field(default_factory=list)
    players: dict[str, str] = field(default_factory=dict)
    failed: list[HistoryMatch] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    new_matches: int = 0
    """Matches this batch inserted (0 for those already stored, e.g. by a concurrent run)."""
    new_rows: int = 0
    """match_players rows of those new matches."""


def profile_row(profile: PlayerProfile) -> dict[str, Any]:
    return {
        "id": profile.player_id,
        "nickname": profile.nickname,
        "country": profile.country or None,
        "avatar": profile.avatar or None,
        "region": profile.region,
        "faceit_elo": profile.elo,
        "skill_level": profile.skill_level,
    }


def _faction_by_team(history: HistoryMatch) -> dict[str, str]:
    return {team.team_id: faction for faction, team in history.teams.items() if team.team_id}


def _faction_by_player(history: HistoryMatch) -> dict[str, str]:
    return {pid: faction for faction, team in history.teams.items() for pid in team.player_ids}


def _premade(from_stats: bool | None, history_team: HistoryTeam | None) -> bool | None:
    """The scoreboard's `premade`, else the history's team `type`, else unknown (None)."""
    if from_stats is not None:
        return from_stats
    return history_team.premade if history_team is not None else None


def match_rows(
    history: HistoryMatch, stats: MatchStats
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The matches row and the ten match_players rows of one match (first map of the match)."""
    played = stats.rounds[0]
    by_team = _faction_by_team(history)
    by_player = _faction_by_player(history)
    team_names: dict[str, str] = {}
    players: list[dict[str, Any]] = []
    for team in played.teams:
        faction = by_team.get(team.team_id)
        for player in team.players:
            player_faction = faction or by_player.get(player.player_id) or "faction1"
            team_names[player_faction] = team.name
            row: dict[str, Any] = {
                "match_id": history.match_id,
                "player_id": player.player_id,
                "nickname": player.nickname or None,
                "faction": player_faction,
                "team_name": team.name or None,
                "finished_at": history.finished_at,
                "map": played.map or None,
                "premade": _premade(team.premade, history.teams.get(player_faction)),
            }
            row.update(player.stats.as_row())
            players.append(row)
    score = history.score
    match = {
        "id": history.match_id,
        "map": played.map or None,
        "region": history.region or played.region or None,
        "competition_id": history.competition_id or played.competition_id or None,
        "competition_name": history.competition_name or None,
        "game_mode": history.game_mode or played.game_mode or None,
        "best_of": played.best_of,
        "started_at": history.started_at,
        "finished_at": history.finished_at,
        "score": played.score or None,
        "faction1_score": score.get("faction1"),
        "faction2_score": score.get("faction2"),
        "rounds": played.rounds,
        "winner_faction": history.winner,
        "faction1_team_id": history.teams["faction1"].team_id
        if "faction1" in history.teams
        else None,
        "faction2_team_id": history.teams["faction2"].team_id
        if "faction2" in history.teams
        else None,
        "faction1_name": team_names.get("faction1"),
        "faction2_name": team_names.get("faction2"),
    }
    return match, players


def history_of(details: MatchDetails) -> HistoryMatch:
    """A /matches/{id} answer in the shape of a history entry (what match_rows reads)."""
    return HistoryMatch.model_validate(
        {
            "match_id": details.match_id,
            "region": details.region,
            "competition_id": details.competition_id,
            "competition_name": details.competition_name,
            "competition_type": details.competition_type,
            "organizer_id": details.organizer_id,
            "status": details.status,
            "started_at": details.started_at,
            "finished_at": details.finished_at,
            "teams": {
                faction: {
                    "team_id": team.faction_id,
                    "nickname": team.name,
                    "type": team.type,
                    "players": [
                        {
                            "player_id": p.player_id,
                            "nickname": p.nickname,
                            "skill_level": p.skill_level,
                        }
                        for p in team.roster
                    ],
                }
                for faction, team in details.teams.items()
            },
            "results": details.results.model_dump(),
            "faceit_url": details.faceit_url,
        }
    )


def estimated_elo_rows(
    player_id: str, current_elo: int | None, newest_first: Sequence[tuple[str, datetime, bool]]
) -> list[dict[str, Any]]:
    """Elo after each match, newest first: observed for the newest, estimated backwards after."""
    if current_elo is None:
        return []
    rows = []
    elo = current_elo
    for index, (match_id, finished_at, won) in enumerate(newest_first):
        rows.append(
            {
                "player_id": player_id,
                "match_id": match_id,
                "elo": elo,
                "recorded_at": finished_at,
                "estimated": index > 0,
            }
        )
        elo -= ELO_STEP if won else -ELO_STEP
    return rows


_quarantined_here: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "quarantined_here", default=None
)
"""Quarantine rows written by the job running in this context (one player's ingest)."""

_slot_here: contextvars.ContextVar[asyncio.Semaphore | None] = contextvars.ContextVar(
    "slot_here", default=None
)
"""The ``ingest_many`` gate whose slot the job running in this context holds."""


@contextlib.asynccontextmanager
async def _slot_lent() -> AsyncIterator[None]:
    """Give this job's ``ingest_many`` slot to the next player while it only waits, and take one
    back before going on. Cancel-safe: a cancelled wait's shielded acquire still completes, and
    the gate's ``async with`` then gives that slot back."""
    gate = _slot_here.get()
    if gate is None:
        yield
        return
    gate.release()
    try:
        yield
    finally:
        await asyncio.shield(gate.acquire())


STORED, MISSING, FAILED = "stored", "missing", "failed"


def settle(claims: dict[str, asyncio.Future[str]], batch: MatchBatch) -> None:
    """Resolve the claims of a stored batch's matches with what became of each."""
    outcomes = {m["id"]: STORED for m in batch.matches}
    outcomes.update({match_id: MISSING for match_id in batch.missing})
    outcomes.update({m.match_id: FAILED for m in batch.failed})
    for match_id, outcome in outcomes.items():
        claim = claims.get(match_id)
        if claim is not None and not claim.done():
            claim.set_result(outcome)


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class Ingestor:
    """Pulls players and their matches through a FaceitClient into the database."""

    def __init__(
        self,
        client: FaceitClient,
        sessions: sessionmaker[Session],
        *,
        batch_size: int = 200,
        roster_depth: int = 10,
        concurrency: int | None = None,
        progress: Progress | None = None,
        step: Step = run_directly,
    ) -> None:
        """`step` wraps each unit of work; the Prefect flows pass one that makes it a task.

        `concurrency`: players ingested at a time (default: the client's max_concurrency). A
        player lists his history one page after another, so at the end of a run, when the
        players left have nothing new to fetch, only as many requests are in flight as players
        run at once: fewer players than the client's slots left its rate limit unused (4 at a
        time held 20-35 of 100 requests/s over a run's last minute).
        """
        self.client = client
        self.step = step
        self.quarantined = 0
        self.concurrency = concurrency if concurrency is not None else client.max_concurrency
        self.history_listed = 0
        self.matches_listed = 0
        self.matches_fetched = 0
        """History entries read, matches to fetch and fetched, over every player (progress)."""
        self._stored_players: set[str] = set()
        self._claims: dict[str, asyncio.Future[str]] = {}
        """Match id -> outcome (STORED, MISSING, FAILED) of the player of this ingestor that
        fetches it; the others running at once wait for it instead of fetching it again."""
        self._profiles_tried: set[str] = set()
        """Queued profiles this ingestor has fetched or is fetching (once per run each)."""
        self.changed_players: set[str] = set()
        """Players whose stored data (matches, Elo points, profile) this ingestor changed: the
        ones whose materialized serving features to rebuild (models.serving_features)."""
        self.sessions = sessions
        self.batch_size = batch_size
        self.roster_depth = roster_depth
        self.progress = progress or (lambda stage, done, total: None)

    # -- steps (each is one Prefect task in pipelines/ingest.py) ---------------------------------

    async def refetch_invalid(self, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """Run `fetch`, quarantining each invalid payload and fetching again (a few times)."""
        for attempt in range(1, PAYLOAD_ATTEMPTS + 1):
            try:
                return await fetch()
            except InvalidPayload as bad:
                self.quarantine(bad)
                if attempt == PAYLOAD_ATTEMPTS:
                    raise

    def quarantine(self, bad: InvalidPayload) -> None:
        logger.warning("quarantined an invalid payload from %s: %s", bad.endpoint, bad.error[:200])
        with self.sessions.begin() as session:
            store.quarantine(session, bad.endpoint, bad.raw_text, bad.error)
        self.quarantined += 1
        here = _quarantined_here.get()
        if here is not None:
            here[0] += 1

    async def fetch_profile(self, nickname: str) -> PlayerProfile:
        try:
            return await self.refetch_invalid(lambda: self.client.get_player_by_nickname(nickname))
        except NotFound:
            raise IngestError(
                f"No FACEIT player is called {nickname!r} (nicknames are case-sensitive)."
            ) from None

    async def fetch_profile_by_id(self, player_id: str) -> PlayerProfile:
        return await self.refetch_invalid(lambda: self.client.get_player(player_id))

    def store_profile(self, profile: PlayerProfile) -> None:
        with self.sessions.begin() as session:
            store.upsert_players(session, [profile_row(profile)])
            store.mark_profiles(session, [profile.player_id], status="fetched")
        self._stored_players.add(profile.player_id)  # no stub for it: a stub would conflict
        self.changed_players.add(profile.player_id)

    def watermark(self, player_id: str) -> datetime | None:
        with self.sessions() as session:
            state = store.ingest_state(session, player_id)
            return state.watermark if state else None

    async def new_matches(
        self, player_id: str, since: datetime | None
    ) -> tuple[list[HistoryMatch], list[HistoryMatch]]:
        """Finished matches since `since` (newest first), and those of them not stored yet."""
        found = await self.list_history(player_id, since)
        done = await off_the_loop(self.stored_complete)([m.match_id for m in found])
        return found, [m for m in found if m.match_id not in done]

    def stored_complete(self, match_ids: Sequence[str]) -> set[str]:
        """The ones of these matches already stored whole (nothing to fetch again)."""
        done: set[str] = set()
        with self.sessions() as session:
            for part in chunks(match_ids, 500):
                done |= store.complete_match_ids(session, part)
        return done

    async def list_history(self, player_id: str, since: datetime | None) -> list[HistoryMatch]:
        found: list[HistoryMatch] = []
        pages = self.client.iter_history(
            player_id, since, on_invalid=self.quarantine, invalid_attempts=PAYLOAD_ATTEMPTS
        )
        async for page in pages:
            found.extend(m for m in page.items if m.finished_at is not None)
            self.history_listed += len(page.items)
            self.progress("history", self.history_listed, 0)
        return found

    async def fetch_batch(self, history: Sequence[HistoryMatch]) -> MatchBatch:
        batch = MatchBatch()
        results = await asyncio.gather(*(self._fetch_stats(batch, m) for m in history))
        for item, stats in zip(history, results, strict=True):
            if stats is None:
                continue
            match, players = match_rows(item, stats)
            batch.matches.append(match)
            batch.match_players.extend(players)
            for row in players:
                batch.players.setdefault(row["player_id"], row["nickname"] or row["player_id"])
        return batch

    async def _fetch_stats(self, batch: MatchBatch, history: HistoryMatch) -> MatchStats | None:
        for _ in range(PAYLOAD_ATTEMPTS):
            try:
                stats = await self.client.get_match_stats(history.match_id)
            except InvalidPayload as bad:
                self.quarantine(bad)
                continue
            except NotFound:
                batch.missing.append(history.match_id)
                return None
            if stats.rounds and stats.rounds[0].teams:
                return stats
            batch.missing.append(history.match_id)
            return None
        batch.failed.append(history)
        return None

    async def ingest_batch(self, history: Sequence[HistoryMatch]) -> MatchBatch:
        """Fetch and store one batch of matches; safe to retry (upserts)."""
        batch = await self.fetch_batch(history)
        await off_the_loop(self.store_batch)(batch)
        return batch

    def store_batch(self, batch: MatchBatch) -> None:
        """Write the batch in one transaction; sets batch.new_matches / new_rows from the insert."""
        with self.sessions.begin() as session:
            store.relax_commit(session)
            stubs = [
                {"id": pid, "nickname": nick}
                for pid, nick in batch.players.items()
                if pid not in self._stored_players
            ]
            store.add_player_stubs(session, stubs)
            new = store.upsert_matches(session, batch.matches)
            store.upsert_match_players(session, batch.match_players)
        self._stored_players.update(batch.players)
        batch.new_matches = len(new)
        batch.new_rows = sum(1 for row in batch.match_players if row["match_id"] in new)
        self.changed_players.update(
            row["player_id"] for row in batch.match_players if row["match_id"] in new
        )

    def finish_player(
        self,
        profile: PlayerProfile,
        history: Sequence[HistoryMatch],
        failed: Sequence[HistoryMatch],
    ) -> None:
        """Record Elo and move the watermark, after every batch of the player is committed."""
        player_id = profile.player_id
        outcomes = sorted(
            (
                (m.match_id, m.finished_at, bool(m.won_by(player_id)))
                for m in history
                if m.finished_at
            ),
            key=lambda outcome: outcome[1],
            reverse=True,
        )
        watermark = outcomes[0][1] if outcomes else None
        if failed:
            oldest_failure = min(m.finished_at for m in failed if m.finished_at is not None)
            watermark = oldest_failure - timedelta(seconds=1)
        with self.sessions.begin() as session:
            store.upsert_elo_history(
                session,
                estimated_elo_rows(player_id, profile.elo, outcomes),
            )
            store.mark_sync(
                session,
                player_id,
                status="partial" if failed else "ok",
                watermark=watermark,
                error=f"{len(failed)} match(es) had invalid payloads" if failed else None,
            )
            roster = store.recent_roster_ids(session, player_id, self.roster_depth)
            store.queue_profiles(session, roster)
        self.changed_players.add(player_id)

    async def fetch_queued_profiles(self) -> int:
        """Fetch every queued (pending) profile not yet tried by this ingestor; returns how
        many were stored. Idempotent: an interrupted call leaves the rest pending for the next."""
        queued = await off_the_loop(self.pending_profiles)()
        pending = [p for p in queued if p not in self._profiles_tried]
        self._profiles_tried.update(pending)
        stored = 0
        for part in chunks(pending, PROFILE_CHUNK):
            results = await asyncio.gather(*(self._fetch_queued_profile(p) for p in part))
            profiles = [r for r in results if isinstance(r, PlayerProfile)]
            missing = [p for p, r in zip(part, results, strict=True) if isinstance(r, NotFound)]
            failed = [
                (p, r)
                for p, r in zip(part, results, strict=True)
                if isinstance(r, FaceitError) and not isinstance(r, NotFound)
            ]
            await off_the_loop(self.store_queued_profiles)(profiles, missing, failed)
            stored += len(profiles)
        return stored

    def pending_profiles(self) -> list[str]:
        with self.sessions() as session:
            return store.pending_profile_ids(session)

    def store_queued_profiles(
        self,
        profiles: Sequence[PlayerProfile],
        missing: Sequence[str],
        failed: Sequence[tuple[str, FaceitError]],
    ) -> None:
        """The outcome of one chunk of queued profiles, in one transaction."""
        with self.sessions.begin() as session:
            store.upsert_players(session, [profile_row(p) for p in profiles])
            store.mark_profiles(session, [p.player_id for p in profiles], status="fetched")
            store.mark_profiles(session, missing, status="missing")
            for player_id, error in failed:
                store.mark_profiles(session, [player_id], status="pending", error=str(error))

    async def _fetch_queued_profile(self, player_id: str) -> PlayerProfile | FaceitError:
        try:
            profile: PlayerProfile = await self.fetch_profile_by_id(player_id)
        except FaceitError as error:  # recorded on the queue row, tried again by a later run
            logger.warning("profile of %s not fetched: %s", player_id, error)
            return error
        return profile

    async def ingest_match(self, match_id: str) -> MatchBatch:
        """One finished match by id, at once (a FACEIT webhook said it finished): its
        scoreboard and its players' current profiles (Elo, level; one that fails stays as it
        was, the next sync fetches it). The
        players' watermarks do not move: their next sync finds it stored and skips it.
        Only what is not stored yet is asked for: a match stored with its scoreboard (an event
        delivered again, a retried event, a sync that came first) is not fetched again, nor the
        profile of a player fetched since the match finished (its Elo already counts it).
        Raises NotFound for an unknown match and IngestError for one not finished yet."""
        details: MatchDetails = await self.refetch_invalid(lambda: self.client.get_match(match_id))
        if not details.is_finished or details.finished_at is None:
            raise IngestError(f"Match {match_id} has not finished yet ({details.status}).")
        players = [pid for team in details.teams.values() for pid in team.player_ids]
        stored, fresh = await off_the_loop(self.stored_and_fresh)(
            match_id, players, details.finished_at
        )
        if stored:
            batch = MatchBatch()
        else:
            batch = await self.ingest_batch([history_of(details)])
            if batch.failed:
                raise IngestError(f"Match {match_id}: its scoreboard stayed invalid.")
        players = [p for p in players if p not in fresh]
        results = await asyncio.gather(*(self._fetch_queued_profile(p) for p in players))
        profiles = [r for r in results if isinstance(r, PlayerProfile)]
        await off_the_loop(self.store_queued_profiles)(profiles, [], [])
        return batch

    def stored_and_fresh(
        self, match_id: str, players: Sequence[str], finished_at: datetime
    ) -> tuple[bool, set[str]]:
        """Whether the match is stored whole, and which of its players' profiles were fetched
        since it finished."""
        with self.sessions() as session:
            stored = match_id in store.complete_match_ids(session, [match_id])
            return stored, store.profiles_fetched_since(session, players, finished_at)

    # -- whole jobs ------------------------------------------------------------------------------

    async def ingest_nickname(self, nickname: str, *, fetch_profiles: bool = True) -> IngestSummary:
        """One player by nickname; `fetch_profiles=False` leaves the queued teammates' profiles
        to the caller (a job of many players fetches them once, after all of its players)."""
        here = [0]
        _quarantined_here.set(here)  # this task's context: its own quarantine count
        profile = await self.step(self.fetch_profile, "fetch-profile")(nickname)
        summary = await self.sync_profile(profile, fetch_profiles=fetch_profiles)
        summary.quarantined = here[0]
        return summary

    async def sync_player_id(self, player_id: str, *, fetch_profiles: bool = True) -> IngestSummary:
        here = [0]
        _quarantined_here.set(here)
        profile = await self.step(self.fetch_profile_by_id, "fetch-profile")(player_id)
        summary = await self.sync_profile(profile, fetch_profiles=fetch_profiles)
        summary.quarantined = here[0]
        return summary

    async def fetch_claimed(
        self, matches: Sequence[HistoryMatch], summary: IngestSummary
    ) -> list[HistoryMatch]:
        """Claim `matches`, fetch and store them in batches, settle the claims; the failed ones."""
        claims = {m.match_id: asyncio.get_running_loop().create_future() for m in matches}
        self._claims.update(claims)
        self.matches_listed += len(matches)
        self.progress("matches", self.matches_fetched, self.matches_listed)
        failed: list[HistoryMatch] = []
        try:
            for part in chunks(matches, self.batch_size):
                batch = await self.step(self.ingest_batch, "ingest-batch")(part)
                settle(claims, batch)
                failed += batch.failed
                summary.new_matches += batch.new_matches
                summary.match_rows += batch.new_rows
                summary.skipped_matches += len(batch.missing) + len(batch.failed)
                self.matches_fetched += len(part)
                self.progress("matches", self.matches_fetched, self.matches_listed)
        finally:
            for claim in claims.values():  # a batch that raised: the others must not wait
                if not claim.done():
                    claim.set_result(FAILED)
        return failed

    async def sync_profile(
        self, profile: PlayerProfile, *, fetch_profiles: bool = True
    ) -> IngestSummary:
        summary = IngestSummary(players=1)
        if profile.cs2 is None:
            raise IngestError(f"{profile.nickname} has no CS2 profile on FACEIT.")
        await self.step(off_the_loop(self.store_profile), "store-profile")(profile)
        since = await off_the_loop(self.watermark)(profile.player_id)
        history, todo = await self.step(self.new_matches, "list-new-matches")(
            profile.player_id, since
        )
        mine = [m for m in todo if m.match_id not in self._claims]
        theirs = [m for m in todo if m.match_id in self._claims]
        failed = await self.fetch_claimed(mine, summary)
        # Matches another player of this run claimed: wait until they are stored (or not); one
        # that failed there is tried once more here, as a player of its own would. The wait
        # sends nothing, so the next player starts meanwhile: a player whose matches were all
        # claimed held a slot doing nothing while the next ones' history pages waited.
        waits = [self._claims[m.match_id] for m in theirs]
        if all(wait.done() for wait in waits):
            outcomes = [wait.result() for wait in waits]
        else:
            async with _slot_lent():
                outcomes = await asyncio.gather(*waits)
        again = [m for m, outcome in zip(theirs, outcomes, strict=True) if outcome == FAILED]
        failed += await self.fetch_claimed(again, summary)
        await self.step(off_the_loop(self.finish_player), "finish-player")(profile, history, failed)
        if fetch_profiles:
            await self.step(self.fetch_queued_profiles, "fetch-profiles")()
        if not history and since is None:
            summary.messages.append(f"{profile.nickname} has no CS2 matches on FACEIT yet.")
        return summary

    async def ingest_many(
        self, items: Sequence[str], job: Callable[[str], Awaitable[IngestSummary]]
    ) -> list[IngestSummary | Exception]:
        """`job` for every item, `concurrency` at a time; each result or the error it raised.

        Players running at once share the matches in flight (see sync_profile), so a match
        two of them played is fetched once.
        """
        gate = asyncio.Semaphore(self.concurrency)
        done = 0

        async def one(item: str) -> IngestSummary | Exception:
            nonlocal done
            async with gate:
                _slot_here.set(gate)  # this task's own context (gather wraps each in a task)
                try:
                    return await job(item)
                except Exception as exc:  # reported per item by the caller
                    return exc
                finally:
                    done += 1
                    self.progress("players", done, len(items))

        return list(await asyncio.gather(*(one(item) for item in items)))

    async def ingest_nicknames(self, nicknames: Sequence[str]) -> IngestSummary:
        """Every nickname; one that fails is reported in the summary, the others go on."""
        total = IngestSummary()
        quarantined = self.quarantined
        results = await self.ingest_many(
            nicknames, lambda nickname: self.ingest_nickname(nickname, fetch_profiles=False)
        )
        for nickname, result in zip(nicknames, results, strict=True):
            if isinstance(result, IngestError | FaceitError):
                total.failed.append(nickname)
                total.messages.append(str(result))
            elif isinstance(result, Exception):
                raise result
            else:
                total.add(result)
        await self.step(self.fetch_queued_profiles, "fetch-profiles")()
        total.quarantined = self.quarantined - quarantined  # rows written, failed players too
        return total

    async def sync_tracked(self, player_ids: Sequence[str] | None = None) -> IngestSummary:
        """Every tracked player (or only ``player_ids``: one batch of a fanned-out sync)."""
        if player_ids is None:
            with self.sessions() as session:
                player_ids = store.tracked_player_ids(session)
        total = IngestSummary()
        quarantined = self.quarantined
        results = await self.ingest_many(
            player_ids, lambda player_id: self.sync_player_id(player_id, fetch_profiles=False)
        )
        for player_id, result in zip(player_ids, results, strict=True):
            if isinstance(result, Exception):
                logger.error("sync of %s failed: %s", player_id, result)
                with self.sessions.begin() as session:
                    store.mark_sync(session, player_id, status="failed", error=str(result)[:2000])
                total.failed.append(player_id)
            else:
                total.add(result)
        await self.step(self.fetch_queued_profiles, "fetch-profiles")()
        total.quarantined = self.quarantined - quarantined
        return total
