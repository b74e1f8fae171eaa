"""Query results as polars frames, column-wise: no Python object per row on PostgreSQL.

A product that tracks 100k players holds ~100M player-match rows; building frames from driver
rows (a tuple and a Python object per value) only works at demo scale. ``read_frame`` runs the
query as ``COPY (query) TO STDOUT`` on the session's own connection (same transaction, same
search_path) and lets polars parse the stream in bounded chunks, so memory holds the frame plus
one chunk and the work is in Rust.

Why COPY's text format and not binary: polars parses delimited text natively and in parallel,
while PostgreSQL's binary format would have to be decoded value by value in Python. The text
format is unambiguous: a row always ends with a newline (newlines, tabs and backslashes inside
values are backslash-escaped), NULL is ``\\N``, and text values carry a one-letter prefix so an
empty string is never read as NULL. Timestamps travel as epoch microseconds and
booleans as 0/1, so neither the server's TimeZone nor its DateStyle matters.

Other backends (SQLite in the embedded default set-up) read through the driver.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import ColumnElement, Select, TypeDecorator
from sqlalchemy import types as sa_types
from sqlalchemy.orm import Session

CHUNK_BYTES = 32 << 20
"""Bytes of COPY output parsed at a time: the memory a load needs beyond its frame."""

# COPY's text format escapes these as a backslash and a letter (and a backslash as two)
_ESCAPES = (
    ("\\b", "\b"),
    ("\\f", "\f"),
    ("\\n", "\n"),
    ("\\r", "\r"),
    ("\\t", "\t"),
    ("\\v", "\v"),
)


def _unescape(column: pl.Series) -> pl.Series:
    """COPY text escapes undone, vectorised (NUL cannot occur in PostgreSQL text: a safe
    stand-in for an escaped backslash while the others are replaced)."""
    out = column.str.replace_all("\\\\", "\x00", literal=True)
    for escaped, plain in _ESCAPES:
        out = out.str.replace_all(escaped, plain, literal=True)
    return out.str.replace_all("\x00", "\\", literal=True)


def _wire_type(dtype: pl.DataType) -> pl.DataType:
    """What a column of ``dtype`` is parsed as from the COPY text."""
    if isinstance(dtype, pl.Datetime) or dtype == pl.Boolean:
        return pl.Int64()
    return dtype


def _select_list(schema: Mapping[str, pl.DataType]) -> str:
    columns = []
    for name, dtype in schema.items():
        quoted = '"' + name.replace('"', '""') + '"'
        if isinstance(dtype, pl.Datetime):
            columns.append(f"(extract(epoch from q.{quoted}) * 1000000)::bigint")
        elif dtype == pl.Boolean:
            columns.append(f"q.{quoted}::int")
        elif dtype == pl.String:  # "s" || NULL is NULL: an empty field is then never NULL
            columns.append(f"'s' || q.{quoted}")
        else:
            columns.append(f"q.{quoted}")
    return ", ".join(columns)


def _finish(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    casts: list[pl.Expr | pl.Series] = []
    for name, dtype in schema.items():
        if isinstance(dtype, pl.Datetime):
            stamp = pl.from_epoch(name, time_unit="us")
            if dtype.time_zone:
                stamp = stamp.dt.replace_time_zone("UTC").dt.convert_time_zone(dtype.time_zone)
            casts.append(stamp.cast(dtype).alias(name))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Boolean))
        elif dtype == pl.String:
            text = frame[name].str.slice(1)
            if text.str.contains("\\", literal=True).any():
                text = _unescape(text)
            casts.append(text)
    return frame.with_columns(casts) if casts else frame


def _parse(data: bytes, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    if not data:
        return pl.DataFrame(schema=dict(schema))
    wire = {name: _wire_type(dtype) for name, dtype in schema.items()}
    frame = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator="\t",
        quote_char=None,
        null_values="\\N",
        schema=wire,
    )
    return _finish(frame, schema)


def polars_type(column: ColumnElement[Any]) -> pl.DataType:
    """The polars type a column of the product's schema loads as (integers as Int64, the
    loaders' convention; our UTC datetimes as Datetime("us", "UTC"))."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa_types.Boolean):
        return pl.Boolean()
    if isinstance(kind, sa_types.Integer):
        return pl.Int64()
    if isinstance(kind, sa_types.Float | sa_types.Numeric):
        return pl.Float64()
    if isinstance(kind, sa_types.DateTime):
        return pl.Datetime("us", "UTC")
    if isinstance(kind, sa_types.String):
        return pl.String()
    raise TypeError(f"no polars type for column {column} of type {column.type!r}")


def schema_of(columns: Sequence[ColumnElement[Any]]) -> dict[str, pl.DataType]:
    """``{name: polars type}`` of labelled or table columns, in their order."""
    return {str(c.key): polars_type(c) for c in columns}


def read_frame(
    session: Session,
    statement: Select[Any],
    schema: Mapping[str, pl.DataType],
    *,
    chunk_bytes: int = CHUNK_BYTES,
) -> pl.DataFrame:
    """The rows of ``statement`` as a frame with exactly ``schema`` (the statement's columns,
    labelled with the schema's names, in its order)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        rows = connection.execute(statement).all()
        return pl.DataFrame(
            [tuple(r) for r in rows], schema=dict(schema), orient="row", infer_schema_length=None
        )
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    # the column names come from code (the schema), quoted; values are bound by psycopg
    sql = f"COPY (SELECT {_select_list(schema)} FROM ({compiled}) AS q) TO STDOUT"  # noqa: S608
    frames: list[pl.DataFrame] = []
    buffer = bytearray()
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(sql, compiled.params) as copy:
        for data in copy:
            buffer += data
            if len(buffer) >= chunk_bytes:
                cut = buffer.rfind(b"\n") + 1
                frames.append(_parse(bytes(buffer[:cut]), schema))
                del buffer[:cut]
    if buffer or not frames:
        frames.append(_parse(bytes(buffer), schema))
    return pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]
