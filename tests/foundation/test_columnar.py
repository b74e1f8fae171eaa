"""core.db.columnar: a column-wise load gives exactly the frame the driver's rows give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from core.db.columnar import read_frame
from core.db.schema import Match, MatchPlayer

HOSTILE = [
    "plain",
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "\\N",  # the NULL marker as text: must stay text
    "\\n literally",
    "",
    "quote \" and ' and ,",
    "ünïcødé ✓ 🎯",
    "\b\f\v controls",
    None,
]

SCHEMA: dict[str, pl.DataType] = {
    "match_id": pl.String(),
    "player_id": pl.String(),
    "nickname": pl.String(),
    "result": pl.Boolean(),
    "premade": pl.Boolean(),
    "kills": pl.Int64(),
    "adr": pl.Float64(),
    "finished_at": pl.Datetime("us", "UTC"),
}


def fill(session: Session, players: int) -> None:
    start = datetime(2024, 7, 31, 23, 59, 59, 123456, tzinfo=UTC)
    session.add(Match(id="m1", map="de_mirage", finished_at=start))
    for i in range(players):
        session.add(
            MatchPlayer(
                match_id="m1",
                player_id=f"p{i:04d}",
                nickname=HOSTILE[i % len(HOSTILE)],
                faction="faction1",
                result=i % 2 == 0,
                premade=None if i % 3 == 0 else i % 3 == 1,
                kills=i,
                deaths=1,
                assists=0,
                headshots=0,
                headshots_pct=0.0,
                mvps=0,
                kd_ratio=1.0,
                kr_ratio=0.1,
                adr=None if i % 4 == 0 else 0.1 + i / 3,  # floats that need every digit
                finished_at=None if i % 5 == 0 else start + timedelta(seconds=i),
            )
        )
    session.commit()


def statement(ids: list[str] | None = None) -> object:
    c = MatchPlayer.__table__.c
    query = select(*(c[name].label(name) for name in SCHEMA)).order_by(c.player_id)
    return query if ids is None else query.where(c.player_id.in_(ids))


def driver_frame(session: Session, query: object) -> pl.DataFrame:
    rows = session.execute(query).all()  # type: ignore[call-overload]
    return pl.DataFrame([tuple(r) for r in rows], schema=SCHEMA, orient="row")


@pytest.mark.parametrize("chunk_bytes", [64, 1 << 20])
def test_a_columnar_load_equals_the_driver_rows(engine: Engine, chunk_bytes: int) -> None:
    with Session(engine) as session:
        fill(session, 60)
        query = statement()
        expected = driver_frame(session, query)
        got = read_frame(session, query, SCHEMA, chunk_bytes=chunk_bytes)  # type: ignore[arg-type]
    assert got.schema == pl.Schema(SCHEMA)
    assert got.height == 60
    assert got.equals(expected, null_equal=True), got.filter(
        ~pl.all_horizontal(pl.col(c).eq_missing(expected[c]) for c in SCHEMA)
    )
    # the hostile strings came back as they were written, NULL distinct from "" and from "\N"
    assert got["nickname"].head(len(HOSTILE)).to_list() == HOSTILE


def test_parameters_and_an_empty_result(engine: Engine) -> None:
    with Session(engine) as session:
        fill(session, 12)
        some = read_frame(session, statement(["p0003", "p0007", "x' OR 1=1 --"]), SCHEMA)  # type: ignore[arg-type]
        none = read_frame(session, statement(["nobody"]), SCHEMA)  # type: ignore[arg-type]
    assert some["player_id"].to_list() == ["p0003", "p0007"]
    assert none.height == 0 and none.schema == pl.Schema(SCHEMA)


def test_sorted_by_the_server_as_polars_sorts(engine: Engine) -> None:
    # nicknames with NULL, "", upper/lower case and non-ASCII: byte order, nulls first, on
    # every backend and whatever the database's collation
    with Session(engine) as session:
        fill(session, 36)
        query = statement()
        expected = driver_frame(session, query).sort("nickname", "finished_at", "player_id")
        got = read_frame(
            session,
            query,  # type: ignore[arg-type]
            SCHEMA,
            sort=("nickname", "finished_at", "player_id"),
            chunk_bytes=64,
        )
        with pytest.raises(ValueError, match="sort columns not in the schema"):
            read_frame(session, query, SCHEMA, sort=("password",))  # type: ignore[arg-type]
    assert got.equals(expected, null_equal=True)
    assert got["nickname"][0] is None
