"""Head-to-head and teammates, from the one history (models.history).

* :func:`head_to_head`: two players' matches together (same faction) and against each other
  (opposite factions), each as a record (matches, wins and losses of the first player, win
  rate) overall and per map.
* :func:`synergy`: with whom a player wins more (or less) than in their other matches. Every
  teammate with at least :data:`models.tilt.MIN_GROUP` matches together (and as many without)
  is tested with the tilt service's rule (models.tilt): a percentile bootstrap interval of
  ``win rate with - win rate without``, Bonferroni-adjusted over the teammates tested, so a
  player with no synergy at all gets any verdict in at most about 5% of histories. A verdict
  is given only when the interval excludes 0.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from core import crud
from core.db.schema import Player
from models import filters, history, tilt
from models.errors import AnalysisError, UnknownSubject
from models.filters import MatchFilter
from models.results import HeadToHead, MapRecord, PairRecord, Synergy, Teammate

COLUMNS = ("player_id", "match_id", "ts", "map", "faction", "result", "nickname", "premade")
SHOWN_TEAMMATES = 10
"""Teammates listed (most matches together first); every testable one is tested."""


def _record(rows: pl.DataFrame) -> PairRecord:
    """The record of ``rows`` (one per match, ``map`` and ``won`` the first player's result)."""
    maps = (
        rows.group_by("map")
        .agg(pl.len().alias("matches"), pl.col("won").sum().alias("wins"))
        .sort(["matches", "map"], descending=[True, False], nulls_last=True)
    )
    wins = int(rows["won"].sum()) if rows.height else 0
    return PairRecord(
        matches=rows.height,
        wins=wins,
        losses=rows.height - wins,
        win_rate=wins / rows.height if rows.height else None,
        maps=[
            MapRecord(
                map=m["map"],
                matches=m["matches"],
                wins=m["wins"],
                win_rate=m["wins"] / m["matches"],
            )
            for m in maps.iter_rows(named=True)
        ],
    )


def head_to_head(frame: pl.DataFrame, player: str, other: str) -> tuple[PairRecord, PairRecord]:
    """(together, against) of ``player`` with ``other``; wins are ``player``'s."""
    if player == other:
        raise AnalysisError("Pick two different players.")
    a = frame.filter(pl.col("player_id") == player).select(
        "match_id", "map", "faction", pl.col("result").fill_null(False).alias("won")
    )
    b = frame.filter(pl.col("player_id") == other).select(
        "match_id", pl.col("faction").alias("other_faction")
    )
    both = a.join(b, on="match_id").unique("match_id", keep="first")
    same = pl.col("faction") == pl.col("other_faction")
    return _record(both.filter(same)), _record(both.filter(~same))


def synergy(frame: pl.DataFrame, player: str) -> tuple[int, float | None, float, list[Teammate]]:
    """(matches, win rate, confidence, teammates) of ``player``: ``frame`` holds the player's
    matches with every player of them (``history.load(matches=...)``)."""
    mine = (
        frame.filter(pl.col("player_id") == player)
        .unique("match_id", keep="first")
        .sort("ts", "match_id")
        .select("match_id", "faction", pl.col("result").fill_null(False).cast(pl.Float64))
    )
    wins = mine["result"].to_numpy()
    order = {m: i for i, m in enumerate(mine["match_id"])}
    mates = (
        frame.filter(pl.col("player_id") != player)
        .join(mine.select("match_id", "faction"), on=["match_id", "faction"])
        .unique(["player_id", "match_id"])
        .group_by("player_id")
        .agg(pl.col("match_id"), pl.col("nickname").drop_nulls().last())
    )
    masks: list[tuple[str, str, np.ndarray]] = []
    for row in mates.iter_rows(named=True):
        mask = np.zeros(wins.size, dtype=bool)
        mask[[order[m] for m in row["match_id"]]] = True
        masks.append((row["player_id"], row["nickname"] or row["player_id"], mask))

    def testable(mask: np.ndarray) -> bool:
        return int(mask.sum()) >= tilt.MIN_GROUP and int((~mask).sum()) >= tilt.MIN_GROUP

    tested = sum(testable(mask) for _pid, _name, mask in masks)
    confidence = 1 - tilt.FAMILY_ERROR / max(1, tested)
    teammates = []
    for _pid, name, mask in masks:
        together, without = wins[mask], wins[~mask]
        interval = tilt._interval(together, without, confidence) if testable(mask) else None
        rate, other = float(together.mean()), (float(without.mean()) if without.size else None)
        verdict = None
        if interval is not None and interval.excludes_zero:
            word = "more" if interval.low > 0 else "less"
            verdict = (
                f"You win {word} often with {name}: {rate:.0%} in {together.size} matches "
                f"together against {other:.0%} in your other {without.size}."
            )
        teammates.append(
            Teammate(
                nickname=name,
                matches=int(together.size),
                wins=int(together.sum()),
                win_rate=rate,
                other_matches=int(without.size),
                other_win_rate=other,
                interval_low=None if interval is None else interval.low,
                interval_high=None if interval is None else interval.high,
                verdict=verdict,
            )
        )
    teammates.sort(key=lambda t: (-t.matches, t.nickname))
    baseline = float(wins.mean()) if wins.size else None
    return int(wins.size), baseline, confidence, teammates


def _first_players_matches(frame: pl.DataFrame, player_id: str, flt: MatchFilter) -> pl.DataFrame:
    """``frame`` (every player's rows of some matches) cut to the matches of ``player_id`` that
    ``flt`` keeps (the filter reads that player's rows: their result, their team)."""
    if not flt.active:
        return frame
    kept = filters.apply(frame.filter(pl.col("player_id") == player_id), flt)["match_id"]
    return frame.filter(pl.col("match_id").is_in(kept.implode()))


def head_to_head_for(
    sessions: sessionmaker[Session],
    player: str,
    other: str,
    flt: MatchFilter | None = None,
) -> HeadToHead:
    """Two stored players (nicknames or ids): their record together and against each other,
    over the first player's matches that ``flt`` keeps (every match by default)."""
    with sessions() as session:
        a, b = (_resolve(session, name) for name in (player, other))
        if a.id == b.id:
            raise AnalysisError("Pick two different players.")
        pair = history.load(session, [a.id, b.id], columns=COLUMNS)
    pair = _first_players_matches(pair, a.id, flt or MatchFilter())
    together, against = head_to_head(pair, a.id, b.id)
    return HeadToHead(player=a.nickname, other=b.nickname, together=together, against=against)


def synergy_for(
    sessions: sessionmaker[Session], player_id: str, flt: MatchFilter | None = None
) -> Synergy:
    """A stored player's teammates: matches and win rate together, and a verdict only when the
    difference from the player's other matches is bigger than its noise (over the player's
    matches that ``flt`` keeps; every match by default)."""
    flt = flt or MatchFilter()
    with sessions() as session:
        player = _resolve(session, player_id)
        mine = history.load(session, [player.id], columns=("match_id", *filters.COLUMNS))
        if not mine.height:
            raise AnalysisError(f"No matches stored yet for {player.nickname}.")
        mine = filters.apply(mine, flt)
        if not mine.height:
            raise AnalysisError(f"No matches of {player.nickname} with these filters.")
        frame = history.load(session, matches=list(mine["match_id"]), columns=COLUMNS)
    matches, rate, confidence, teammates = synergy(frame, player.id)
    return Synergy(
        nickname=player.nickname,
        matches=matches,
        win_rate=rate,
        confidence=confidence,
        min_matches=tilt.MIN_GROUP,
        tested=sum(t.interval_low is not None for t in teammates),
        teammates=teammates[:SHOWN_TEAMMATES],
    )


def _resolve(session: Session, name: str) -> Player:
    player = session.get(Player, name) or crud.find_player(session, name)
    if player is None:
        raise UnknownSubject(f"Unknown player {name!r}: search them on the Home page first.")
    return player
