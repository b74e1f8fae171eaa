"""The one match history every analysis reads: one row per player per match.

Everything in models/ (dashboards, the match-outcome features, playstyle, the improvement plan,
scouting) starts from this frame, so the same player gets the same numbers everywhere. The
frame comes from the database (:func:`load`) or from the demo league (:func:`from_league`) in
the same schema, :data:`HISTORY_SCHEMA`:

* ``player_id``, ``match_id``, ``nickname``, ``team_name`` (str);
* ``started_at``, ``finished_at`` (Datetime[us, UTC]; ``finished_at`` is the player row's, else
  the match's) and ``ts`` (Int64, epoch seconds of the match start, else of its end): the time
  order every window and every "before this match" uses;
* ``map``, ``score`` (str), ``rounds``, ``faction1_score``, ``faction2_score`` (Int32),
  ``winner_faction``, ``faction`` (``"faction1"``/``"faction2"``) and ``team`` (Int8, 1/2);
* ``result`` (Boolean, the player's team won), ``premade`` (Boolean, nullable: the player's team
  was one party, as the API exposes it);
* ``elo_before`` (Int64, nullable: only a source that knows it fills it) and ``elo_after``
  (Int64, nullable: the Elo history point recorded for the match);
* ``mates_elo`` (Float64, nullable): the mean Elo the player's teammates had before the match,
  from their recorded points (:func:`pre_match_elo`), whichever rows are loaded; null when no
  teammate's point is recorded (a kill share is relative to the teammates: this says how
  strong they were);
* ``extended`` (Boolean): the match has FACEIT's extended stats (recorded since August 2024);
* the basic stats (Int32 counts, Float64 ``headshots_pct``, ``kd_ratio``, ``kr_ratio``) and the
  extended stats (nullable Int32 counts, nullable Float64 rates). **A stat FACEIT did not record
  is null, never 0**: models/features.py leaves such a match out of that stat's numerator and
  denominator alike.

Sorted by ``player_id``, ``ts``, ``match_id``. SQL of match histories lives here only (the
model registry keeps its own tables).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models.filters import MatchFilter

UTC_DATETIME = pl.Datetime("us", "UTC")

BASE_COUNTS = (
    "kills",
    "deaths",
    "assists",
    "headshots",
    "mvps",
    "double_kills",
    "triple_kills",
    "quadro_kills",
    "penta_kills",
)
EXTENDED_COUNTS = (
    "damage",
    "first_kills",
    "entry_count",
    "entry_wins",
    "one_v_one_count",
    "one_v_one_wins",
    "one_v_two_count",
    "one_v_two_wins",
    "clutch_kills",
    "utility_count",
    "utility_successes",
    "utility_damage",
    "utility_enemies",
    "flash_count",
    "flash_successes",
    "enemies_flashed",
    "sniper_kills",
    "pistol_kills",
    "knife_kills",
    "zeus_kills",
)
BASE_RATES = ("headshots_pct", "kd_ratio", "kr_ratio")
EXTENDED_RATES = (
    "adr",
    "match_entry_rate",
    "match_entry_success_rate",
    "match_1v1_win_rate",
    "match_1v2_win_rate",
    "utility_usage_per_round",
    "utility_success_rate",
    "utility_damage_per_round",
    "utility_damage_success_rate",
    "flash_success_rate",
    "flashes_per_round",
    "enemies_flashed_per_round",
    "sniper_kill_rate_per_match",
    "sniper_kill_rate_per_round",
)

HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "player_id": pl.String(),
    "match_id": pl.String(),
    "started_at": UTC_DATETIME,
    "finished_at": UTC_DATETIME,
    "ts": pl.Int64(),
    "map": pl.String(),
    "rounds": pl.Int32(),
    "score": pl.String(),
    "faction1_score": pl.Int32(),
    "faction2_score": pl.Int32(),
    "winner_faction": pl.String(),
    "faction": pl.String(),
    "team": pl.Int8(),
    "team_name": pl.String(),
    "nickname": pl.String(),
    "result": pl.Boolean(),
    "premade": pl.Boolean(),
    "elo_before": pl.Int64(),
    "elo_after": pl.Int64(),
    "mates_elo": pl.Float64(),
    "extended": pl.Boolean(),
    **{c: pl.Int32() for c in BASE_COUNTS},
    **{c: pl.Float64() for c in BASE_RATES},
    **{c: pl.Int32() for c in EXTENDED_COUNTS},
    **{c: pl.Float64() for c in EXTENDED_RATES},
}

ELO_SCHEMA: dict[str, pl.DataType] = {
    "player_id": pl.String(),
    "match_id": pl.String(),
    "elo": pl.Int32(),
    "recorded_at": UTC_DATETIME,
    "estimated": pl.Boolean(),
}
"""Columns and dtypes of :func:`load_elo` (one point per recorded Elo)."""

SORT = ("player_id", "ts", "match_id")
"""The frame's order (every window and "before this match" relies on it)."""


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=HISTORY_SCHEMA)


# ---- from the database ---------------------------------------------------------------------


# what a derived column of the frame is computed from (columns of the query below)
_DERIVED: dict[str, tuple[str, ...]] = {
    "finished_at": ("player_finished_at", "finished_at"),
    "map": ("player_map", "map"),
    "ts": ("started_at", "player_finished_at", "finished_at"),
    "team": ("faction",),
    "extended": ("entry_count",),
    "elo_before": (),
    "elo_after": (),
    "mates_elo": ("mates_elo",),
}
_ALWAYS = ("player_id", "match_id", "ts")


def columns_for(wanted: Sequence[str] | None) -> list[str]:
    """The frame's columns for ``wanted`` (all when None), in schema order; ``player_id``,
    ``match_id`` and ``ts`` are always there (every window and join needs them)."""
    if wanted is None:
        return list(HISTORY_SCHEMA)
    unknown = sorted(set(wanted) - set(HISTORY_SCHEMA))
    if unknown:
        raise ValueError(f"not columns of the match history: {unknown}")
    keep = set(wanted) | set(_ALWAYS)
    return [c for c in HISTORY_SCHEMA if c in keep]


def _needed(keep: Sequence[str]) -> set[str]:
    """The query's columns the frame columns ``keep`` are made from."""
    return {source for c in keep for source in _DERIVED.get(c, (c,))}


def pre_match_elo(elo_after: Any, won: Any) -> Any:
    """A player's Elo before a match from the point recorded after it: one FACEIT step
    (core.cs2.ELO_STEP) back, down for a win and up for a loss, null without a result (SQL or
    polars expressions)."""
    from core.cs2 import ELO_STEP

    if isinstance(won, pl.Expr):
        return elo_after - ELO_STEP * (2 * won.cast(pl.Int32) - 1)
    from sqlalchemy import case

    return elo_after - case((won.is_(True), ELO_STEP), (won.is_(False), -ELO_STEP), else_=None)


def mates_elo_sql() -> Any:
    """``mates_elo`` of a ``match_players`` row: a scalar subquery over the other rows of its
    match and faction (every teammate stored, loaded or not) and their Elo points."""
    from sqlalchemy import Float, cast, func, select
    from sqlalchemy.orm import aliased

    from core.db.schema import EloHistory, MatchPlayer

    mp = MatchPlayer.__table__.c
    mate = aliased(MatchPlayer)
    point = aliased(EloHistory)
    return (
        select(cast(func.avg(pre_match_elo(point.elo, mate.result)), Float))
        .select_from(mate)
        .join(point, (point.player_id == mate.player_id) & (point.match_id == mate.match_id))
        .where(
            mate.match_id == mp.match_id,
            mate.faction == mp.faction,
            mate.player_id != mp.player_id,
        )
        .correlate(MatchPlayer.__table__)
        .scalar_subquery()
    )


def _mates_elo_window(elo: Any, mp: Any) -> Any:
    """:func:`mates_elo_sql` over the rows of the query itself (which holds whole matches):
    the faction's sum of pre-match Elos minus the row's own, over their count minus its own."""
    from sqlalchemy import Float, Integer, cast, func

    pre = cast(pre_match_elo(elo, mp.result), Float)
    faction = (mp.match_id, mp.faction)
    total = func.sum(pre).over(partition_by=faction) - func.coalesce(pre, 0.0)
    mates = func.count(pre).over(partition_by=faction) - cast(pre.is_not(None), Integer)
    return cast(total / func.nullif(mates, 0), Float)


def queries(keep: Sequence[str]) -> tuple[Any, Any, list[Any]]:
    """The SELECTs :func:`load_joined` runs for the frame columns ``keep`` (player-match rows
    joined with their match; the Elo recorded per match) and the selected columns."""
    from sqlalchemy import select

    from core.db.schema import EloHistory, Match, MatchPlayer

    needed = _needed(keep)
    mp = MatchPlayer.__table__.c
    m = Match.__table__.c
    sources: dict[str, Any] = {
        c.name: c for c in MatchPlayer.__table__.columns if c.name not in ("map", "finished_at")
    }
    sources |= {
        "player_map": mp.map.label("player_map"),
        "player_finished_at": mp.finished_at.label("player_finished_at"),
        "started_at": m.started_at,
        "finished_at": m.finished_at,
        "map": m.map,
        "rounds": m.rounds,
        "score": m.score,
        "faction1_score": m.faction1_score,
        "faction2_score": m.faction2_score,
        "winner_faction": m.winner_faction,
        "mates_elo": mates_elo_sql().label("mates_elo"),
    }
    selected = [column for name, column in sources.items() if name in needed]
    query = select(*selected).select_from(
        MatchPlayer.__table__.join(Match.__table__, mp.match_id == m.id)
    )
    e = EloHistory.__table__.c
    elo_query = select(e.player_id, e.match_id, e.elo.label("elo_after")).where(
        e.match_id.is_not(None)
    )
    return query, elo_query, selected


def filter_conditions(flt: MatchFilter) -> list[Any]:
    """The SQL conditions of the parts of ``flt`` that SQL answers the same on SQLite and
    PostgreSQL (date range, map, team, result) on the queries of :func:`queries` and
    :func:`sorted_query` (both read ``match_players`` joined with ``matches``): :func:`load`
    sends them so that a filtered view reads only the rows it keeps. Weekday and hour stay
    with models.filters.apply, the one definition, which :func:`load` applies after them (on
    rows these conditions kept, it keeps the same ones)."""
    from datetime import time, timedelta

    from sqlalchemy import func

    from core.db.schema import Match, MatchPlayer

    mp = MatchPlayer.__table__.c
    m = Match.__table__.c
    # the frame's ts: the match's start, else the player's end, else the match's end
    start = func.coalesce(m.started_at, mp.finished_at, m.finished_at)
    conditions: list[Any] = []
    if flt.since is not None:
        conditions.append(start >= datetime.combine(flt.since, time(), UTC))
    if flt.until is not None:
        conditions.append(start < datetime.combine(flt.until + timedelta(days=1), time(), UTC))
    if flt.map:
        conditions.append(func.coalesce(mp.map, m.map).in_(list(flt.map)))
    if flt.team is not None:
        conditions.append(mp.premade.is_(flt.team == "premade"))
    if flt.result is not None:
        conditions.append(mp.result.is_(flt.result == "win"))
    return conditions


def sorted_query(
    keep: Sequence[str], *, whole_matches: bool = True
) -> tuple[Any, dict[str, pl.DataType]]:
    """The one SELECT :func:`load` runs on PostgreSQL for the frame columns ``keep`` (but
    ``elo_before``, which no stored row knows), and the schema it is read with: player-match
    rows joined with their match and their Elo point, every derived column (``finished_at``,
    ``map``, ``ts``, ``team``, ``extended``) computed by the server, so the client parses the
    frame as it is returned. The rows are to be read sorted by ``player_id``, ``ts``,
    ``match_id`` (core.db.columnar.read_frame's ``sort``). bench/train_load.py runs it raw.

    ``whole_matches``: the query will keep every row of each match it keeps (no player or
    filter condition), so ``mates_elo`` is a window over the faction's rows (one pass; the
    per-row subquery of :func:`mates_elo_sql` costs ~15 s per million rows)."""
    from sqlalchemy import BigInteger, SmallInteger, cast, extract, func, select

    from core.db.schema import EloHistory, Match, MatchPlayer

    mp = MatchPlayer.__table__.c
    m = Match.__table__.c
    e = EloHistory.__table__.c
    finished = func.coalesce(mp.finished_at, m.finished_at)
    derived: dict[str, Any] = {
        "finished_at": finished,
        "map": func.coalesce(mp.map, m.map),
        # epoch seconds, floored as polars' dt.epoch("s") does
        "ts": cast(func.floor(extract("epoch", func.coalesce(m.started_at, finished))), BigInteger),
        "team": cast(func.substring(mp.faction, "[0-9]+"), SmallInteger),
        "extended": mp.entry_count.is_not(None),
        "elo_after": e.elo,
        "mates_elo": _mates_elo_window(e.elo, mp) if whole_matches else mates_elo_sql(),
        **{c: m[c] for c in ("started_at", "rounds", "score", "faction1_score", "faction2_score",
                              "winner_faction")},
    }  # fmt: skip
    names = [c for c in keep if c != "elo_before"]
    selected = [(derived[c] if c in derived else mp[c]).label(c) for c in names]
    joined = MatchPlayer.__table__.join(Match.__table__, mp.match_id == m.id)
    if {"elo_after", "mates_elo"} & set(names):  # (player_id, match_id) is unique there
        joined = joined.outerjoin(
            EloHistory.__table__, (e.player_id == mp.player_id) & (e.match_id == mp.match_id)
        )
    return select(*selected).select_from(joined), {c: HISTORY_SCHEMA[c] for c in names}


def load(
    session: Session,
    players: Sequence[str] | None = None,
    *,
    matches: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    flt: MatchFilter | None = None,
) -> pl.DataFrame:
    """The stored history: every row of ``players`` (ids), or every row of ``matches`` (all
    ten players of each), or everything when neither is given; only ``columns`` (see
    :func:`columns_for`) when given, read and typed as narrow as the schema says; only the
    rows the filter ``flt`` keeps when given (models.filters.apply of the whole history: the
    filter's SQL conditions, :func:`filter_conditions`, and then ``apply`` itself, so the
    database sends only kept rows).

    On PostgreSQL one query (:func:`sorted_query`) joins, derives and sorts on the server and
    the COPY stream is parsed column-wise in bounded pieces (core.db.columnar), so a whole
    league loads without a Python object per row, memory holds the frame plus a few pieces,
    and a projection costs only the columns it keeps. Elsewhere (SQLite) the rows come
    through the driver and polars joins, derives and sorts (:func:`load_joined`)."""
    return _filtered(session, players, matches, columns, flt, joined=False)


def load_joined(
    session: Session,
    players: Sequence[str] | None = None,
    *,
    matches: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    flt: MatchFilter | None = None,
) -> pl.DataFrame:
    """:func:`load` on any backend, the portable way: the rows and their Elo points read by two
    queries (:func:`queries`), joined, derived and sorted by polars. The same frame as
    :func:`load`'s (tests/features/test_history_loader.py compares them), at the cost of a copy
    of the frame per join and sort: the SQLite set-up's loader, and the reference for the
    PostgreSQL one."""
    return _filtered(session, players, matches, columns, flt, joined=True)


def _filtered(
    session: Session,
    players: Sequence[str] | None,
    matches: Sequence[str] | None,
    columns: Sequence[str] | None,
    flt: MatchFilter | None,
    *,
    joined: bool,
) -> pl.DataFrame:
    keep = columns_for(columns)
    if flt is None or not flt.active:
        return _load(session, players, matches, keep, None, joined=joined)
    from models import filters

    wider = columns_for([*keep, *filters.COLUMNS])
    frame = _load(session, players, matches, wider, flt, joined=joined)
    return filters.apply(frame, flt).select(keep)


def _load(
    session: Session,
    players: Sequence[str] | None,
    matches: Sequence[str] | None,
    keep: list[str],
    flt: MatchFilter | None,
    *,
    joined: bool = False,
) -> pl.DataFrame:
    """The rows the database sends for ``keep`` under ``flt``'s SQL conditions (before
    models.filters.apply), the server-sorted way on PostgreSQL unless ``joined``."""
    if (players is not None and not players) or (matches is not None and not matches):
        return empty().select(keep)
    if joined or session.connection().dialect.name != "postgresql":
        return _load_joined(session, players, matches, keep, flt)
    return _load_sorted(session, players, matches, keep, flt)


def _load_sorted(
    session: Session,
    players: Sequence[str] | None,
    matches: Sequence[str] | None,
    keep: list[str],
    flt: MatchFilter | None,
) -> pl.DataFrame:
    from core.db.columnar import read_frame
    from core.db.schema import MatchPlayer

    query, wire = sorted_query(keep, whole_matches=players is None and flt is None)
    if flt is not None:
        query = query.where(*filter_conditions(flt))
    mp = MatchPlayer.__table__.c
    if players is not None:
        query = query.where(mp.player_id.in_(list(dict.fromkeys(players))))
    if matches is not None:
        query = query.where(mp.match_id.in_(list(dict.fromkeys(matches))))
    frame = read_frame(session, query, wire, sort=SORT)
    if "elo_before" in keep:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("elo_before"))
    return frame.select(keep)


def _load_joined(
    session: Session,
    players: Sequence[str] | None,
    matches: Sequence[str] | None,
    keep: list[str],
    flt: MatchFilter | None,
) -> pl.DataFrame:
    from core.db.columnar import read_frame, schema_of
    from core.db.schema import EloHistory, MatchPlayer

    needed = _needed(keep)
    query, elo_query, selected = queries(keep)
    if flt is not None:
        query = query.where(*filter_conditions(flt))
    mp = MatchPlayer.__table__.c
    e = EloHistory.__table__.c
    if players is not None:
        ids = list(dict.fromkeys(players))
        if not ids:
            return empty().select(keep)
        query = query.where(mp.player_id.in_(ids))
        elo_query = elo_query.where(e.player_id.in_(ids))
    if matches is not None:
        match_ids = list(dict.fromkeys(matches))
        if not match_ids:
            return empty().select(keep)
        query = query.where(mp.match_id.in_(match_ids))
        elo_query = elo_query.where(e.match_id.in_(match_ids))
    # the schema's own (narrow) types on the wire: no Int64 copy of every count
    wire = {
        name: HISTORY_SCHEMA.get(name, dtype) if name != "finished_at" else dtype
        for name, dtype in schema_of(selected).items()
    }
    rows = read_frame(session, query, wire)
    if "elo_after" in keep:
        elo = read_frame(
            session,
            elo_query,
            {"player_id": pl.String(), "match_id": pl.String(), "elo_after": pl.Int64()},
        ).unique(["player_id", "match_id"], keep="last")
        rows = rows.join(elo, on=["player_id", "match_id"], how="left")
    derived: list[pl.Expr] = []
    if "finished_at" in needed:
        derived.append(pl.coalesce("player_finished_at", "finished_at").alias("finished_at"))
    if "map" in keep:
        derived.append(pl.coalesce("player_map", "map").alias("map"))
    if "extended" in keep:
        derived.append(pl.col("entry_count").is_not_null().alias("extended"))
    if "elo_before" in keep:
        derived.append(pl.lit(None, dtype=pl.Int64).alias("elo_before"))
    return _finish(rows.with_columns(derived) if derived else rows, keep)


def load_elo(session: Session, players: Sequence[str]) -> pl.DataFrame:
    """Elo history points of ``players``, oldest first per player (:data:`ELO_SCHEMA`)."""
    from sqlalchemy import select

    from core.db.columnar import read_frame
    from core.db.schema import EloHistory

    ids = list(dict.fromkeys(players))
    if not ids:
        return pl.DataFrame(schema=ELO_SCHEMA)
    e = EloHistory.__table__.c
    query = (
        select(e.player_id, e.match_id, e.elo, e.recorded_at, e.estimated)
        .where(e.player_id.in_(ids))
        .order_by(e.player_id, e.recorded_at, e.id)
    )
    frame = read_frame(session, query, {**ELO_SCHEMA, "elo": pl.Int64()})
    return frame.with_columns(pl.col("elo").cast(pl.Int32)).sort(
        "player_id", "recorded_at", maintain_order=True
    )


def data_watermark(session: Session, player_id: str) -> datetime | None:
    """The newest ``finished_at`` among the player's stored matches (a cache-key watermark)."""
    from sqlalchemy import func, select

    from core.db.schema import Match, MatchPlayer

    mp = MatchPlayer.__table__.c
    m = Match.__table__.c
    query = (
        select(func.max(func.coalesce(mp.finished_at, m.finished_at)), func.count())
        .select_from(MatchPlayer.__table__.join(Match.__table__, mp.match_id == m.id))
        .where(mp.player_id == player_id)
    )
    newest, count = session.execute(query).one()
    return None if newest is None or not count else to_utc(newest)


@functools.cache
def _serving_watermarks_query() -> Any:
    """The statement of :func:`serving_watermarks`, built once (an immutable SQL expression
    with an expanding ``ids`` parameter): building it per call cost a served prediction more
    CPU than running it."""
    from sqlalchemy import bindparam, func, select

    from core.db.schema import EloHistory, MatchPlayer, Player

    mp = MatchPlayer.__table__.c
    e = EloHistory.__table__.c
    p = Player.__table__.c
    ids: Any = bindparam("ids", expanding=True)
    # the (player_id, finished_at) index answers this alone: no join to matches per row
    played = (
        select(
            mp.player_id,
            func.count().label("n"),
            func.max(mp.finished_at).label("newest"),
        )
        .where(mp.player_id.in_(ids))
        .group_by(mp.player_id)
        .subquery()
    )
    elo = (
        select(
            e.player_id,
            func.count().label("n"),
            func.sum(e.elo).label("total"),
            func.sum(e.elo * e.id).label("weighted"),
        )
        .where(e.player_id.in_(ids))
        .group_by(e.player_id)
        .subquery()
    )
    return (
        select(
            p.id,
            p.faceit_elo,
            played.c.n,
            played.c.newest,
            elo.c.n,
            elo.c.total,
            elo.c.weighted,
        )
        .select_from(
            Player.__table__.outerjoin(played, played.c.player_id == p.id).outerjoin(
                elo, elo.c.player_id == p.id
            )
        )
        .where(p.id.in_(ids))
    )


def serving_watermarks(session: Session, player_ids: Sequence[str]) -> dict[str, str]:
    """Per player, a token that changes whenever the inputs of the player's served features
    change: the count and newest ``finished_at`` of the stored match rows, the count, sum and
    row-weighted sum of the Elo points (estimated points are rewritten in place by a sync) and
    the profile's Elo. One query for all ``player_ids``; unknown ids are left out."""
    ids = list(dict.fromkeys(player_ids))
    if not ids:
        return {}
    query = _serving_watermarks_query()
    out: dict[str, str] = {}
    rows = session.execute(query, {"ids": ids})
    for pid, faceit_elo, n, newest, elo_n, total, weighted in rows:
        newest_token = to_utc(newest).isoformat() if newest is not None else "none"
        out[pid] = f"{n or 0}|{newest_token}|{elo_n or 0}|{total or 0}|{weighted or 0}|{faceit_elo}"
    return out


GroupState = tuple[datetime | None, int, int]
"""A peer group's data watermark: (newest stored match, players with a match, their rows)."""


def peer_group_states(
    session: Session, level: int | None = None
) -> dict[tuple[int, str | None], GroupState]:
    """The data watermark (:data:`GroupState`) of every (level, region) of the stored players
    (of one level when given; region None: the profile has none), from one aggregate query
    over ``match_players`` alone (its (player, finished_at) index, no join with ``matches``):
    the newest ``finished_at`` of the players' rows, the players with a stored match and their
    player-match rows. models/peers.py compares it with the peer table's rows, so a new match,
    a new player or a player changing level makes their groups stale."""
    from sqlalchemy import func, select

    from core.crud import level_expression
    from core.db.schema import MatchPlayer, Player

    mp = MatchPlayer.__table__.c
    level_of = level_expression().label("level")
    query = (
        select(
            level_of,
            Player.region,
            func.max(mp.finished_at),
            func.count(func.distinct(mp.player_id)),
            func.count(),
        )
        .select_from(Player)
        .join(MatchPlayer.__table__, mp.player_id == Player.id)
        .group_by(level_of, Player.region)
    )
    if level is not None:
        query = query.where(level_expression() == level)
    out: dict[tuple[int, str | None], GroupState] = {}
    for lv, region, newest, members, rows in session.execute(query):
        if lv is None:
            continue
        key = (int(lv), region or None)
        state = (None if newest is None else to_utc(newest), int(members), int(rows))
        if key in out:  # "" and NULL regions are one group
            old = out[key]
            newer = max((t for t in (old[0], state[0]) if t is not None), default=None)
            state = (newer, old[1] + state[1], old[2] + state[2])
        out[key] = state
    return out


def to_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# ---- from the demo league ------------------------------------------------------------------

_LEAGUE_RENAMES = {
    "clutch_1v1_count": "one_v_one_count",
    "clutch_1v1_wins": "one_v_one_wins",
    "clutch_1v2_count": "one_v_two_count",
    "clutch_1v2_wins": "one_v_two_wins",
}


def from_league(league: Any) -> pl.DataFrame:
    """The history of a ``core.demo_league`` League, as the database would hold it after an
    ingest (extended stats null on the league's legacy matches), plus the true ``elo_before``
    the league knows."""
    mp = league.match_players_frame()
    mp = mp.rename({k: v for k, v in _LEAGUE_RENAMES.items() if k in mp.columns})
    matches = league.matches_frame().select(
        "match_id",
        "map",
        "started_at",
        pl.col("finished_at").alias("match_finished_at"),
        "winner",
        "score1",
        "score2",
        "extended_stats",
        *(c for c in ("rounds",) if "rounds" not in mp.columns),
    )
    frame = mp.drop([c for c in ("started_at", "finished_at") if c in mp.columns]).join(
        matches, on="match_id", how="left"
    )

    def stamp(column: str) -> pl.Expr:
        return pl.from_epoch(column, time_unit="s").dt.replace_time_zone("UTC")

    extended = pl.col("extended_stats").fill_null(True)
    kills = pl.col("kills").cast(pl.Float64)
    frame = frame.with_columns(
        stamp("started_at").alias("started_at"),
        stamp("match_finished_at").alias("finished_at"),
        pl.format("faction{}", pl.col("faction")).alias("faction"),
        pl.col("result").cast(pl.Boolean),
        pl.col("winner").alias("winner_faction"),
        pl.col("score1").alias("faction1_score"),
        pl.col("score2").alias("faction2_score"),
        pl.format("{} / {}", "score1", "score2").alias("score"),
        extended.alias("extended"),
        *(
            pl.when(extended).then(pl.col(c)).alias(c)
            for c in EXTENDED_COUNTS
            if c in frame.columns
        ),
    )
    frame = frame.with_columns(
        pl.when(pl.col("rounds") > 0)
        .then(pl.col("damage") / pl.col("rounds"))
        .round(1)
        .alias("adr"),
        pl.when(kills > 0)
        .then(100.0 * pl.col("headshots") / kills)
        .otherwise(0.0)
        .round(0)
        .alias("headshots_pct"),
        (kills / pl.col("deaths").clip(lower_bound=1)).round(2).alias("kd_ratio"),
        pl.when(pl.col("rounds") > 0).then(kills / pl.col("rounds")).round(2).alias("kr_ratio"),
    )
    return _finish(with_mates_elo(frame))


def with_mates_elo(frame: pl.DataFrame) -> pl.DataFrame:
    """``mates_elo`` from the frame's own rows (``elo_after``, ``result``, ``faction``): the
    definition of :func:`mates_elo_sql` for a frame that holds every player of its matches
    (the demo league's)."""
    group = ["match_id", "faction"]
    pre = pre_match_elo(pl.col("elo_after"), pl.col("result")).cast(pl.Float64)
    mates = pl.col("_pre").count().over(group) - pl.col("_pre").is_not_null().cast(pl.UInt32)
    total = pl.col("_pre").sum().over(group) - pl.col("_pre").fill_null(0.0)
    return (
        frame.with_columns(pre.alias("_pre"))
        .with_columns(pl.when(mates > 0).then(total / mates).alias("mates_elo"))
        .drop("_pre")
    )


# ---- shared finishing ----------------------------------------------------------------------


def _finish(frame: pl.DataFrame, keep: Sequence[str] | None = None) -> pl.DataFrame:
    """Derived columns computed once (``ts``, ``team``), the ``keep`` columns of the schema
    (all by default) in their dtypes (absent ones null), sorted."""
    start = pl.coalesce("started_at", "finished_at")
    derived = [start.dt.epoch("s").alias("ts")]
    if "faction" in frame.columns:
        derived.append(pl.col("faction").str.extract(r"(\d+)").cast(pl.Int8).alias("team"))
    frame = frame.with_columns(derived)
    cols = [
        pl.col(c).cast(HISTORY_SCHEMA[c])
        if c in frame.columns
        else pl.lit(None, dtype=HISTORY_SCHEMA[c]).alias(c)
        for c in (keep or HISTORY_SCHEMA)
    ]
    return frame.select(cols).sort(SORT)
